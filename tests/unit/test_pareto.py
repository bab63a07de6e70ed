"""Pareto ranks and hypervolume against hand-worked cases and a Monte Carlo estimate."""

from __future__ import annotations

import numpy as np
import pytest

from kubetune.search.base import Observation
from kubetune.search.pareto import (
    Points,
    dominates,
    front_mask,
    front_reference,
    hypervolume,
    nondominated_ranks,
)


def test_dominance_needs_one_strict_improvement() -> None:
    assert dominates(np.array([1.0, 2.0]), np.array([1.0, 3.0]))
    assert not dominates(np.array([1.0, 2.0]), np.array([1.0, 2.0]))
    assert not dominates(np.array([0.0, 3.0]), np.array([1.0, 2.0]))


def test_ranks_peel_fronts_in_order() -> None:
    points = np.array([[1.0, 4.0], [2.0, 2.0], [4.0, 1.0], [3.0, 3.0], [4.0, 4.0], [5.0, 5.0]])
    assert nondominated_ranks(points).tolist() == [0, 0, 0, 1, 2, 3]
    assert front_mask(points).tolist() == [True, True, True, False, False, False]


def test_two_objective_area_by_hand() -> None:
    front = np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0], [3.5, 3.5]])
    # Staircase under (4, 4): 3*1 + 2*1 + 1*1 = 6; the dominated point adds nothing.
    assert hypervolume(front, np.array([4.0, 4.0])) == pytest.approx(6.0)


def test_points_beyond_the_reference_add_nothing() -> None:
    assert hypervolume(np.array([[5.0, 0.0], [0.0, 5.0]]), np.array([4.0, 4.0])) == 0.0
    assert hypervolume(np.zeros((0, 2)), np.array([1.0, 1.0])) == 0.0


@pytest.mark.parametrize("dims", [1, 2, 3, 4])
def test_hypervolume_matches_monte_carlo(dims: int) -> None:
    rng = np.random.default_rng(dims)
    points = rng.uniform(0.0, 1.0, size=(12, dims))
    reference = np.ones(dims)
    samples = rng.uniform(0.0, 1.0, size=(200_000, dims))
    covered = np.any(np.all(points[None, :, :] <= samples[:, None, :], axis=2), axis=1)
    assert hypervolume(points, reference) == pytest.approx(covered.mean(), abs=0.01)


def octant(angles: int) -> Points:
    """Points on the unit sphere where every coordinate is positive, a grid of angles."""
    polar, azimuth = np.meshgrid(*2 * [np.linspace(0.1, 1.4, angles)])
    sine = np.sin(polar.ravel())
    return np.column_stack(
        [sine * np.cos(azimuth.ravel()), sine * np.sin(azimuth.ravel()), np.cos(polar.ravel())]
    )


def test_a_front_reference_lies_past_the_bulk_of_the_front_not_its_edges() -> None:
    # The octant's points and three edge points far out on the axes, each non-dominated
    # at any distance because its other two objectives are the smallest.
    bulk = octant(5)
    front = np.vstack([bulk, 3.0 * np.eye(3)])
    reference = front_reference(front)
    spread = front.max(axis=0) - front.min(axis=0)
    shares = (np.percentile(front, 80, axis=0) - front.min(axis=0)) / spread
    expected = front.min(axis=0) + (np.median(shares) + 0.1) * spread
    assert reference.tolist() == pytest.approx(expected.tolist())
    assert np.all(bulk < reference) and np.all(reference < 1.5)  # the edges at 3 lie outside


def test_a_front_piled_at_one_objectives_best_keeps_a_box_as_deep_as_the_others() -> None:
    # Most points sit at the third objective's best (0, on the arc where it is 0), a few
    # spread over the rest of the octant: that objective's own 80th percentile is 0, and
    # a box ending there would value only the pile.
    arc = np.linspace(0.0, np.pi / 2, 20)
    pile = np.column_stack([np.cos(arc), np.sin(arc), np.zeros_like(arc)])
    front = np.vstack([pile, octant(2)])
    reference = front_reference(front)
    assert np.percentile(front[:, 2], 80) == 0.0
    assert reference[2] > 0.8 * front[:, 2].max()
    depth = (reference - front.min(axis=0)) / np.ptp(front, axis=0)
    assert depth.tolist() == pytest.approx([depth[0]] * 3)


def test_a_front_reference_of_one_point_lies_a_unit_beyond_it() -> None:
    assert front_reference(np.array([[1.0, 2.0, 3.0]])).tolist() == [2.0, 3.0, 4.0]


def test_observation_values_and_feasibility() -> None:
    single = Observation({"x": 1.0}, 0.5)
    several = Observation({"x": 1.0}, 0.5, others=(2.0,), violations=(-0.1, 0.0))
    assert single.values == (0.5,) and single.feasible
    assert several.values == (0.5, 2.0) and several.feasible
    assert not Observation({"x": 1.0}, 0.5, violations=(0.2,)).feasible
