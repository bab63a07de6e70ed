"""The planner's view of one trial: a small, frozen record built from a `TuningTrial`.

Decisions need only the name, index, parameters, phase, objective value and the
objective's learning curve. Reducing a trial to that keeps every decision in
`progress` and `suggest` a pure function that both the operator (trials read from the
API server) and the local runner (trials read from JSON files) call the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from kubetune.api import Objective, TrialPhase, TuningTrial
from kubetune.search.space import Assignment

ACTIVE_PHASES: tuple[TrialPhase, ...] = ("Pending", "Running")
COMPLETED_PHASES: tuple[TrialPhase, ...] = ("Succeeded", "Failed", "EarlyStopped")


class CurveStep(NamedTuple):
    """The objective reported at one step, and when it was recorded (seconds since the
    epoch; 0 for a point stored without its time)."""

    step: int
    value: float
    at: float = 0.0


@dataclass(frozen=True)
class TrialRecord:
    """`value` and `curve` are the objective as reported (not negated): the recorded value,
    and the learning curve with strictly increasing steps."""

    name: str
    index: int
    params: Assignment
    phase: TrialPhase
    value: float | None = None
    curve: tuple[CurveStep, ...] = ()

    @property
    def active(self) -> bool:
        return self.phase in ACTIVE_PHASES


def record_of(trial: TuningTrial, objective: Objective) -> TrialRecord:
    """The record of a stored trial, reading the objective metric from its status."""
    status = trial.status
    points = [
        CurveStep(p.step, p.values[objective.metric], p.at.timestamp() if p.at else 0.0)
        for p in status.curve
        if objective.metric in p.values
    ]
    return TrialRecord(
        name=str(trial.metadata.get("name", "")),
        index=trial.spec.index,
        params=dict(trial.spec.parameters),
        phase=status.phase,
        value=status.metrics.get(objective.metric),
        curve=clean_curve(points),
    )


def clean_curve(points: Iterable[CurveStep]) -> tuple[CurveStep, ...]:
    """Steps sorted and unique (the latest point of a repeated step wins): a retried
    trainer reports its early steps again, and stopping rules need increasing steps."""
    by_step = {point.step: point for point in points}
    return tuple(by_step[step] for step in sorted(by_step))


def trial_name(experiment: str, index: int) -> str:
    """Deterministic, so a restarted planner re-derives the same name and a second create
    of the same trial is a conflict rather than a duplicate."""
    return f"{experiment}-{index:04d}"
