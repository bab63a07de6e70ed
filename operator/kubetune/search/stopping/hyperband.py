"""Hyperband (Li et al., JMLR 2018) as brackets of asynchronous successive halving.

ASHA with a small min_resource bets that early values predict final ones; when that bet
is wrong (slow starters), it prunes the best trials. Hyperband hedges: bracket s runs
ASHA with min_resource * eta**s, so the last bracket barely prunes at all. Trials are
dealt to brackets round robin by their index, which needs no state and keeps the
brackets equally full; a trial is compared only with trials of its own bracket.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from kubetune.search.stopping.asha import AshaStopping, rungs
from kubetune.search.stopping.curve import Curve
from kubetune.search.stopping.settings import require_above, require_int


@dataclass(frozen=True)
class HyperbandStopping:
    max_resource: int
    min_resource: int = 1
    reduction_factor: int = 3

    def __post_init__(self) -> None:
        require_int("hyperband", "min_resource", self.min_resource, minimum=1)
        require_int("hyperband", "max_resource", self.max_resource, minimum=1)
        require_int("hyperband", "reduction_factor", self.reduction_factor, minimum=2)
        require_above(
            "hyperband", "max_resource", self.max_resource, "min_resource", self.min_resource
        )

    @cached_property
    def brackets(self) -> tuple[AshaStopping, ...]:
        """One ASHA per rung of the base bracket: bracket s starts at its s-th rung."""
        starts = rungs(self.min_resource, self.reduction_factor, self.max_resource)
        return tuple(
            AshaStopping(start, self.max_resource, self.reduction_factor) for start in starts
        )

    def bracket_of(self, curve: Curve) -> int:
        return curve.index % len(self.brackets)

    def should_stop(self, curve: Curve, others: Sequence[Curve]) -> bool:
        bracket = self.bracket_of(curve)
        peers = [other for other in others if self.bracket_of(other) == bracket]
        return self.brackets[bracket].should_stop(curve, peers)

    def stops(self, curves: Sequence[Curve], everyone: Sequence[Curve]) -> list[bool]:
        """Each bracket's ASHA judges its own trials against its own peers."""
        decisions: dict[str, bool] = {}
        for bracket, asha in enumerate(self.brackets):
            mine = [curve for curve in curves if self.bracket_of(curve) == bracket]
            peers = [curve for curve in everyone if self.bracket_of(curve) == bracket]
            decisions |= zip((c.trial for c in mine), asha.stops(mine, peers), strict=True)
        return [decisions[curve.trial] for curve in curves]
