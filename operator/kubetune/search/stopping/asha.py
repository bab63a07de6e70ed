"""Asynchronous successive halving (ASHA; Li et al., "A System for Massively Parallel
Hyperparameter Tuning", MLSys 2020).

Rungs sit at min_resource * eta**k. A trial that reaches a rung continues only if its
value there is in the top 1/eta of all values recorded at that rung, its own included.
Nobody waits for a full cohort, so parallel workers never idle; that is why ASHA suits
a cluster where trials start and finish at different times.

A trial is judged at each rung against the values recorded there by the trials that
reached it before it did, as ASHA decides on arrival; each report's recording time (see
`Curve.arrivals`) says who came first. So a decision does not depend on when or how often
it is asked: a pass that looks late, or one batch of reports that crosses a rung with
several points, stops the same trials; and asking again never demotes a trial that later
arrivals outdid. The rule keeps no state.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import takewhile

from kubetune.search.stopping.curve import Curve, arrival, rung_value
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
    promoted = max(1, len(recorded) // reduction_factor)
    strictly_better = sum(1 for other in recorded if other < value)
    return strictly_better < promoted


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
        newest = curve.last_step
        if newest is None or (self.max_resource is not None and newest >= self.max_resource):
            return False  # a trial at its full budget has nothing left to save
        reached = takewhile(
            lambda rung: rung <= newest,
            rungs(self.min_resource, self.reduction_factor, self.max_resource),
        )
        return any(not self._promoted_at(rung, curve, others) for rung in reached)

    def _promoted_at(self, rung: int, curve: Curve, others: Sequence[Curve]) -> bool:
        own, arrived = rung_value(curve, rung), arrival(curve, rung)
        if own is None or arrived is None:  # the first report jumped past this rung
            return True
        recorded = [own, *_values_before(rung, arrived, others)]
        return is_promoted(own, recorded, self.reduction_factor)


def _values_before(rung: int, arrived: tuple[float, int], others: Sequence[Curve]) -> list[float]:
    """The values at `rung` of the trials that got there before `arrived`."""
    return [
        value
        for other in others
        if (seen := arrival(other, rung)) is not None
        and seen < arrived
        and (value := rung_value(other, rung)) is not None
    ]
