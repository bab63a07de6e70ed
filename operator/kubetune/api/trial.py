"""The `TuningTrial` resource: one suggested assignment, its Job and its metrics.

The learning curve is capped at MAX_CURVE_POINTS: when full, every other older point is
dropped (first and latest kept), so a long run keeps an evenly thinned history and the
object stays far below etcd's size limit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from kubetune.api.base import (
    GROUP_VERSION,
    MAX_OBJECTIVES,
    MicroTimestamp,
    RecordModel,
    StatusModel,
    Timestamp,
)
from kubetune.api.status import ParameterValue

MAX_CURVE_POINTS = 100
# Queued and Preempted happen only to trials admitted by Kueue (spec.trial.queue): waiting
# for admission, and waiting again after an eviction took a running trial's quota.
TrialPhase = Literal[
    "Pending", "Queued", "Running", "Preempted", "Succeeded", "Failed", "EarlyStopped"
]
# Which of a metric's reported values a trial records (spec.objective.strategies).
MetricStrategy = Literal["latest", "min", "max"]
DEFAULT_STRATEGY: MetricStrategy = "latest"


class CurvePoint(StatusModel):
    """The metrics a trainer reported at one step."""

    step: int
    """The step reported with the metrics, usually an epoch."""
    values: dict[str, float] = Field(default_factory=dict)
    """Metric values at that step, by name."""
    at: MicroTimestamp | None = None
    """When the step was first recorded (RFC 3339 with microseconds). Early stopping judges
    a trial at a rung against the trials that reached that rung before it."""


class TuningTrialSpec(RecordModel):
    """One suggested assignment of the experiment's parameters, written by the operator."""

    experiment: str = Field(min_length=1, max_length=253)
    """Name of the TuningExperiment this trial belongs to (same namespace)."""
    index: int = Field(ge=0)
    """Position in the experiment's sequence of trials, from 0; names end with it."""
    parameters: dict[str, ParameterValue] = Field(default_factory=dict)
    """The suggested value of each parameter, by name."""
    objective_metric: str | None = None
    """The experiment's objective metric, so the ingest can judge a report (a non-finite
    objective fails the trial) without reading the experiment."""
    objective_metrics: list[str] = Field(default_factory=list, max_length=MAX_OBJECTIVES)
    """With several objectives, every objective metric in the experiment's order (the
    first is objectiveMetric): the ingest fails a trial when any of them is not finite."""
    strategies: dict[str, MetricStrategy] = Field(default_factory=dict)
    """The experiment's spec.objective.strategies, so the ingest records each metric by its
    strategy without reading the experiment."""

    @property
    def judged_metrics(self) -> tuple[str, ...]:
        """The objective metrics a report must keep finite and a finished run must hold."""
        if self.objective_metrics:
            return tuple(self.objective_metrics)
        return (self.objective_metric,) if self.objective_metric else ()


class TuningTrialStatus(StatusModel):
    """What the trial's run has shown: phase, reason and reported metrics."""

    phase: TrialPhase = "Pending"
    """Pending, Running, or once ended Succeeded, Failed or EarlyStopped. Under Kueue
    (spec.trial.queue) also Queued (waiting for admission) and Preempted (evicted while
    running, waiting to be admitted again with the same parameters)."""
    value: float | None = None
    """Recorded value of the objective metric (its latest, or its min or max under
    spec.objective.strategies); absent until the trainer reports it."""
    metrics: dict[str, float] = Field(default_factory=dict)
    """Each metric's recorded value, by name: its latest, or its min or max under the
    experiment's spec.objective.strategies."""
    feasible: bool | None = None
    """Whether the trial's recorded metrics meet every one of the experiment's
    spec.constraints; set when the trial succeeds, absent without constraints. An
    infeasible trial is kept but never the best trial nor on the Pareto front."""
    curve: list[CurvePoint] = Field(default_factory=list, max_length=MAX_CURVE_POINTS)
    """Reported metrics by step; when full, thinned evenly, keeping the first and the latest."""
    job_name: str | None = None
    """Name of the Job that runs the trial."""
    start_time: Timestamp | None = None
    """When the trial's workload started (RFC 3339)."""
    completion_time: Timestamp | None = None
    """When the trial ended (RFC 3339)."""
    preemptions: int | None = Field(None, ge=1)
    """How often Kueue evicted the trial while it ran (absent: never); a preemption is not
    a failure."""
    reason: str | None = None
    """Why the trial ended (or, queued or preempted, why it waits), as one CamelCase word,
    e.g. Completed, EarlyStopped, OOMKilled."""
    message: str | None = None
    """Why the trial ended (or why it waits), in words a person reads."""


class TuningTrial(RecordModel):
    """One trial of a TuningExperiment: its parameters, its Job and its metrics."""

    api_version: Literal["kubetune.dev/v1alpha1"] = GROUP_VERSION
    kind: Literal["TuningTrial"] = "TuningTrial"
    metadata: dict[str, Any] = Field(default_factory=dict)
    spec: TuningTrialSpec
    status: TuningTrialStatus = Field(default_factory=TuningTrialStatus)


def append_curve_point(
    curve: list[CurvePoint],
    step: int,
    values: dict[str, float],
    at: datetime | None = None,
    limit: int = MAX_CURVE_POINTS,
) -> list[CurvePoint]:
    """A new curve with `values` recorded at `step` at time `at`, merged into the last
    point when the step repeats (which keeps its first time), thinned to at most `limit`
    points."""
    if curve and curve[-1].step == step:
        merged = curve[-1].model_copy(update={"values": {**curve[-1].values, **values}})
        return [*curve[:-1], merged]
    grown = [*curve, CurvePoint(step=step, values=dict(values), at=at)]
    return grown if len(grown) <= limit else _thin(grown)


def _thin(curve: list[CurvePoint]) -> list[CurvePoint]:
    """Every other point of the history, always keeping the first and the latest."""
    return [*curve[:-1:2], curve[-1]]
