"""Behaviour specific to each model-based algorithm, beyond the shared conformance."""

from __future__ import annotations

import numpy as np

from kubetune.search.base import Observation, Suggester
from kubetune.search.bayesian import history_window
from kubetune.search.gaussian_process import log_expected_improvement
from kubetune.search.registry import make_suggester
from kubetune.search.space import Assignment, FloatParam, SearchSpace

PLANE = SearchSpace((FloatParam("x", -5.0, 5.0), FloatParam("y", -5.0, 5.0)))


def quadratic(params: Assignment) -> float:
    return (float(params["x"]) - 1.3) ** 2 + 3 * (float(params["y"]) + 0.7) ** 2


def best_after(suggester: Suggester, trials: int, seed: int) -> float:
    history: list[Observation] = []
    for _ in range(trials):
        (params,) = suggester.suggest(PLANE, history, [], 1, seed).assignments
        history.append(Observation(params, quadratic(params)))
    return min(o.value for o in history)


def test_bayesian_beats_random_search_on_a_quadratic() -> None:
    for seed in range(2):
        model_based = best_after(make_suggester("bayesian"), 18, seed)
        assert model_based < 0.1 * best_after(make_suggester("random"), 18, seed)


def test_tpe_beats_random_search_on_a_quadratic() -> None:
    tpe = [best_after(make_suggester("tpe"), 40, seed) for seed in range(3)]
    uniform = [best_after(make_suggester("random"), 40, seed) for seed in range(3)]
    assert np.median(tpe) < np.median(uniform)


def test_a_parallel_batch_is_spread_out_not_clustered() -> None:
    rng = np.random.default_rng(0)
    points = [{"x": float(x), "y": float(y)} for x, y in rng.uniform(-5, 5, (12, 2))]
    history = [Observation(p, quadratic(p)) for p in points]
    batch = make_suggester("bayesian").suggest(PLANE, history, [], 4, seed=0).assignments
    xy = np.array([[a["x"], a["y"]] for a in batch])
    gaps = np.linalg.norm(xy[:, None] - xy[None, :], axis=2)[np.triu_indices(4, 1)]
    assert gaps.min() > 0.05


def test_log_expected_improvement_is_finite_and_ordered_far_from_the_incumbent() -> None:
    means = np.array([0.0, 10.0, 40.0, 80.0])
    log_ei = log_expected_improvement(means, np.ones(4), best=0.0)
    assert np.all(np.isfinite(log_ei)) and np.all(np.diff(log_ei) < 0)
    exact = np.log(1 / np.sqrt(2 * np.pi))  # EI at z = 0 is phi(0) * sigma
    assert np.isclose(log_ei[0], exact)


def test_history_window_keeps_the_best_half_and_samples_the_rest() -> None:
    values = np.arange(1000, dtype=np.float64)[::-1]
    window = history_window(values, 300, np.random.default_rng(0))
    assert len(set(window.tolist())) == 300
    assert set(range(850, 1000)) <= set(window.tolist())  # indices of the 150 lowest values
