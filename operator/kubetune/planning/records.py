"""The planner's view of one trial: a small, frozen record built from a `TuningTrial`.

Decisions need only the name, index, parameters, phase, the objectives' values and
learning curve, and how far the trial lies outside each constraint. Reducing a trial to
that keeps every decision in `progress` and `suggest` a pure function that both the
operator (trials read from the API server) and the local runner (trials read from JSON
files) call the same way.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from kubetune.api import Criteria, TrialPhase, TuningTrial
from kubetune.search.space import Assignment

# Waiting for admission by Kueue: these trials hold no quota.
WAITING_PHASES: tuple[TrialPhase, ...] = ("Queued", "Preempted")
ACTIVE_PHASES: tuple[TrialPhase, ...] = ("Pending", "Running", *WAITING_PHASES)
COMPLETED_PHASES: tuple[TrialPhase, ...] = ("Succeeded", "Failed", "EarlyStopped")


class CurveStep(NamedTuple):
    """The objective reported at one step, and when it was recorded (seconds since the
    epoch; 0 for a point stored without its time); with several objectives, the further
    ones reported at that step too."""

    step: int
    value: float
    at: float = 0.0
    others: tuple[float, ...] = ()


@dataclass(frozen=True)
class TrialRecord:
    """`value` and `curve` are the (primary) objective as reported (not negated): the
    recorded value, and the learning curve with strictly increasing steps. With several
    objectives, `others` holds the further ones as reported (NaN where missing); with
    constraints, `violations` holds one per constraint (see `Constraint.violation`)."""

    name: str
    index: int
    params: Assignment
    phase: TrialPhase
    value: float | None = None
    curve: tuple[CurveStep, ...] = ()
    others: tuple[float, ...] = ()
    violations: tuple[float, ...] = ()

    @property
    def active(self) -> bool:
        return self.phase in ACTIVE_PHASES

    @property
    def feasible(self) -> bool:
        return all(violation <= 0.0 for violation in self.violations)


def record_of(trial: TuningTrial, criteria: Criteria) -> TrialRecord:
    """The record of a stored trial, reading the objective and constraint metrics from
    its status."""
    status, (metric, *further) = trial.status, criteria.metrics
    return TrialRecord(
        name=str(trial.metadata.get("name", "")),
        index=trial.spec.index,
        params=dict(trial.spec.parameters),
        phase=status.phase,
        value=status.metrics.get(metric),
        curve=clean_curve(_curve_steps(trial, metric, further)),
        others=tuple(status.metrics.get(name, math.nan) for name in further),
        violations=criteria.violations(status.metrics),
    )


def _curve_steps(trial: TuningTrial, metric: str, further: list[str]) -> list[CurveStep]:
    """The steps that report every objective (the stopping rules compare them all)."""
    return [
        CurveStep(
            point.step,
            point.values[metric],
            point.at.timestamp() if point.at else 0.0,
            tuple(point.values[name] for name in further),
        )
        for point in trial.status.curve
        if metric in point.values and all(name in point.values for name in further)
    ]


def clean_curve(points: Iterable[CurveStep]) -> tuple[CurveStep, ...]:
    """Steps sorted and unique (the latest point of a repeated step wins): a retried
    trainer reports its early steps again, and stopping rules need increasing steps."""
    by_step = {point.step: point for point in points}
    return tuple(by_step[step] for step in sorted(by_step))


def trial_name(experiment: str, index: int) -> str:
    """Deterministic, so a restarted planner re-derives the same name and a second create
    of the same trial is a conflict rather than a duplicate."""
    return f"{experiment}-{index:04d}"
