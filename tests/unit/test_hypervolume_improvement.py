"""Expected hypervolume improvement: the boxes, the closed form, and its ordering."""

from __future__ import annotations

import numpy as np
import pytest

from kubetune.search.gaussian_process import log_expected_improvement
from kubetune.search.hypervolume_improvement import (
    ImprovementRegion,
    expected_hypervolume_improvement,
    log_expected_hypervolume_improvement,
)
from kubetune.search.pareto import front_mask, hypervolume

FRONT_2D = np.array([[0.1, 0.8], [0.4, 0.4], [0.8, 0.1]])
REFERENCE_2D = np.array([1.0, 1.0])


def random_front(dims: int, seed: int) -> np.ndarray:
    points = np.random.default_rng(seed).random((40, dims))
    return points[front_mask(points)]


@pytest.mark.parametrize("dims", [2, 3])
def test_the_boxes_fill_exactly_what_the_front_leaves_of_the_reference_box(dims: int) -> None:
    front, reference = random_front(dims, dims), np.full(dims, 1.1)
    lower, upper = ImprovementRegion.of(front, reference).boxes()
    clipped = np.maximum(lower, 0.0)  # the front lies in [0, 1]^d: cut the open side there
    volume = np.prod(np.maximum(upper - clipped, 0.0), axis=1).sum()
    assert volume == pytest.approx(np.prod(reference) - hypervolume(front, reference))


@pytest.mark.parametrize("dims", [2, 3])
def test_certain_points_gain_exactly_their_hypervolume_improvement(dims: int) -> None:
    front, reference = random_front(dims, 5), np.full(dims, 1.1)
    points = np.random.default_rng(6).random((20, dims)) * 0.8
    gains = expected_hypervolume_improvement(points, np.full(points.shape, 1e-9), front, reference)
    base = hypervolume(front, reference)
    exact = [hypervolume(np.vstack([front, p]), reference) - base for p in points]
    assert gains == pytest.approx(exact, rel=1e-6, abs=1e-9)


def test_the_closed_form_matches_a_monte_carlo_estimate() -> None:
    rng = np.random.default_rng(7)
    front, reference = random_front(2, 11), np.full(2, 1.1)
    mean, std = np.full(2, 0.35), np.full(2, 0.15)
    samples = mean + std * rng.standard_normal((1000, 2))
    base = hypervolume(front, reference)
    gains = [hypervolume(np.vstack([front, s]), reference) - base for s in samples]
    exact = expected_hypervolume_improvement(mean[None], std[None], front, reference)[0]
    assert exact == pytest.approx(np.mean(gains), abs=4 * np.std(gains) / np.sqrt(len(gains)))


def test_a_point_dominated_by_the_front_scores_about_nothing() -> None:
    dominated = expected_hypervolume_improvement(
        np.array([[0.9, 0.9]]), np.full((1, 2), 0.01), FRONT_2D, REFERENCE_2D
    )
    assert dominated[0] < 1e-12


def test_extending_the_front_beats_filling_a_gap_in_it_beats_staying_behind() -> None:
    means = np.array([[0.05, 0.05], [0.25, 0.6], [0.5, 0.5]])
    scores = log_expected_hypervolume_improvement(
        means, np.full((3, 2), 0.02), FRONT_2D, REFERENCE_2D
    )
    assert scores[0] > scores[1] > scores[2]
    assert np.all(np.isfinite(scores))


def test_one_objective_reduces_to_expected_improvement() -> None:
    means, stds = np.array([[0.3], [0.9]]), np.array([[0.2], [0.1]])
    front = np.array([[0.5], [0.7]])
    ehvi = log_expected_hypervolume_improvement(means, stds, front, np.array([2.0]))
    assert ehvi == pytest.approx(log_expected_improvement(means[:, 0], stds[:, 0], 0.5))


def test_an_empty_front_scores_the_whole_reference_box() -> None:
    gain = expected_hypervolume_improvement(
        np.array([[0.5, 0.5]]), np.full((1, 2), 1e-9), np.zeros((0, 2)), REFERENCE_2D
    )
    assert gain[0] == pytest.approx(0.25)
