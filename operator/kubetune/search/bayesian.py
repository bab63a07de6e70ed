"""Bayesian optimization with Gaussian processes: the default algorithm.

The first trials come from a scrambled Sobol design (two more per further objective, see
`history.initial_trial_count`). After that each suggestion:
1. fits one process per objective and per constraint (see `surrogates`) on at most
   `max_history` finished trials - the most preferred half of that window plus a seeded
   random sample of the rest, so fitting stays fast at thousands of trials while the
   region that matters keeps full detail;
2. conditions on pending trials and on points already picked in this batch, believing
   the models' own means there (kriging believer): the uncertainty around them collapses,
   so parallel workers get distinct, spread-out suggestions;
3. maximizes the acquisition over candidates (see `candidates`): log expected improvement
   for one objective, log expected hypervolume improvement over the Pareto front for
   several (measured from the user's reference point, else from the one the status
   derives, pulled in to the front's bulk with three or more objectives: see
   `surrogates.search_reference`), plus the log probability of feasibility when there
   are constraints.
   The candidates are usually random points plus local perturbations of the anchors (the
   best four trials, or sixteen points spread along the front) and of the best
   candidates; with one objective, one suggestion in five (drawn from the derived random
   stream, so replayable) instead ranks only moves along one axis of the incumbent,
   which finds the other basins of nearly additive objectives that expected improvement
   alone under-explores; with several, the two best candidates are then climbed by
   L-BFGS (`candidates.SEVERAL_OBJECTIVES`).
Categoricals enter the models one-hot, so no order is invented between choices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from kubetune.search.base import Observation, Suggestion
from kubetune.search.candidates import (
    ONE_OBJECTIVE,
    SEVERAL_OBJECTIVES,
    Effort,
    rank_axis_moves,
    rank_candidates,
)
from kubetune.search.history import derive_rng, encode_history, in_initial_design
from kubetune.search.picking import Picker
from kubetune.search.sobol import SobolSuggester
from kubetune.search.space import Assignment, SearchSpace
from kubetune.search.surrogates import (
    Targets,
    fit_surrogates,
    front_rows,
    history_window,
    search_targets,
)
from kubetune.search.transform import Points, SpaceTransform


@dataclass(frozen=True)
class BayesianSuggester:
    initial_trials: int | None = None
    max_history: int = 300
    reference_point: tuple[float, ...] | None = None
    """Several objectives: the worst value of each (minimized) that still counts toward
    the hypervolume (spec.referencePoint); None: derived from the trials
    (`surrogates.search_reference`)."""

    def __post_init__(self) -> None:
        if self.max_history < 2:
            raise ValueError(f"bayesian: max_history must be >= 2, got {self.max_history}")

    def suggest(
        self,
        space: SearchSpace,
        finished: Sequence[Observation],
        pending: Sequence[Assignment],
        n: int,
        seed: int,
    ) -> Suggestion:
        transform = SpaceTransform(space)
        if in_initial_design(self.initial_trials, transform.dims, finished, per_objective=True):
            return SobolSuggester().suggest(space, finished, pending, n, seed)
        rng = derive_rng(seed, finished, pending)
        history = encode_history(transform, finished, pending)
        every = search_targets(history, self._reference())
        window = history_window(every.standing, self.max_history, rng)
        points, targets = history.finished[window], every.window(window)
        picker = Picker(transform, history.taken, n)
        models = fit_surrogates(transform, points, targets, rng)
        effort = ONE_OBJECTIVE if targets.objectives.shape[1] == 1 else SEVERAL_OBJECTIVES
        anchors = anchor_points(points, targets, effort)
        believed = history.pending
        while picker.missing > 0:
            score = models.believe(points, targets, believed).acquisition()
            if rng.random() < effort.axis_share:
                ranked = rank_axis_moves(transform, score, anchors[:1], rng)
            else:
                ranked = rank_candidates(transform, score, anchors, rng, effort)
            if picker.offer(ranked, limit=1) == 0:
                break
            believed = np.vstack([believed, picker.picked[-1:]])
        return picker.finish(rng)

    def _reference(self) -> NDArray[np.float64] | None:
        given = self.reference_point
        return None if given is None else np.array(given, dtype=np.float64)


def anchor_points(points: Points, targets: Targets, effort: Effort) -> Points:
    """Where the local search starts (`effort.anchors` of them at most): the best trials
    for one objective; for several, front points evenly spread along the first
    objective, so all of the front is refined."""
    count = effort.anchors
    if targets.objectives.shape[1] == 1:
        chosen = targets.preference[:count]
    else:
        rows = front_rows(targets)
        rows = rows[np.argsort(targets.objectives[rows, 0], kind="stable")]
        chosen = rows[np.unique(np.linspace(0, len(rows) - 1, count).round().astype(int))]
    return np.asarray(points[chosen], dtype=np.float64)
