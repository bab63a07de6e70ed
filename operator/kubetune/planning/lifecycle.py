"""The trial lifecycle, defined once for both runtimes: recording a trainer's reports and
settling a trial with a phase and a typed reason.

The operator (reports through the ingest endpoint, outcomes read from Jobs and Pods) and
the local runner (reports read from a child process, outcomes from its exit code) only
observe and act; every rule about what a report or an outcome does to a trial lives
here, so the same trainer gets the same trial in both places.

Recording is at-least-once safe: a report at a step the curve already has (or an earlier
one) rewinds the curve to that step before appending, so a resent batch rewrites the same
points and a retried trainer replaces its old attempt instead of breaking the strictly
increasing steps the stopping rules need.

A non-finite objective (a diverged trainer printing ``loss=nan``; with several
objectives, any of them) fails the trial at once
with `ObjectiveNotFinite`: the search already treats a failed trial as the worst value,
it is never the best trial, and continuing a diverged run only burns GPU time. Other
non-finite metrics are dropped (JSON, and so the API server, cannot store them).

Each metric's recorded value follows its strategy (spec.objective.strategies): its latest
report (the default), or the min or max of every finite value reported, so the search,
the best trial and the target all judge the value the user asked for. A min or max is a
running fold rather than a scan of the curve: the curve is thinned, and a resent batch
must leave the value as it was. So it spans every attempt of a retried pod. The curve
itself keeps the values per step, which the stopping rules compare.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from kubetune.api import (
    DEFAULT_STRATEGY,
    Constraint,
    MetricStrategy,
    TrialPhase,
    TuningTrialStatus,
)
from kubetune.api.trial import CurvePoint, append_curve_point
from kubetune.planning.records import COMPLETED_PHASES
from kubetune.reporting.protocol import MetricReport

# A trial's status must stay small whatever its trainer (or a stolen token) sends: the
# curve is thinned at MAX_CURVE_POINTS, and the distinct metric names are capped here.
MAX_METRIC_NAMES = 64

Strategies = Mapping[str, MetricStrategy]
ALL_LATEST: Strategies = {}


class TrialReason(StrEnum):
    """Why a trial is where it is. Kubernetes' own failure reasons (ImagePullBackOff,
    DeadlineExceeded, BackoffLimitExceeded...) pass through as plain strings."""

    COMPLETED = "Completed"
    MISSING_OBJECTIVE = "MissingObjectiveMetric"
    OBJECTIVE_NOT_FINITE = "ObjectiveNotFinite"
    EXIT_CODE = "ExitCode"
    OOM_KILLED = "OOMKilled"
    TIMEOUT = "TrialTimeout"
    START_ERROR = "StartError"
    JOB_DELETED = "JobDeleted"
    EARLY_STOPPED = "EarlyStopped"
    EXPERIMENT_FINISHED = "ExperimentFinished"
    # Under Kueue (spec.trial.queue): why a trial waits, or why it never can run.
    WAITING_FOR_QUOTA = "WaitingForQuota"
    PREEMPTED = "Preempted"
    EXCEEDS_MAX_QUOTA = "ExceedsMaxQuota"
    NO_MATCHING_FLAVOR = "NoMatchingFlavor"


@dataclass(frozen=True)
class Refusal:
    """Reports that were not recorded, and why; `status` is the HTTP answer the ingest gives."""

    status: int
    reason: str
    message: str


@dataclass(frozen=True)
class Outcome:
    """What a trial's workload shows: still going, or ended (`reason` says how), with the
    final metrics it carries (a termination message), recorded before it is judged."""

    phase: TrialPhase
    reason: str | None = None
    message: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.phase in COMPLETED_PHASES


def is_finished(status: TuningTrialStatus) -> bool:
    return status.phase in COMPLETED_PHASES


def record_reports(
    status: TuningTrialStatus,
    reports: Iterable[MetricReport],
    objectives: tuple[str, ...],
    now: datetime,
    strategies: Strategies = ALL_LATEST,
) -> TuningTrialStatus | Refusal:
    """The status with `reports` recorded, in the order the trainer made them, each metric
    by its strategy; or why none of them is recorded (a finished trial's history never
    changes)."""
    if is_finished(status):
        return Refusal(409, "trial_finished", f"the trial is already {status.phase}")
    reports = list(reports)
    refused = _too_many_names(status, reports)
    if refused is not None:
        return refused
    recorded = status.model_copy(deep=True)
    times = first_times(status.curve, now)
    for report in reports:
        diverged = _record_one(recorded, report, objectives, times, strategies)
        if diverged is not None:
            return settle(recorded, "Failed", TrialReason.OBJECTIVE_NOT_FINITE, diverged, now)
    return recorded


def _too_many_names(status: TuningTrialStatus, reports: list[MetricReport]) -> Refusal | None:
    names = set(status.metrics).union(*(report.metrics for report in reports))
    if len(names) <= MAX_METRIC_NAMES:
        return None
    message = f"a trial records at most {MAX_METRIC_NAMES} distinct metric names"
    return Refusal(422, "too_many_metrics", message)


def _record_one(
    status: TuningTrialStatus,
    report: MetricReport,
    objectives: tuple[str, ...],
    times: Callable[[int], datetime | None],
    strategies: Strategies,
) -> str | None:
    """Record one report in place; the divergence message when an objective is not finite."""
    for objective in objectives:
        value = report.metrics.get(objective)
        if value is not None and not math.isfinite(value):
            at = "" if report.step is None else f" at step {report.step}"
            return f"the trainer reported {objective}={value}{at}; the objective must be finite"
    finite = {name: v for name, v in report.metrics.items() if math.isfinite(v)}
    status.metrics = folded(status.metrics, finite, strategies)
    # The primary objective has its own field, for a printer column.
    status.value = status.metrics.get(objectives[0]) if objectives else None
    if report.step is not None and finite:
        kept = rewind_curve(status.curve, report.step)
        status.curve = append_curve_point(kept, report.step, finite, times(report.step))
    return None


def folded(
    metrics: Mapping[str, float], values: Mapping[str, float], strategies: Strategies
) -> dict[str, float]:
    """`metrics` with each of `values` recorded by its metric's strategy."""
    updates = {
        name: _by_strategy(strategies.get(name, DEFAULT_STRATEGY), metrics.get(name), value)
        for name, value in values.items()
    }
    return {**metrics, **updates}


