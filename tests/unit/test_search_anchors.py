"""Where the bayesian suggester searches the acquisition locally (`bayesian.anchor_points`).

With one objective the anchors are the four best trials; with several, up to sixteen
front points spread evenly along the first objective, so that every gap of a long front
has an anchor at its side. These check which trials become anchors, and that a narrow
acquisition peak beside a front point found only by a wide spread of anchors is found.
"""

from __future__ import annotations

import numpy as np

from kubetune.search.bayesian import anchor_points
from kubetune.search.candidates import ONE_OBJECTIVE, SEVERAL_OBJECTIVES, rank_candidates
from kubetune.search.space import FloatParam, SearchSpace
from kubetune.search.surrogates import Targets
from kubetune.search.transform import SpaceTransform

CUBE = SpaceTransform(SearchSpace(tuple(FloatParam(f"x{i}", 0.0, 1.0) for i in range(6))))


def line_front(size: int) -> Targets:
    """`size` trials on a straight two-objective front, then as many dominated ones."""
    first = np.linspace(0.0, 1.0, size)
    front = np.column_stack([first, 1.0 - first])
    return Targets(np.vstack([front, front + 0.5]), np.zeros((2 * size, 0)))


def rows_of(anchors: np.ndarray, points: np.ndarray) -> list[int]:
    return [int(np.flatnonzero(np.all(points == anchor, axis=1))[0]) for anchor in anchors]


def test_several_objectives_anchor_sixteen_front_points_from_end_to_end() -> None:
    targets, points = line_front(40), np.random.default_rng(1).random((80, 6))
    rows = rows_of(anchor_points(points, targets, SEVERAL_OBJECTIVES), points)
    assert len(rows) == SEVERAL_OBJECTIVES.anchors == 16
    assert rows[0] == 0 and rows[-1] == 39  # both ends of the front
    assert all(row < 40 for row in rows)  # no dominated trial
    assert max(np.diff(rows)) <= 3  # no long stretch of the front left out


def test_a_front_smaller_than_the_anchor_count_is_anchored_whole() -> None:
    targets, points = line_front(5), np.random.default_rng(2).random((10, 6))
    rows = rows_of(anchor_points(points, targets, SEVERAL_OBJECTIVES), points)
    assert rows == [0, 1, 2, 3, 4]


def test_one_objective_anchors_the_four_best_trials_as_before() -> None:
    values = np.array([5.0, 1.0, 4.0, 2.0, 3.0, 0.5])
    points = np.random.default_rng(3).random((6, 6))
    anchors = anchor_points(points, Targets(values[:, None], np.zeros((6, 0))), ONE_OBJECTIVE)
    assert rows_of(anchors, points) == [5, 1, 3, 4]


def test_a_narrow_peak_beside_a_middle_front_point_is_found() -> None:
    """The peak sits beside the 11th of 40 front points, an anchor when sixteen are
    spread along the front, but between the anchors four would give (0, 13, 26, 39);
    the score is flat beyond 0.1 of the peak, and in six dimensions no uniform candidate
    comes that near, so only a neighbour of that anchor reaches it."""
    targets, points = line_front(40), np.random.default_rng(4).random((80, 6))
    peak = np.clip(points[10] + 0.01, 0.0, 1.0)
    anchors = anchor_points(points, targets, SEVERAL_OBJECTIVES)

    def score(candidates: np.ndarray) -> np.ndarray:
        return np.maximum(0.0, 1.0 - np.sum((candidates - peak) ** 2, axis=1) / 0.1**2)

    rng = np.random.default_rng(5)
    best = rank_candidates(CUBE, score, anchors, rng, SEVERAL_OBJECTIVES)[0]
    assert np.allclose(best, peak, atol=1e-3)
