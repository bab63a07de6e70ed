"""Several objectives and constraints: what the searches do with them, end to end.

Small problems with a known answer, run for a few trials at fixed seeds: the search must
land where only the objectives and constraints together point.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from kubetune.search.base import Observation
from kubetune.search.gaussian_process import Warp
from kubetune.search.history import EncodedHistory, preference_order, standing
from kubetune.search.pareto import derived_reference, front_reference, hypervolume
from kubetune.search.registry import make_suggester, settings_of
from kubetune.search.space import Assignment, FloatParam, SearchSpace
from kubetune.search.surrogates import Targets, search_reference, search_targets

SQUARE = SearchSpace((FloatParam("x", 0.0, 1.0), FloatParam("y", 0.0, 1.0)))
Outcome = tuple[tuple[float, ...], tuple[float, ...]]


def run(
    name: str,
    evaluate: Callable[[Assignment], Outcome],
    trials: int,
    reference: tuple[float, ...] | None = None,
) -> list[Observation]:
    suggester, history = make_suggester(name, reference), []
    for _ in range(trials):
        params = suggester.suggest(SQUARE, history, [], 1, seed=3).assignments[0]
        values, violations = evaluate(params)
        history.append(Observation(params, values[0], values[1:], violations))
    return history


def above_a_floor(params: Assignment) -> Outcome:
    """Minimize x, feasible only for x >= 0.6: the answer is the bound, not 0."""
    return (float(params["x"]) + 0.1 * float(params["y"]),), (0.6 - float(params["x"]),)


def small_disc(params: Assignment) -> Outcome:
    """Minimize x + y, feasible only in a disc of radius 0.12 around (0.8, 0.75)."""
    x, y = float(params["x"]), float(params["y"])
    return (x + y,), (float(np.hypot(x - 0.8, y - 0.75)) - 0.12,)


def trade_off(params: Assignment) -> Outcome:
    """Two objectives in conflict along x; y only hurts both: the front is y = 0."""
    x, y = float(params["x"]), float(params["y"])
    return (x + y, (1 - x) ** 2 + y), ()


def test_the_constrained_optimum_is_the_bound_not_the_infeasible_minimum() -> None:
    history = run("bayesian", above_a_floor, 16)
    feasible = [o.value for o in history if o.feasible]
    assert min(feasible) < 0.66
    late = [float(o.params["x"]) for o in history[-6:]]
    assert np.median(late) > 0.5  # an unconstrained search would head for x = 0


def test_with_nothing_feasible_yet_the_violation_is_driven_to_zero() -> None:
    found = run("bayesian", small_disc, 18)
    assert any(o.feasible for o in found)
    start = run("random", small_disc, 18)  # the disc covers under 5% of the square
    assert sum(o.feasible for o in found) > sum(o.feasible for o in start)


@pytest.mark.parametrize("name", ["bayesian", "tpe"])
def test_two_objectives_fill_the_front_better_than_random(name: str) -> None:
    def volume(history: list[Observation]) -> float:
        return hypervolume(np.array([o.values for o in history]), np.array([1.2, 1.2]))

    assert volume(run(name, trade_off, 16)) > volume(run("random", trade_off, 16))


def test_preference_puts_feasible_fronts_first_then_the_least_violated() -> None:
    objectives = np.array([[1.0, 1.0], [0.0, 0.0], [2.0, 0.5], [3.0, 3.0], [0.5, 2.0]])
    violations = np.array([[0.0], [2.0], [-1.0], [0.0], [0.5]])
    assert preference_order(objectives, violations).tolist() == [0, 2, 3, 4, 1]
    assert standing(objectives, violations).tolist() == [0, 4, 1, 2, 3]


def test_one_objective_without_constraints_is_ordered_by_value_ties_kept() -> None:
    values = np.array([[3.0], [1.0], [2.0], [1.0]])
    order = preference_order(values, np.zeros((4, 0)))
    assert order.tolist() == [1, 3, 2, 0]


def test_a_given_reference_point_keeps_the_search_where_it_counts() -> None:
    """Only x < 0.3 on the front of `trade_off` is inside (0.3, 1.2): with that reference
    the search refines that end; without one it spreads over the whole front."""
    given = [float(o.params["x"]) for o in run("bayesian", trade_off, 18, (0.3, 1.2))[-8:]]
    derived = [float(o.params["x"]) for o in run("bayesian", trade_off, 18)[-8:]]
    assert np.mean(np.array(given) < 0.3) >= 0.75
    assert np.mean(np.array(derived) < 0.3) <= 0.5


def test_the_reference_point_reaches_only_the_algorithms_that_use_one() -> None:
    bayesian = make_suggester("bayesian", [1, 2.5])
    assert bayesian.reference_point == (1.0, 2.5)  # type: ignore[attr-defined]
    assert make_suggester("tpe", [1.0, 2.5]) == make_suggester("tpe")
    assert "reference_point" not in settings_of("bayesian")  # from the spec, not a setting


def test_a_reference_point_is_warped_with_the_values_it_is_compared_to() -> None:
    values = np.array([0.0, 1.0, 2.0, 3.0, 50.0])
    warp = Warp.of(values)
    mapped = warp(np.append(values, 60.0))
    assert np.all(np.diff(mapped) > 0)  # monotone, so dominance and the box are kept
    targets = Targets(values[:, None], np.zeros((5, 0)), np.array([60.0])).window(np.arange(5))
    assert targets.reference is not None and targets.reference[0] == pytest.approx(mapped[-1])


def test_without_a_given_reference_the_search_measures_from_the_status_reference() -> None:
    history = EncodedHistory(
        finished=np.zeros((3, 1)),
        objectives=np.array([[0.0, 4.0], [1.0, 1.0], [9.0, 0.0]]),
        violations=np.array([[0.0], [0.0], [5.0]]),  # the last is infeasible: not counted
        pending=np.zeros((0, 1)),
    )
    derived = search_targets(history, None).reference
    assert derived is not None and derived.tolist() == pytest.approx([1.1, 4.3])
    given = search_targets(history, np.array([2.0, 5.0])).reference
    assert given is not None and given.tolist() == [2.0, 5.0]


def test_with_three_objectives_the_search_reference_hugs_the_front() -> None:
    # An octant of the unit sphere, an edge point far out (non-dominated: its first two
    # objectives are the smallest) and a dominated trial that sets the status's worst.
    rng = np.random.default_rng(0)
    sphere = np.abs(rng.normal(size=(20, 3)))
    sphere /= np.linalg.norm(sphere, axis=1, keepdims=True)
    trials = np.vstack([sphere, [[0.0, 0.0, 1.8], [1.9, 1.9, 1.9]]])
    status = derived_reference(trials.min(axis=0), trials.max(axis=0))
    hugging = search_reference(trials, None)
    assert hugging.tolist() == pytest.approx(front_reference(trials[:21]).tolist())
    assert np.all(hugging < 1.5) and np.all(hugging < status)
    assert search_reference(trials, np.array([1.1, 1.1, 1.1])).tolist() == [1.1, 1.1, 1.1]
    assert search_reference(trials[:, :2], None).tolist() == pytest.approx(status[:2].tolist())