def _by_strategy(strategy: MetricStrategy, recorded: float | None, value: float) -> float:
    if recorded is None or strategy == "latest":
        return value
    return min(recorded, value) if strategy == "min" else max(recorded, value)


def first_times(curve: list[CurvePoint], now: datetime) -> Callable[[int], datetime | None]:
    """When each step was first recorded: the time the stored curve has for it, else `now`.
    So a resent batch, or a log read again after the sidecar delivered it, changes nothing."""
    stored = {point.step: point.at for point in curve}
    return lambda step: stored.get(step, now)


def rewind_curve(curve: list[CurvePoint], step: int) -> list[CurvePoint]:
    """The curve without the points at or after `step` (usually all of it)."""
    if not curve or curve[-1].step < step:
        return curve
    return [point for point in curve if point.step < step]


def settle(
    status: TuningTrialStatus, phase: TrialPhase, reason: str, message: str, now: datetime
) -> TuningTrialStatus:
    """The status of a trial that ended; a trial already settled keeps its first ending."""
    if is_finished(status):
        return status
    return status.model_copy(
        update={
            "phase": phase,
            "reason": str(reason),
            "message": message or None,
            "completion_time": status.completion_time or now,
        }
    )


def conclude(
    status: TuningTrialStatus,
    outcome: Outcome,
    objectives: tuple[str, ...],
    now: datetime,
    strategies: Strategies = ALL_LATEST,
    *,
    constraints: Sequence[Constraint] = (),
) -> TuningTrialStatus:
    """The status once its workload shows `outcome`. A workload that succeeded without
    every objective metric is a failed trial, in both runtimes; one that succeeded under
    constraints is marked feasible or not."""
    if is_finished(status):
        return status
    if outcome.metrics:
        final = [MetricReport(None, outcome.metrics)]
        recorded = record_reports(status, final, objectives, now, strategies)
        status = recorded if isinstance(recorded, TuningTrialStatus) else status
    if is_finished(status):
        return status
    if not outcome.finished:
        return _going(status, outcome)
    missing = [name for name in objectives if name not in status.metrics]
    if outcome.phase == "Succeeded" and missing:
        message = f"the trainer finished without reporting the objective metric {missing[0]!r}"
        return settle(status, "Failed", TrialReason.MISSING_OBJECTIVE, message, now)
    reason = outcome.reason or TrialReason.COMPLETED
    settled = settle(status, outcome.phase, reason, outcome.message or "", now)
    return _judged_feasible(settled, constraints) if outcome.phase == "Succeeded" else settled


def _going(status: TuningTrialStatus, outcome: Outcome) -> TuningTrialStatus:
    """A trial that has not ended takes its workload's phase, and says why it waits. A
    running trial sent back to the queue was preempted: not a failure, it keeps its
    parameters and what it reported, and runs again when admitted (resuming from its
    checkpoint if its trainer wrote one)."""
    update: dict[str, object] = {"phase": outcome.phase, "reason": None, "message": None}
    if outcome.phase == "Queued" and status.phase in ("Running", "Preempted"):
        again = status.phase == "Running"
        preemptions = (status.preemptions or 0) + again
        message = f"evicted while running (preemption {preemptions}); runs again when admitted"
        update = {"phase": "Preempted", "reason": str(TrialReason.PREEMPTED), "message": message}
        update["preemptions"] = preemptions
    elif outcome.phase == "Queued":
        update |= {"reason": outcome.reason and str(outcome.reason), "message": outcome.message}
    return status.model_copy(update=update)


def _judged_feasible(
    status: TuningTrialStatus, constraints: Sequence[Constraint]
) -> TuningTrialStatus:
    """A succeeded trial marked by whether it meets every constraint (none: unmarked)."""
    if not constraints:
        return status
    holds = all(c.violation(status.metrics.get(c.metric)) <= 0.0 for c in constraints)
    return status.model_copy(update={"feasible": holds})


def exit_outcome(code: int, stderr_tail: str) -> Outcome:
    """The outcome of a trainer process that exited with `code` (negative: a signal)."""
    if code == 0:
        return Outcome("Succeeded", TrialReason.COMPLETED)
    how = f"killed by signal {-code}" if code < 0 else f"exited with code {code}"
    detail = f"{how}; last stderr lines:\n{stderr_tail}" if stderr_tail else how
    return Outcome("Failed", TrialReason.EXIT_CODE, detail)
