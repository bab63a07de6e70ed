"""The learning curve every stopping rule judges, and the reductions rules share.

A rule sees curves only, never Kubernetes objects or metric payloads: that keeps the
rules pure, so a restarted operator that rebuilds the curves from the API server gets
the same decisions. Values are minimized; the API layer negates maximized metrics.
"""

from __future__ import annotations

import itertools
import math
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import cached_property


@dataclass(frozen=True)
class Curve:
    """One trial's intermediate values: `values[i]` was reported at `steps[i]`, and
    recorded at time `arrivals[i]` (any clock shared by the experiment's trials; empty
    when unknown, which counts as time 0).

    `index` is the trial's ordinal in the experiment (hyperband derives the bracket from
    it). Steps must be strictly increasing, so "the value at step t" is well defined.

    With several objectives, `objectives[i]` holds every objective's value at `steps[i]`,
    minimized, in spec order, so `objectives[i][0] == values[i]` (the first objective is
    still `values`, which the rules that rank one number use). Empty for a single
    objective. ASHA counts a trial whose vectors are narrower than its peers' as the worst
    in the objectives it lacks.
    """

    trial: str
    index: int
    steps: tuple[int, ...]
    values: tuple[float, ...]
    arrivals: tuple[float, ...] = ()
    objectives: tuple[tuple[float, ...], ...] = ()

    def __post_init__(self) -> None:
        if len(self.steps) != len(self.values):
            raise ValueError(
                f"curve {self.trial!r}: {len(self.steps)} steps but {len(self.values)} values"
            )
        if self.arrivals and len(self.arrivals) != len(self.steps):
            raise ValueError(
                f"curve {self.trial!r}: {len(self.steps)} steps but {len(self.arrivals)} arrivals"
            )
        if any(later <= earlier for earlier, later in itertools.pairwise(self.steps)):
            raise ValueError(f"curve {self.trial!r}: steps must be strictly increasing")
        if self.objectives:
            self._check_objectives()

    def _check_objectives(self) -> None:
        name, widths = repr(self.trial), {len(vector) for vector in self.objectives}
        if len(self.objectives) != len(self.steps):
            raise ValueError(
                f"curve {name}: {len(self.steps)} steps but {len(self.objectives)} vectors"
            )
        if len(widths) != 1 or 0 in widths:
            raise ValueError(f"curve {name}: objective vectors must share one width >= 1")
        firsts = [as_minimizable(vector[0]) for vector in self.objectives]
        if firsts != [as_minimizable(value) for value in self.values]:
            raise ValueError(f"curve {name}: each objective vector must start with its value")

    @cached_property
    def prefix_sums(self) -> tuple[float, ...]:
        """Sums of the first 1, 2, ... values; cached because the operator asks every
        other trial's running average on every report (O(trials) per decision)."""
        return tuple(itertools.accumulate(as_minimizable(value) for value in self.values))

    @cached_property
    def prefix_minima(self) -> tuple[float, ...]:
        return tuple(itertools.accumulate((as_minimizable(v) for v in self.values), min))

    @cached_property
    def rung_entries(self) -> dict[int, tuple[tuple[float, int], float] | None]:
        """`rung_entry` by rung, filled as asked: a finished trial's curve is kept between
        passes, and its entries never change."""
        return {}

    @cached_property
    def rung_vectors(self) -> dict[int, tuple[float, ...] | None]:
        """`rung_objectives` by rung, filled as asked, as `rung_entries`."""
        return {}

    @property
    def last_step(self) -> int | None:
        return self.steps[-1] if self.steps else None


def as_minimizable(value: float) -> float:
    """NaN (a diverged trainer) compares as the worst value instead of poisoning sorts."""
    return math.inf if math.isnan(value) else value


def rung_value(curve: Curve, rung: int) -> float | None:
    """The value reported at the latest step at or before `rung`; None if none was."""
    position = bisect_right(curve.steps, rung)
    return as_minimizable(curve.values[position - 1]) if position else None


def rung_objectives(curve: Curve, rung: int) -> tuple[float, ...] | None:
    """Every objective's value at the latest step at or before `rung` (the value alone for
    a single-objective curve), NaN as the worst; None if none was reported."""
    vectors = curve.rung_vectors
    if rung not in vectors:
        position = bisect_right(curve.steps, rung)
        vectors[rung] = _minimizable_vector(curve, position - 1) if position else None
    return vectors[rung]


def _minimizable_vector(curve: Curve, at: int) -> tuple[float, ...]:
    reported = curve.objectives[at] if curve.objectives else (curve.values[at],)
    return tuple(as_minimizable(value) for value in reported)


def best_until(curve: Curve, step: int) -> float | None:
    """The best (lowest) value reported at or before `step`; None if none was."""
    position = bisect_right(curve.steps, step)
    return curve.prefix_minima[position - 1] if position else None


def running_average_until(curve: Curve, step: int) -> float | None:
    """The mean of the values reported at or before `step`; None if none was."""
    position = bisect_right(curve.steps, step)
    return curve.prefix_sums[position - 1] / position if position else None


def arrival(curve: Curve, step: int) -> tuple[float, int] | None:
    """When the trial first reported at or beyond `step`, ties broken by trial index (the
    trial created first arrived first); None if it has not got there yet."""
    position = bisect_left(curve.steps, step)
    if position == len(curve.steps):
        return None
    return (curve.arrivals[position] if curve.arrivals else 0.0), curve.index


def rung_entry(curve: Curve, rung: int) -> tuple[tuple[float, int], float] | None:
    """When the trial arrived at `rung` and its value there (see `arrival`, `rung_value`);
    None if it has not arrived, or its first report jumped past the rung."""
    entries = curve.rung_entries
    if rung not in entries:
        arrived, value = arrival(curve, rung), rung_value(curve, rung)
        entries[rung] = None if arrived is None or value is None else (arrived, value)
    return entries[rung]


def has_reached(curve: Curve, step: int) -> bool:
    return curve.last_step is not None and curve.last_step >= step
