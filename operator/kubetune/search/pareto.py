"""Pareto dominance, non-dominated ranks and hypervolume over minimized objective vectors.

One home for the multi-objective arithmetic that the suggesters, the early-stopping rules
and the experiment status all need. Points are rows of an (n, d) array, every column
minimized; the reference point bounds the dominated region from above.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Points = NDArray[np.float64]
REFERENCE_MARGIN = 0.1  # a derived reference lies this share of the spread beyond the worst
FRONT_QUANTILE = 80  # percent of a front's values that `front_reference` lies beyond


def derived_reference(best: NDArray[np.float64], worst: NDArray[np.float64]) -> Points:
    """The reference point when the user gives none: per objective, the worst value seen,
    moved a tenth of the spread between best and worst further out (a whole unit when
    every value agrees), so the extremes of the front still add volume. The experiment's
    status and the search both measure from it, so the search improves what is shown."""
    spread = np.asarray(worst, dtype=np.float64) - np.asarray(best, dtype=np.float64)
    return np.asarray(worst + margin(spread))


def margin(spread: NDArray[np.float64]) -> NDArray[np.float64]:
    """How far a reference lies beyond the values it bounds: a tenth of their spread, a
    whole unit where every value agrees (a zero-width box would count nothing)."""
    return np.asarray(np.where(spread > 0, REFERENCE_MARGIN * spread, 1.0))


def front_reference(front: Points) -> Points:
    """A reference that values the bulk of a front rather than its extremes: per
    objective, the 80th percentile of the front's values as a share of the front's range
    there; the box reaches the median of those shares in every objective, plus a tenth
    of the range (a whole unit where every value agrees).

    With three or more objectives a front keeps points that are very good in some
    objectives and poor in another (on a spherical front, its edges at any radius), and
    a box reaching all of them spends the search on pushing those edges out; a quantile
    leaves most of them outside. One share for every objective rather than each one's
    own percentile: where the front's points pile up at one objective's best, that
    percentile pulls the box in to the pile, and the search then values only that part
    of the front (see "DTLZ2" in benchmarks/README.md). The price: one objective whose
    front alone reaches far out gets a deep box (measured there too, on a long tail)."""
    values = np.asarray(front, dtype=np.float64)
    best, spread = values.min(axis=0), np.ptp(values, axis=0)
    shares = (values - best) / np.where(spread > 0, spread, 1.0)
    depth = np.median(np.percentile(shares, FRONT_QUANTILE, axis=0))
    return np.asarray(best + depth * spread + margin(spread))


def dominates(a: NDArray[np.float64], b: NDArray[np.float64]) -> bool:
    """Whether `a` is no worse than `b` in every objective and better in one."""
    return bool(np.all(a <= b) and np.any(a < b))


def domination_matrix(points: Points) -> NDArray[np.bool_]:
    """Entry (i, j) says whether point i dominates point j."""
    no_worse = np.all(points[:, None, :] <= points[None, :, :], axis=2)
    better = np.any(points[:, None, :] < points[None, :, :], axis=2)
    matrix: NDArray[np.bool_] = no_worse & better
    return matrix


def nondominated_ranks(points: Points) -> NDArray[np.int64]:
    """Rank 0 for the Pareto front, 1 for the front once rank 0 is removed, and so on.
    Quadratic in the number of points, which stays in the hundreds where this runs."""
    beaten_by = domination_matrix(np.asarray(points, dtype=np.float64))
    ranks = np.full(len(beaten_by), -1, dtype=np.int64)
    remaining = np.ones(len(beaten_by), dtype=bool)
    rank = 0
    while remaining.any():
        front = remaining & ~beaten_by[remaining].any(axis=0)
        ranks[front] = rank
        remaining &= ~front
        rank += 1
    return ranks


def front_mask(points: Points) -> NDArray[np.bool_]:
    """Which points no other point dominates."""
    return nondominated_ranks(points) == 0 if len(points) else np.zeros(0, dtype=bool)


def hypervolume(points: Points, reference: NDArray[np.float64]) -> float:
    """The volume dominated by `points` and bounded by `reference` (larger is better).
    Points not strictly below the reference in every objective add nothing."""
    array = np.asarray(points, dtype=np.float64).reshape(-1, len(reference))
    inside = array[np.all(array < reference, axis=1)]
    return _volume(inside[front_mask(inside)], np.asarray(reference, dtype=np.float64))


def _volume(front: Points, reference: NDArray[np.float64]) -> float:
    if len(front) == 0:
        return 0.0
    if front.shape[1] == 1:
        return float(reference[0] - front[:, 0].min())
    if front.shape[1] == 2:
        return _area(front, reference)
    return _sliced(front, reference)


def _area(front: Points, reference: NDArray[np.float64]) -> float:
    """Two objectives: sweep the front sorted by the first; each point adds its rectangle
    up to the previous point's second objective."""
    ordered = front[np.argsort(front[:, 0])]
    ceilings = np.concatenate([[reference[1]], ordered[:-1, 1]])
    return float(np.sum((reference[0] - ordered[:, 0]) * (ceilings - ordered[:, 1])))


def _sliced(front: Points, reference: NDArray[np.float64]) -> float:
    """More objectives: slice along the last objective; between two consecutive levels the
    volume is the slab's depth times the hypervolume of the points below it, one dimension
    fewer (exact; fine for the fronts of a few hundred points kept here)."""
    levels = np.unique(front[:, -1])
    tops = np.append(levels[1:], reference[-1])
    return sum(
        float(top - level) * hypervolume(front[front[:, -1] <= level, :-1], reference[:-1])
        for level, top in zip(levels, tops, strict=True)
    )
