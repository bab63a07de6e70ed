"""The bayesian suggester's models: one Gaussian process per objective and per constraint.

- Objectives are warped (see `gaussian_process.Warp`) column by column; each gets
  its own process, since objectives differ in scale, smoothness and relevant parameters.
- Constraints are modelled on their signed violation, unwarped, so that 0 stays the
  boundary; the probability that a point is feasible is the product over constraints of
  P(violation <= 0), treating constraints as independent as the objectives are.
- Until some trial is feasible the only goal is to reach feasibility: the targets become
  one objective, the total violation, and no constraint (`search_targets`).
- Pending trials and points picked in this batch are believed to land on every model's
  mean (kriging believer, as with one objective): `believe` conditions all processes on
  them and returns their believed outcomes, which join the front when believed feasible.
- The acquisition is log EI (one objective) or log EHVI (several, see
  `hypervolume_improvement`) over the feasible front, plus log P(feasible). EHVI is
  measured from the user's reference point or, without one, from the one the status
  derives over every feasible trial, pulled in to the front's bulk with three or more
  objectives (`search_reference`), warped with the objectives it bounds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import log_ndtr

from kubetune.search.candidates import Score
from kubetune.search.gaussian_process import (
    GaussianProcess,
    Warp,
    fit_process,
    log_expected_improvement,
)
from kubetune.search.history import (
    EncodedHistory,
    preference_order,
    standing,
    total_violation,
)
from kubetune.search.hypervolume_improvement import ImprovementRegion, log_of
from kubetune.search.pareto import derived_reference, front_mask, front_reference
from kubetune.search.transform import Points, SpaceTransform

Array = NDArray[np.float64]
FIT_SUBSET = 60  # hyperparameters are fitted on this many trials, then all are used
FRONT_REFERENCE_OBJECTIVES = 3  # from this many objectives EHVI's box hugs the front


@dataclass(frozen=True)
class Targets:
    """What the models learn, one row per finished trial: minimized objectives (columns)
    and signed constraint violations (columns, possibly none)."""

    objectives: Array
    violations: Array
    reference: Array | None = None
    """Where the hypervolume is measured from, in the objectives' units (minimized)."""

    def window(self, rows: NDArray[np.int64]) -> Targets:
        """These rows, objectives and reference point warped alike (after selection: the
        warp depends on the rows)."""
        columns = self.objectives[rows].T
        warps = [Warp.of(column) for column in columns]
        warped = np.column_stack([w(c) for w, c in zip(warps, columns, strict=True)])
        return Targets(warped, self.violations[rows], self._warped_reference(warps))

    def _warped_reference(self, warps: list[Warp]) -> Array | None:
        if self.reference is None:
            return None
        return np.array([w(v) for w, v in zip(warps, self.reference, strict=True)])

    @property
    def preference(self) -> NDArray[np.int64]:
        return preference_order(self.objectives, self.violations)

    @property
    def standing(self) -> Array:
        return standing(self.objectives, self.violations)


def search_targets(history: EncodedHistory, given: Array | None) -> Targets:
    """The history's targets, measured from `search_reference`; the total violation alone
    while no trial is feasible."""
    excess = total_violation(history.violations)
    if len(excess) and np.all(excess > 0.0):
        return Targets(excess[:, None], np.zeros((len(excess), 0)))
    feasible = history.objectives[excess <= 0.0]
    return Targets(history.objectives, history.violations, search_reference(feasible, given))


def search_reference(feasible: Array, given: Array | None) -> Array:
    """Where EHVI is measured from: the user's reference point; else the one the
    experiment's status derives (`pareto.derived_reference`, bounded by every feasible
    trial, so the ends of a two-objective trade-off are worth reaching); with three or
    more objectives, pulled in to the front's bulk (`pareto.front_reference`), since a
    front's edges there stay non-dominated however poor, and a box reaching them spends
    the search on them."""
    if given is not None:
        return given
    derived = derived_reference(feasible.min(axis=0), feasible.max(axis=0))
    if feasible.shape[1] < FRONT_REFERENCE_OBJECTIVES:
        return derived
    return np.minimum(derived, front_reference(feasible[front_mask(feasible)]))


