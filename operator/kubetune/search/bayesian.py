"""Bayesian optimization with a Gaussian process: the default algorithm.

The first trials come from a scrambled Sobol design. After that each suggestion:
1. fits the process (see `gaussian_process`) on at most `max_history` finished trials -
   the best half of that window plus a seeded random sample of the rest, so fitting
   stays fast at thousands of trials while the region that matters keeps full detail;
2. conditions on pending trials and on points already picked in this batch, believing
   the model's own mean there (kriging believer): the uncertainty around them collapses,
   so parallel workers get distinct, spread-out suggestions;
3. maximizes log expected improvement over candidates (see `candidates`): usually
   random points plus local perturbations of the best trials and of the best candidates;
   one suggestion in five (drawn from the derived random stream, so replayable) instead
   ranks only moves of the incumbent along one axis, which finds the other basins of
   nearly additive objectives that expected improvement alone under-explores.
Categoricals enter the model one-hot, so no order is invented between choices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from kubetune.search.base import Observation, Suggestion
from kubetune.search.candidates import rank_axis_moves, rank_candidates
from kubetune.search.gaussian_process import (
    GaussianProcess,
    fit_process,
    warp_values,
)
from kubetune.search.history import derive_rng, encode_history, in_initial_design
from kubetune.search.picking import Picker
from kubetune.search.sobol import SobolSuggester
from kubetune.search.space import Assignment, SearchSpace
from kubetune.search.transform import Points, SpaceTransform

FIT_SUBSET = 60  # hyperparameters are fitted on this many trials, then all are used
ANCHORS = 4  # best trials that seed the local search of the acquisition
AXIS_EXPLORATION_SHARE = 0.2  # suggestions that only move the incumbent along one axis


@dataclass(frozen=True)
class BayesianSuggester:
    initial_trials: int | None = None
    max_history: int = 300

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
        if in_initial_design(self.initial_trials, transform.dims, len(finished)):
            return SobolSuggester().suggest(space, finished, pending, n, seed)
        rng = derive_rng(seed, finished, pending)
        history = encode_history(transform, finished, pending)
        window = history_window(history.values, self.max_history, rng)
        points, values = history.finished[window], warp_values(history.values[window])
        picker = Picker(transform, history.taken, n)
        model = fit_on_window(transform, points, values, rng)
        anchors = points[np.argsort(values)[:ANCHORS]]
        believed = history.pending
        while picker.missing > 0:
            current, best = believe(transform, model, points, values, believed)
            if rng.random() < AXIS_EXPLORATION_SHARE:
                ranked = rank_axis_moves(transform, current, best, anchors[:1], rng)
            else:
                ranked = rank_candidates(transform, current, best, anchors, rng)
            if picker.offer(ranked, limit=1) == 0:
                break
            believed = np.vstack([believed, picker.picked[-1:]])
        return picker.finish(rng)


def history_window(
    values: NDArray[np.float64], size: int, rng: np.random.Generator
) -> NDArray[np.int64]:
    """Indices of the trials the model sees: all of them, or the best half of `size`
    plus a random sample of the rest."""
    if len(values) <= size:
        return np.arange(len(values), dtype=np.int64)
    order = np.argsort(values, kind="stable")
    best, rest = order[: size // 2], order[size // 2 :]
    sample = rng.choice(rest, size - len(best), replace=False)
    return np.asarray(np.concatenate([best, sample]), dtype=np.int64)


def fit_on_window(
    transform: SpaceTransform, points: Points, values: NDArray[np.float64], rng: np.random.Generator
) -> GaussianProcess:
    """Fitting hyperparameters costs O(n^3) per optimizer step, conditioning only once:
    so fit them on a subset (best half plus a random sample), then condition on all."""
    subset = history_window(values, FIT_SUBSET, rng)
    tuned = fit_process(transform.one_hot(points[subset]), values[subset])
    if len(subset) == len(points):
        return tuned
    return fit_process(transform.one_hot(points), values, tuned.theta)


def believe(
    transform: SpaceTransform,
    model: GaussianProcess,
    points: Points,
    values: NDArray[np.float64],
    believed: Points,
) -> tuple[GaussianProcess, float]:
    """The model conditioned on its own mean at pending points, and the incumbent
    including those believed values: both are needed for EI to move away from them."""
    if len(believed) == 0:
        return model, float(values.min())
    believed_values = model.predict(transform.one_hot(believed))[0]
    features = transform.one_hot(np.vstack([points, believed]))
    targets = np.concatenate([values, believed_values])
    return fit_process(features, targets, model.theta), float(targets.min())
