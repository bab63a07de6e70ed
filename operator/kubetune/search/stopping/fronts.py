"""How MO-ASHA (Schmucker et al., "Multi-objective Asynchronous Successive Halving",
arXiv 2106.12639) orders the objective vectors recorded at a rung.

First by non-dominated rank (`kubetune.search.pareto.nondominated_ranks`): a vector on a
better front is ahead. The last front that fits only in part is cut by NSGA-II's
crowding distance, largest first: the points that continue spread along the front
instead of bunching in one corner, and the ends of the front (the best trial in each
objective) always count as most isolated. The paper allows this tie-break or an
epsilon-net; crowding needs no reference point and no state, so a decision stays a pure
function of the vectors. As for one objective, ties favour the trial being judged.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from kubetune.search.pareto import Points, nondominated_ranks


def count_ahead(earlier: Points, own: npt.NDArray[np.float64], enough: int) -> int:
    """How many of `earlier` rank strictly ahead of `own`: on a better front, or on its
    front with a larger crowding distance. Any count >= `enough` may be returned as soon
    as it is certain: a vector that `enough` earlier ones dominate is behind them all."""
    dominators = int(np.count_nonzero(_dominate(earlier, own)))
    if dominators >= enough:
        return dominators
    points = np.vstack([_contenders(earlier, own), own])
    ranks = nondominated_ranks(points)
    crowding = crowding_distances(points[ranks == ranks[-1]])  # own is the last one
    return int(np.count_nonzero(ranks < ranks[-1]) + np.count_nonzero(crowding > crowding[-1]))


def _contenders(earlier: Points, own: npt.NDArray[np.float64]) -> Points:
    """`earlier` without the vectors `own` dominates or equals: they are never ahead of
    it, and whatever they dominate, `own` dominates too, so dropping them changes no
    other rank (nor a crowding distance, which counts distinct values) and saves the
    quadratic sort most of its work."""
    contenders: Points = earlier[~np.all(own <= earlier, axis=1)]
    return contenders


def crowding_distances(front: Points) -> npt.NDArray[np.float64]:
    """Per point, summed over objectives: the gap between the nearest distinct values
    above and below its own, over the front's range; infinite at either end of a range.
    Identical points get identical distances, so the order of `front` does not matter."""
    distances: npt.NDArray[np.float64] = np.sum([_gaps(c) for c in front.T], axis=0)
    return distances


def _gaps(column: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    levels = np.unique(column)  # sorted, distinct
    at = np.searchsorted(levels, column)
    above, below = levels[np.minimum(at + 1, len(levels) - 1)], levels[np.maximum(at - 1, 0)]
    with np.errstate(invalid="ignore"):  # 0 / 0 for one level; inf / inf past a diverged one
        gaps = (above - below) / (levels[-1] - levels[0])
    ends = (at == 0) | (at == len(levels) - 1)
    return np.where(ends, np.inf, np.where(np.isnan(gaps), 0.0, gaps))


def _dominate(earlier: Points, own: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    """Which rows of `earlier` dominate `own` (one pass, no pairwise matrix)."""
    dominating: npt.NDArray[np.bool_] = np.all(earlier <= own, axis=1) & np.any(
        earlier < own, axis=1
    )
    return dominating