def history_window(values: Array, size: int, rng: np.random.Generator) -> NDArray[np.int64]:
    """Indices of the trials the model sees: all of them, or the best half of `size`
    plus a random sample of the rest (`values` ranks them: lower is better)."""
    if len(values) <= size:
        return np.arange(len(values), dtype=np.int64)
    order = np.argsort(values, kind="stable")
    best, rest = order[: size // 2], order[size // 2 :]
    sample = rng.choice(rest, size - len(best), replace=False)
    return np.asarray(np.concatenate([best, sample]), dtype=np.int64)


def fit_on_window(
    transform: SpaceTransform, points: Points, values: Array, rng: np.random.Generator
) -> GaussianProcess:
    """Fitting hyperparameters costs O(n^3) per optimizer step, conditioning only once:
    so fit them on a subset (best half plus a random sample), then condition on all."""
    subset = history_window(values, FIT_SUBSET, rng)
    tuned = fit_process(transform.one_hot(points[subset]), values[subset])
    if len(subset) == len(points):
        return tuned
    return fit_process(transform.one_hot(points), values, tuned.theta)


@dataclass(frozen=True)
class Surrogates:
    """One process per objective and per constraint, all conditioned on the same points."""

    transform: SpaceTransform
    objectives: tuple[GaussianProcess, ...]
    constraints: tuple[GaussianProcess, ...]

    @property
    def models(self) -> tuple[GaussianProcess, ...]:
        return self.objectives + self.constraints

    def predict(self, points: Points) -> tuple[Array, Array]:
        """Means and standard deviations, one column per model (objectives first)."""
        features = self.transform.one_hot(points)
        predictions = [model.predict(features) for model in self.models]
        return np.column_stack([p[0] for p in predictions]), np.column_stack(
            [p[1] for p in predictions]
        )

    def believe(self, points: Points, targets: Targets, believed: Points) -> Believed:
        """The models conditioned on their own means at `believed` points."""
        if len(believed) == 0:
            return Believed(self, targets)
        outcomes = self.predict(believed)[0]
        width = len(self.objectives)
        extended = Targets(
            np.vstack([targets.objectives, outcomes[:, :width]]),
            np.vstack([targets.violations, outcomes[:, width:]]),
            targets.reference,
        )
        features = self.transform.one_hot(np.vstack([points, believed]))
        columns = np.hstack([extended.objectives, extended.violations])
        models = [
            fit_process(features, column, model.theta)
            for column, model in zip(columns.T, self.models, strict=True)
        ]
        return Believed(
            Surrogates(self.transform, tuple(models[:width]), tuple(models[width:])), extended
        )


def fit_surrogates(
    transform: SpaceTransform, points: Points, targets: Targets, rng: np.random.Generator
) -> Surrogates:
    objectives = [fit_on_window(transform, points, c, rng) for c in targets.objectives.T]
    constraints = [fit_on_window(transform, points, c, rng) for c in targets.violations.T]
    return Surrogates(transform, tuple(objectives), tuple(constraints))


@dataclass(frozen=True)
class Believed:
    """Models and targets including believed outcomes: what the acquisition scores with."""

    surrogates: Surrogates
    targets: Targets

    def acquisition(self) -> Score:
        improvement = log_improvement(feasible_front(self.targets), self.targets.reference)
        width = len(self.surrogates.objectives)

        def score(candidates: Points) -> Array:
            means, stds = self.surrogates.predict(candidates)
            gain = improvement(means[:, :width], stds[:, :width])
            return gain + log_feasibility(means[:, width:], stds[:, width:])

        return score


def front_rows(targets: Targets) -> NDArray[np.int64]:
    """Rows of the feasible trials that no other feasible trial dominates."""
    feasible = np.flatnonzero(total_violation(targets.violations) <= 0.0)
    return feasible[front_mask(targets.objectives[feasible])]


def feasible_front(targets: Targets) -> Array:
    return targets.objectives[front_rows(targets)]


def log_improvement(front: Array, reference: Array | None) -> Callable[[Array, Array], Array]:
    """log EI over the best value (one objective) or log EHVI over the front (several),
    as a function of predicted means and deviations; the front's region is cut once."""
    if front.shape[1] == 1:
        best = float(front.min())
        return lambda means, stds: log_expected_improvement(means[:, 0], stds[:, 0], best)
    assert reference is not None, "several objectives are always measured from a reference"
    region = ImprovementRegion.of(front, reference)
    return lambda means, stds: log_of(region.expected_improvement(means, stds))


def log_feasibility(means: Array, stds: Array) -> Array:
    """log P(every violation <= 0), constraints independent."""
    return np.asarray(log_ndtr(-means / np.maximum(stds, 1e-12)).sum(axis=1), dtype=np.float64)
