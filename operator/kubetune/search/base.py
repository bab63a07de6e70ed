"""The one small interface every search algorithm implements.

A suggester is stateless: its output is a pure function of (space, finished trials,
pending trials, seed, n). That is what makes the operator restart-safe: a restarted
operator rebuilds the same history from the API server and gets the same suggestions.
Objective values are always minimized here; the API layer negates maximized metrics.
With several objectives an observation carries one minimized value per objective, and with
constraints one signed violation per constraint (at most 0 when the constraint holds).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from kubetune.search.space import Assignment, SearchSpace


@dataclass(frozen=True)
class Observation:
    """A finished trial: its parameters and objective values (lower is better)."""

    params: Assignment
    value: float
    """The first (or only) objective, minimized."""
    others: tuple[float, ...] = ()
    """The further objectives of a multi-objective search, minimized, in spec order."""
    violations: tuple[float, ...] = ()
    """Per constraint, how far the trial lies outside its bounds: at most 0 when it holds,
    positive by the distance to the nearest bound when it does not."""

    @property
    def values(self) -> tuple[float, ...]:
        return (self.value, *self.others)

    @property
    def feasible(self) -> bool:
        return all(violation <= 0.0 for violation in self.violations)


@dataclass(frozen=True)
class Suggestion:
    """What a suggester returns: up to `n` new assignments, and whether the space is
    exhausted (grid, sobol over a finite space), so the experiment can finish."""

    assignments: list[Assignment] = field(default_factory=list)
    exhausted: bool = False


class Suggester(Protocol):
    def suggest(
        self,
        space: SearchSpace,
        finished: Sequence[Observation],
        pending: Sequence[Assignment],
        n: int,
        seed: int,
    ) -> Suggestion:
        """Return `n` new assignments (fewer only when the space is exhausted).

        `pending` are trials already launched but not finished: they must steer the
        suggestions away from duplicates, so parallel workers do not train copies.
        """
        ...
