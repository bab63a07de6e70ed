"""Candidate points for the bayesian suggester's acquisition, and their ranking.

Maximizing expected improvement exactly is a non-convex problem per suggestion; a cheap
seeded search over candidates is good enough and keeps a suggestion in milliseconds.
With several objectives the best two candidates are then climbed by L-BFGS (`polish`),
since there the pick's last thousandth decides the gain.
All candidates are snapped to valid assignments (int rounding, categories) before they
are scored, so the model judges what would actually be run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize

from kubetune.search.transform import Points, SpaceTransform

Score = Callable[[Points], NDArray[np.float64]]
"""The acquisition: unit-cube rows in, one score per row out (higher is better)."""

RANDOM_CANDIDATES = 384
ANCHORS = 4  # best trials that seed the local search of the acquisition
LEADERS, NEIGHBORS_PER_ANCHOR = 4, 32
LOCAL_SCALES = (0.1, 0.02, 0.004)  # successively finer steps around the leaders
AXIS_CANDIDATES = 256
CLIMB_ITERATIONS = 15  # L-BFGS steps per polished candidate
DIFFERENCE_STEP = 1e-6  # forward differences of the acquisition, in unit-cube units


@dataclass(frozen=True)
class Effort:
    """How the acquisition is searched: how many uniform candidates, how many anchors
    (trials whose neighbourhoods are searched), successively finer local steps around the
    leaders, the share of suggestions that rank only axis moves of the incumbent, and how
    many of the best candidates are then climbed by L-BFGS (`polish`)."""

    randoms: int
    anchors: int
    scales: tuple[float, ...]
    axis_share: float
    polished: int


ONE_OBJECTIVE = Effort(RANDOM_CANDIDATES, ANCHORS, LOCAL_SCALES, axis_share=0.2, polished=0)
# With several objectives the acquisition's maxima lie all along the front, often on a
# constraint's boundary or a face of the box, where small distances decide the gain: one
# more, finer step and an L-BFGS climb of the two best candidates put the pick on them.
# The best pick is usually in the widest gap between front points, anywhere along the
# front: sixteen anchors spread over it find it (four left most gaps without an anchor
# beside them and put a quarter of the local candidates on each end), and more uniform
# candidates keep the global search from being crowded out by the local one. The
# front's anchors already spread the search along the trade-off, so axis moves (one
# suggestion in five restricted to a line) only cost trials there. One objective keeps
# its measured effort, so its suggestions are unchanged bit for bit.
SEVERAL_OBJECTIVES = Effort(1024, 16, (*LOCAL_SCALES, 0.0008), axis_share=0.0, polished=2)


def rank_candidates(
    transform: SpaceTransform,
    score: Score,
    anchors: Points,
    rng: np.random.Generator,
    effort: Effort = ONE_OBJECTIVE,
) -> Points:
    """Candidates in decreasing order of acquisition: random points, perturbations and
    axis moves of the anchors (best trials), then finer perturbations of the leaders,
    then the best of them polished."""
    pool = [transform.sample(rng, effort.randoms)]
    pool += [transform.neighbors(np.repeat(anchors, NEIGHBORS_PER_ANCHOR, 0), rng, 0.05)]
    pool += [axis_moves(transform, np.repeat(anchors, NEIGHBORS_PER_ANCHOR, 0), rng)]
    scores = [score(candidates) for candidates in pool]
    for scale in effort.scales:
        leaders = np.vstack(pool)[np.argsort(-np.concatenate(scores))[:LEADERS]]
        pool.append(transform.neighbors(np.repeat(leaders, NEIGHBORS_PER_ANCHOR, 0), rng, scale))
        scores.append(score(pool[-1]))
    ranked = np.vstack(pool)[np.argsort(-np.concatenate(scores), kind="stable")]
    return polish(transform, score, ranked, effort.polished)


def polish(transform: SpaceTransform, score: Score, ranked: Points, count: int) -> Points:
    """`ranked` with its best `count` candidates climbed (`climb`) and re-ranked against
    their starts: a candidate set stops at its finest step, a local optimizer at the
    acquisition's maximum."""
    if count == 0:
        return ranked
    starts = ranked[:count]
    climbed = transform.snap(np.vstack([climb(score, start) for start in starts]))
    pool = np.vstack([climbed, starts])
    return np.vstack([pool[np.argsort(-score(pool), kind="stable")], ranked[count:]])


def climb(score: Score, start: NDArray[np.float64]) -> Points:
    """A local maximum of `score` from `start` in the unit cube: bounded L-BFGS with
    forward differences (stepping inward at the upper bound), one batched score call
    per gradient, deterministic."""

    def negative(x: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        steps = np.where(x + DIFFERENCE_STEP > 1.0, -DIFFERENCE_STEP, DIFFERENCE_STEP)
        values = -score(np.vstack([x, x + np.diag(steps)]))
        return float(values[0]), (values[1:] - values[0]) / steps

    bounds = [(0.0, 1.0)] * len(start)
    options = {"maxiter": CLIMB_ITERATIONS}
    result = minimize(negative, start, jac=True, method="L-BFGS-B", bounds=bounds, options=options)
    return np.asarray(result.x, dtype=np.float64)[None, :]


def axis_moves(transform: SpaceTransform, points: Points, rng: np.random.Generator) -> Points:
    """Each point with one coordinate redrawn uniformly. Many objectives are nearly
    additive, with a good basin per parameter that hardly depends on the others: these
    moves reach another basin of one parameter while keeping the rest, which neither
    local steps around the incumbent nor uniform samples in many dimensions do."""
    moved = points.copy()
    columns = rng.integers(0, transform.dims, len(moved))
    moved[np.arange(len(moved)), columns] = rng.random(len(moved))
    return transform.snap(moved)


def rank_axis_moves(
    transform: SpaceTransform, score: Score, incumbent: Points, rng: np.random.Generator
) -> Points:
    """Moves of the incumbent along one axis, in decreasing order of acquisition."""
    moves = axis_moves(transform, np.repeat(incumbent, AXIS_CANDIDATES, 0), rng)
    return moves[np.argsort(-score(moves), kind="stable")]
