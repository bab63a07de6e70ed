"""Candidate points for the bayesian suggester's acquisition, and their ranking.

Maximizing expected improvement exactly is a non-convex problem per suggestion; a cheap
seeded search over candidates is good enough and keeps a suggestion in milliseconds.
All candidates are snapped to valid assignments (int rounding, categories) before they
are scored, so the model judges what would actually be run.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from kubetune.search.transform import Points, SpaceTransform

Score = Callable[[Points], NDArray[np.float64]]
"""The acquisition: unit-cube rows in, one score per row out (higher is better)."""

RANDOM_CANDIDATES = 384
LEADERS, NEIGHBORS_PER_ANCHOR = 4, 32
LOCAL_SCALES = (0.1, 0.02, 0.004)  # successively finer steps around the leaders
# With several objectives the acquisition's maxima lie all along the front, often on a
# constraint's boundary or a face of the box, where small distances decide the gain: one
# more, finer step puts the pick on them (one objective keeps its measured three steps).
FRONT_SCALES = (*LOCAL_SCALES, 0.0008)
AXIS_CANDIDATES = 256


def rank_candidates(
    transform: SpaceTransform,
    score: Score,
    anchors: Points,
    rng: np.random.Generator,
    scales: tuple[float, ...] = LOCAL_SCALES,
) -> Points:
    """Candidates in decreasing order of acquisition: random points, perturbations and
    axis moves of the anchors (best trials), then finer perturbations of the leaders."""
    pool = [transform.sample(rng, RANDOM_CANDIDATES)]
    pool += [transform.neighbors(np.repeat(anchors, NEIGHBORS_PER_ANCHOR, 0), rng, 0.05)]
    pool += [axis_moves(transform, np.repeat(anchors, NEIGHBORS_PER_ANCHOR, 0), rng)]
    scores = [score(candidates) for candidates in pool]
    for scale in scales:
        leaders = np.vstack(pool)[np.argsort(-np.concatenate(scores))[:LEADERS]]
        pool.append(transform.neighbors(np.repeat(leaders, NEIGHBORS_PER_ANCHOR, 0), rng, scale))
        scores.append(score(pool[-1]))
    return np.vstack(pool)[np.argsort(-np.concatenate(scores), kind="stable")]


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
