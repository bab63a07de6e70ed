"""The one small interface every search algorithm implements.

A suggester is stateless: its output is a pure function of (space, finished trials,
pending trials, seed, n). That is what makes the operator restart-safe: a restarted
operator rebuilds the same history from the API server and gets the same suggestions.
Objective values are always minimized here; the API layer negates maximized metrics.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from kubetune.search.space import Assignment, SearchSpace


@dataclass(frozen=True)
class Observation:
    """A finished trial: its parameters and objective value (lower is better)."""

    params: Assignment
    value: float


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
