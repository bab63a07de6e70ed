"""An event-driven simulation of a tuning experiment with parallel workers, so early
stopping rules can be compared on wall-clock time without a cluster.

Each worker trains one configuration step by step; the clock advances by that step's
cost; after every step the rule is consulted with the curves all trials have reported
up to that instant, exactly as the operator sees them. A stopped or finished trial
frees its worker for the next configuration in the queue.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from kubetune.search.stopping import Curve, StoppingRule


@dataclass(frozen=True)
class Problem:
    """Precomputed learning curves: `values[i, e]` is configuration i's value (minimized)
    after epoch e + 1, and `costs[i, e]` the time that epoch takes."""

    name: str
    values: npt.NDArray[np.float64]
    costs: npt.NDArray[np.float64]

    @property
    def max_epochs(self) -> int:
        return int(self.values.shape[1])


@dataclass
class Run:
    """What one simulated experiment reported: (time, value) of every step, in time
    order, and which configurations were stopped before their last epoch."""

    reports: list[tuple[float, float]] = field(default_factory=list)
    stopped: set[int] = field(default_factory=set)

    def time_to_reach(self, target: float) -> float:
        return next((time for time, value in self.reports if value <= target), np.inf)


def simulate(problem: Problem, rule: StoppingRule | None, workers: int) -> Run:
    run = Run()
    curves: dict[int, Curve] = {}
    queue = iter(range(problem.values.shape[0]))
    events: list[tuple[float, int, int]] = []  # (finish time, config, epoch index)

    def start_next(now: float) -> None:
        config = next(queue, None)
        if config is not None:
            heapq.heappush(events, (now + float(problem.costs[config, 0]), config, 0))

    for _ in range(workers):
        start_next(0.0)
    while events:
        now, config, epoch = heapq.heappop(events)
        curves[config] = _extended(curves.get(config), config, problem, epoch)
        run.reports.append((now, float(problem.values[config, epoch])))
        if epoch + 1 == problem.max_epochs:
            start_next(now)
        elif rule is not None and rule.should_stop(curves[config], _others(curves, config)):
            run.stopped.add(config)
            start_next(now)
        else:
            next_cost = float(problem.costs[config, epoch + 1])
            heapq.heappush(events, (now + next_cost, config, epoch + 1))
    return run


def _extended(curve: Curve | None, config: int, problem: Problem, epoch: int) -> Curve:
    value = float(problem.values[config, epoch])
    if curve is None:
        return Curve(f"trial-{config:04d}", config, (epoch + 1,), (value,))
    return Curve(curve.trial, config, (*curve.steps, epoch + 1), (*curve.values, value))


def _others(curves: dict[int, Curve], config: int) -> list[Curve]:
    return [curve for index, curve in curves.items() if index != config]
