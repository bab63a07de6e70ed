"""The L-BFGS polish of the acquisition's best candidates (`candidates.polish`).

A finite candidate set stops at its finest step; with several objectives the best two
candidates are climbed to the acquisition's local maximum. These check the climb on
scores with a known maximum, inside the cube and on its boundary, and that the ranking
keeps every other candidate in place.
"""

from __future__ import annotations

import numpy as np

from kubetune.search.candidates import ONE_OBJECTIVE, Score, climb, polish
from kubetune.search.space import FloatParam, IntParam, SearchSpace
from kubetune.search.transform import Points, SpaceTransform

SQUARE = SpaceTransform(SearchSpace((FloatParam("x", 0.0, 1.0), FloatParam("y", 0.0, 1.0))))


def bowl(peak: Points) -> Score:
    """A smooth score whose only maximum is `peak` (may lie outside the cube)."""
    return lambda points: -np.sum((points - peak) ** 2, axis=1)


def test_the_climb_reaches_an_inner_maximum_far_below_the_finest_step() -> None:
    peak = np.array([0.3141, 0.7182])
    top = climb(bowl(peak), np.array([0.31, 0.72]))
    assert np.allclose(top, peak, atol=1e-4)


def test_the_climb_stops_on_the_boundary_when_the_maximum_lies_beyond_it() -> None:
    top = climb(bowl(np.array([1.3, 0.25])), np.array([0.9, 0.2]))
    assert np.allclose(top, [[1.0, 0.25]], atol=1e-4)


def test_polish_puts_the_climbed_best_first_and_keeps_the_rest_in_order() -> None:
    score = bowl(np.array([0.5, 0.5]))
    ranked = np.array([[0.48, 0.5], [0.5, 0.53], [0.1, 0.1], [0.9, 0.9]])
    polished = polish(SQUARE, score, ranked, count=2)
    assert np.allclose(polished[0], [0.5, 0.5], atol=1e-4)
    assert len(polished) == len(ranked) + 2  # climbed points and their starts
    assert np.array_equal(polished[-2:], ranked[2:])
    assert np.all(np.diff(score(polished[:4])) <= 0)


def test_polished_points_are_snapped_onto_the_space() -> None:
    steps = SpaceTransform(SearchSpace((IntParam("n", 0, 4), FloatParam("y", 0.0, 1.0))))
    polished = polish(steps, bowl(np.array([0.33, 0.5])), np.array([[0.3, 0.4]]), count=1)
    assert np.array_equal(polished, steps.snap(polished))


def test_one_objective_is_not_polished_so_its_suggestions_are_unchanged() -> None:
    ranked = np.array([[0.2, 0.2], [0.4, 0.4]])
    assert polish(SQUARE, bowl(np.zeros(2)), ranked, ONE_OBJECTIVE.polished) is ranked
