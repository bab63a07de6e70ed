"""What every suggester derives from its inputs: the encoded history and its random stream.

Suggesters are stateless, so randomness must come from the inputs: the stream is seeded
by (seed, number of finished + pending trials). The same inputs replay the same
suggestions after an operator restart, and successive calls still differ.

With several objectives or constraints "better" is a partial order; `preference_order`
makes it total the same way for every suggester that needs a ranking: feasible trials
first, by non-dominated rank, then by the first objective; infeasible trials after them,
by total violation. With one objective and no constraints it is the order of the values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from kubetune.search.base import Observation
from kubetune.search.pareto import nondominated_ranks
from kubetune.search.space import Assignment
from kubetune.search.transform import Points, SpaceTransform


def derive_rng(
    seed: int, finished: Sequence[Observation], pending: Sequence[Assignment]
) -> np.random.Generator:
    entropy = [seed % 2**63, len(finished) + len(pending)]
    return np.random.default_rng(np.random.SeedSequence(entropy))


@dataclass(frozen=True)
class EncodedHistory:
    """Finished trials as unit-cube rows with finite objective values (one column per
    objective) and violations (one column per constraint), and pending trials as rows."""

    finished: Points
    objectives: NDArray[np.float64]
    violations: NDArray[np.float64]
    pending: Points

    @property
    def values(self) -> NDArray[np.float64]:
        """The first (or only) objective."""
        return self.objectives[:, 0]

    @property
    def taken(self) -> Points:
        return np.vstack([self.finished, self.pending])


def encode_history(
    transform: SpaceTransform, finished: Sequence[Observation], pending: Sequence[Assignment]
) -> EncodedHistory:
    return EncodedHistory(
        finished=transform.encode([o.params for o in finished]),
        objectives=finite_columns([o.values for o in finished], finite_values),
        violations=finite_columns([o.violations for o in finished], finite_violations),
        pending=transform.encode(pending),
    )


def finite_columns(
    rows: Sequence[tuple[float, ...]], repair: Callable[[NDArray[np.float64]], NDArray[np.float64]]
) -> NDArray[np.float64]:
    """Rows as an (n, width) array, each column repaired; a row shorter than the widest
    (a failed trial that reported only some metrics) is padded with NaN first."""
    width = max((len(row) for row in rows), default=0)
    padded = np.full((len(rows), width), np.nan)
    for index, row in enumerate(rows):
        padded[index, : len(row)] = row
    return np.column_stack([repair(column) for column in padded.T]) if width else padded


def finite_values(values: Sequence[float] | NDArray[np.float64]) -> NDArray[np.float64]:
    """Failed or diverged trials (NaN, inf) count as the worst value seen, so models stay
    finite and steer away from them rather than crash."""
    array = np.array(values, dtype=np.float64)
    finite = np.isfinite(array)
    worst = float(array[finite].max()) if finite.any() else 0.0
    return np.where(finite, array, worst)


def finite_violations(violations: NDArray[np.float64]) -> NDArray[np.float64]:
    """A constraint that could not be measured counts as violated, at least by 1."""
    worst = max(float(finite_values(violations).max()), 1.0)
    return np.where(np.isfinite(violations), violations, worst)


def total_violation(violations: NDArray[np.float64]) -> NDArray[np.float64]:
    """Per row, the sum of the positive violations: 0 exactly for feasible trials."""
    return np.asarray(np.maximum(violations, 0.0).sum(axis=1), dtype=np.float64)


def preference_order(
    objectives: NDArray[np.float64], violations: NDArray[np.float64]
) -> NDArray[np.int64]:
    """Row indices from the most to the least preferred (see the module docstring)."""
    excess = total_violation(violations)
    feasible = excess <= 0.0
    ranks = np.zeros(len(objectives), dtype=np.int64)
    if objectives.shape[1] > 1:
        ranks[feasible] = nondominated_ranks(objectives[feasible])
    return np.asarray(np.lexsort((objectives[:, 0], ranks, excess)), dtype=np.int64)


def standing(
    objectives: NDArray[np.float64], violations: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Each row's position in the preference order: a single value to rank by."""
    positions = np.empty(len(objectives))
    positions[preference_order(objectives, violations)] = np.arange(len(positions))
    return positions


def initial_trial_count(setting: int | None, dims: int, objectives: int = 1) -> int:
    """Trials sampled space-filling before a model is fitted: one more than the number
    of dimensions, kept between 5 and 10 so small budgets still leave room to model;
    two more per further objective, since each adds a model to fit and a dimension to
    the front that the first expected-improvement steps are judged against."""
    if setting is not None:
        return setting
    return min(max(dims + 1, 5), 10) + 2 * (objectives - 1)


def in_initial_design(
    setting: int | None, dims: int, finished: Sequence[Observation], per_objective: bool = False
) -> bool:
    """Whether a model-based suggester should still sample space-filling: before its
    initial trials are done, and always before two (a model needs a contrast). With
    `per_objective`, the count grows with the number of objectives the trials report
    (`bayesian`; `tpe` keeps its count, not measured with more)."""
    width = max((len(o.values) for o in finished), default=1) if per_objective else 1
    return len(finished) < max(initial_trial_count(setting, dims, width), 2)
