"""The status of a `TuningExperiment`, written only by the operator.

Bounded by design: counts, the best trial and conditions, never a list of trials (one
`TuningTrial` object per trial holds the details).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from kubetune.api.base import StatusModel, Timestamp

ExperimentPhase = Literal["Pending", "Running", "Succeeded", "Failed", "Stopped"]
# Phases nothing changes any more: no pass, no resume.
TERMINAL_PHASES: tuple[ExperimentPhase, ...] = ("Succeeded", "Failed", "Stopped")
ParameterValue = float | int | str


class TrialCounts(StatusModel):
    created: int = 0
    running: int = 0
    succeeded: int = 0
    failed: int = 0
    stopped: int = 0


class BestTrial(StatusModel):
    trial: str
    value: float
    parameters: dict[str, ParameterValue] = Field(default_factory=dict)


class Condition(StatusModel):
    """A Kubernetes-style condition, e.g. type=Succeeded status=True reason=GoalReached."""

    type: str
    status: Literal["True", "False", "Unknown"]
    reason: str = ""
    message: str = ""
    last_transition_time: Timestamp | None = None


class TuningExperimentStatus(StatusModel):
    phase: ExperimentPhase = "Pending"
    trials: TrialCounts = Field(default_factory=TrialCounts)
    best: BestTrial | None = None
    conditions: list[Condition] = Field(default_factory=list)
    start_time: Timestamp | None = None
    completion_time: Timestamp | None = None
