"""Asynchronous successive halving (ASHA; Li et al., "A System for Massively Parallel
Hyperparameter Tuning", MLSys 2020).

Rungs sit at min_resource * eta**k. A trial that reaches a rung continues only if its
value there is in the top 1/eta of the values recorded at that rung when it got there,
its own included.
Nobody waits for a full cohort, so parallel workers never idle; that is why ASHA suits
a cluster where trials start and finish at different times.

A trial is judged at each rung against the values recorded there by the trials that
reached it before it did, as ASHA decides on arrival; each report's recording time (see
`Curve.arrivals`) says who came first. So a decision does not depend on when or how often
it is asked: a pass that looks late, or one batch of reports that crosses a rung with
several points, stops the same trials; and asking again never demotes a trial that later
arrivals outdid. The rule keeps no state.

With several objectives (curves that carry `objectives`) the rule is MO-ASHA: the same
rungs, arrival order and top 1/eta, with the vectors at a rung ordered by non-dominated
rank and crowding distance instead of by value (see `fronts`). A trial on the Pareto
front of its rung continues even if it is the worst there in one objective.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import takewhile

import numpy as np
import numpy.typing as npt

from kubetune.search.stopping.curve import Curve, rung_entry, rung_objectives
from kubetune.search.stopping.fronts import count_ahead
from kubetune.search.stopping.settings import require_above, require_int


def rungs(min_resource: int, reduction_factor: int, max_resource: int | None) -> Iterator[int]:
    """The rung steps min_resource * eta**k, strictly below max_resource (where a trial
    is finished, not judged); endless when there is no max_resource."""
    rung = min_resource
    while max_resource is None or rung < max_resource:
        yield rung
        rung *= reduction_factor


def is_promoted(value: float, recorded: Sequence[float], reduction_factor: int) -> bool:
    """Top 1/eta of `recorded` (which includes `value`). While fewer than eta values are
    recorded, the best one so far continues (as in Optuna's pruner): without suspending
    trials, stopping them all would stop every trial reaching a fresh rung."""
    strictly_better = sum(1 for other in recorded if other < value)
    return strictly_better < promotions(len(recorded), reduction_factor)


def promotions(recorded: int, reduction_factor: int) -> int:
    """How many of `recorded` values at a rung continue: the top 1/eta, at least one."""
    return max(1, recorded // reduction_factor)


@dataclass(frozen=True)
class AshaStopping:
    min_resource: int = 1
    max_resource: int | None = None
    reduction_factor: int = 3

    def __post_init__(self) -> None:
        require_int("asha", "min_resource", self.min_resource, minimum=1)
        require_int("asha", "reduction_factor", self.reduction_factor, minimum=2)
        if self.max_resource is not None:
            require_int("asha", "max_resource", self.max_resource, minimum=1)
            require_above(
                "asha", "max_resource", self.max_resource, "min_resource", self.min_resource
            )

    def should_stop(self, curve: Curve, others: Sequence[Curve]) -> bool:
        return self.stops([curve], [curve, *others])[0]

    def stops(self, curves: Sequence[Curve], everyone: Sequence[Curve]) -> list[bool]:
        """Each rung is ranked once for all `curves`: everyone's values there in order
        of arrival, so a decision counts the better ones among the arrivals before its own."""
        tables: dict[int, _RungTable] = {}

        def table(rung: int) -> _RungTable:
            if rung not in tables:
                tables[rung] = _RungTable.of(rung, everyone)
            return tables[rung]

        return [self._stopped_by_tables(curve, table) for curve in curves]

    def _stopped_by_tables(self, curve: Curve, table: Callable[[int], _RungTable]) -> bool:
        newest = curve.last_step
        if newest is None or (self.max_resource is not None and newest >= self.max_resource):
            return False  # a trial at its full budget has nothing left to save
        reached = takewhile(
            lambda rung: rung <= newest,
            rungs(self.min_resource, self.reduction_factor, self.max_resource),
        )
        return any(not table(rung).promotes(curve, self.reduction_factor) for rung in reached)


@dataclass(frozen=True)
class _RungTable:
    """Everyone's objective vector at one rung (one column for a single objective), in
    the order they arrived there."""

    rung: int
    arrivals: list[tuple[float, int]]
    vectors: npt.NDArray[np.float64]

    @classmethod
    def of(cls, rung: int, curves: Sequence[Curve]) -> _RungTable:
        arrived = sorted(
            ((entry[0], curve) for curve in curves if (entry := rung_entry(curve, rung))),
            key=lambda pair: pair[0],
        )
        vectors = [_vector_at(curve, rung) for _, curve in arrived]
        width = max(map(len, vectors), default=1)
        table = np.array([_padded(vector, width) for vector in vectors], dtype=float)
        return cls(rung, [at for at, _ in arrived], table.reshape(-1, width))

    def promotes(self, curve: Curve, reduction_factor: int) -> bool:
        """Whether fewer of the vectors that arrived before the curve's rank ahead of its
        own than the top 1/eta of them and it admit (`is_promoted` for one objective)."""
        entry = rung_entry(curve, self.rung)
        if entry is None:  # the first report jumped past this rung
            return True
        before = bisect_left(self.arrivals, entry[0])
        enough = promotions(before + 1, reduction_factor)
        own = np.array(_padded(_vector_at(curve, self.rung), self.vectors.shape[1]))
        return self._ahead(before, own, enough) < enough

    def _ahead(self, before: int, own: npt.NDArray[np.float64], enough: int) -> int:
        earlier = self.vectors[:before]
        if earlier.shape[1] == 1:  # one objective: simply the strictly better values
            return int(np.count_nonzero(earlier[:, 0] < own[0]))
        return count_ahead(earlier, own, enough)


def _vector_at(curve: Curve, rung: int) -> tuple[float, ...]:
    """The objectives at a rung the curve has an entry for (so a value was reported)."""
    return rung_objectives(curve, rung) or ()


def _padded(vector: tuple[float, ...], width: int) -> tuple[float, ...]:
    """A trial that reported fewer objectives than its peers is worst in the missing ones."""
    return vector + (math.inf,) * (width - len(vector))
