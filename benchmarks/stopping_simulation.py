"""An event-driven simulation of a tuning experiment with parallel workers, so early
stopping rules can be compared on wall-clock time without a cluster.

Each worker trains one configuration step by step; the clock advances by that step's
cost; after every step the rule is consulted with the curves all trials have reported
up to that instant, exactly as the operator sees them. A stopped or finished trial
frees its worker for the next configuration in the queue.

With several objectives (a problem whose `objectives` are wider than one value) the
curves carry every objective, so ASHA judges them as MO-ASHA.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from kubetune.search.stopping import Curve, StoppingRule


class Problem(Protocol):
    """Learning curves of a queue of configurations: `value(i, e)` is configuration i's
    value (minimized) after epoch e + 1, `cost(i, e)` the time that epoch takes, and
    `objectives(i, e)` every objective then (minimized; `value(i, e)` first)."""

    @property
    def name(self) -> str: ...

    @property
    def max_epochs(self) -> int: ...

    def value(self, config: int, epoch: int) -> float: ...

    def cost(self, config: int, epoch: int) -> float: ...

    def objectives(self, config: int, epoch: int) -> tuple[float, ...]: ...


@dataclass(frozen=True)
class TabulatedProblem:
    """Curves computed up front, one row per configuration; `others[i, e]` holds the
    further objectives (shape configs x epochs x k; none for a single objective)."""

    name: str
    values: npt.NDArray[np.float64]
    costs: npt.NDArray[np.float64]
    others: npt.NDArray[np.float64] | None = None

    @property
    def max_epochs(self) -> int:
        return int(self.values.shape[1])

    def value(self, config: int, epoch: int) -> float:
        return float(self.values[config, epoch])

    def cost(self, config: int, epoch: int) -> float:
        return float(self.costs[config, epoch])

    def objectives(self, config: int, epoch: int) -> tuple[float, ...]:
        further = () if self.others is None else tuple(self.others[config, epoch].tolist())
        return (self.value(config, epoch), *further)


@dataclass
class Run:
    """What one simulated experiment reported: (time, value) of every step, in time
    order, and which (configuration, epoch) each was; which configurations were stopped
    before their last epoch, how many began."""

    reports: list[tuple[float, float]] = field(default_factory=list)
    trained: list[tuple[int, int]] = field(default_factory=list)
    stopped: set[int] = field(default_factory=set)
    started: int = 0

    def time_to_reach(self, target: float) -> float:
        return next((time for time, value in self.reports if value <= target), np.inf)


def simulate(
    problem: Problem, rule: StoppingRule | None, workers: int, configs: int, budget: float
) -> Run:
    """Train configurations 0..configs-1 in order until the queue or the time budget
    runs out (steps that would end after `budget` never happen)."""
    run, curves, events = Run(), dict[int, Curve](), list[tuple[float, int, int]]()

    def start_next(now: float) -> None:
        if run.started < configs:
            heapq.heappush(events, (now + problem.cost(run.started, 0), run.started, 0))
            run.started += 1

    for _ in range(workers):
        start_next(0.0)
    while events and events[0][0] <= budget:
        now, config, epoch = heapq.heappop(events)
        vector = problem.objectives(config, epoch)
        curves[config] = _extended(curves.get(config), config, vector, now)
        run.reports.append((now, vector[0]))
        run.trained.append((config, epoch))
        if epoch + 1 == problem.max_epochs:
            start_next(now)
        elif rule is not None and rule.should_stop(curves[config], _others(curves, config)):
            run.stopped.add(config)
            start_next(now)
        else:
            finish = now + problem.cost(config, epoch + 1)
            heapq.heappush(events, (finish, config, epoch + 1))
    return run


def _extended(curve: Curve | None, config: int, vector: tuple[float, ...], now: float) -> Curve:
    """The curve with one more epoch; vectors only with several objectives (Curve's rule)."""
    several = (vector,) if len(vector) > 1 else ()
    if curve is None:
        return Curve(f"trial-{config:04d}", config, (1,), vector[:1], (now,), several)
    steps, values = (*curve.steps, curve.steps[-1] + 1), (*curve.values, vector[0])
    objectives = (*curve.objectives, *several)
    return Curve(curve.trial, config, steps, values, (*curve.arrivals, now), objectives)


def _others(curves: dict[int, Curve], config: int) -> list[Curve]:
    return [curve for index, curve in curves.items() if index != config]
