"""Trial bookkeeping of the local runner: create a TuningTrial, record a trainer's
reports on it, and settle its phase when its process ends.

The documents are the same TuningTrials the operator keeps in a cluster, so the
planner, `kubetune status` and the plots read local and cluster trials alike.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from kubetune.api import (
    TrialPhase,
    TuningTrial,
    TuningTrialSpec,
    TuningTrialStatus,
    record_metrics,
)
from kubetune.planning.suggest import NewTrial
from kubetune.reporting.protocol import MetricReport

MISSING_OBJECTIVE = "MissingObjectiveMetric"
EXIT_CODE = "ExitCode"
TIMEOUT = "TrialTimeout"
STOPPED = "EarlyStopped"


def now() -> datetime:
    return datetime.now(UTC)


def new_trial(experiment: str, planned: NewTrial) -> TuningTrial:
    spec = TuningTrialSpec(experiment=experiment, index=planned.index, parameters=planned.params)
    return TuningTrial(metadata={"name": planned.name}, spec=spec)


def reset_for_rerun(trial: TuningTrial) -> None:
    """A trial whose process was lost starts over under the same name and index: its
    partial curve came from a run that no longer exists."""
    trial.status = TuningTrialStatus(phase="Pending")


def mark_running(trial: TuningTrial) -> None:
    trial.status.phase = "Running"
    trial.status.start_time = now()


def record_report(trial: TuningTrial, report: MetricReport) -> None:
    if report.step is None:
        trial.status.metrics = {**trial.status.metrics, **report.metrics}
    else:
        record_metrics(trial.status, report.step, report.metrics)


def settle(trial: TuningTrial, phase: TrialPhase, reason: str, message: str = "") -> None:
    trial.status.phase = phase
    trial.status.reason = reason
    trial.status.message = message or None
    trial.status.completion_time = now()


def settle_exit(trial: TuningTrial, code: int, metric: str, stderr_tail: str) -> None:
    """Succeeded only with the objective reported; a crash keeps its last stderr lines."""
    if code == 0:
        if metric in trial.status.metrics:
            settle(trial, "Succeeded", "Completed")
        else:
            settle(trial, "Failed", MISSING_OBJECTIVE, f"objective metric {metric} never reported")
        return
    how = f"killed by signal {-code}" if code < 0 else f"exited with code {code}"
    detail = f"{how}; last stderr lines:\n{stderr_tail}" if stderr_tail else how
    settle(trial, "Failed", EXIT_CODE, detail)


def objective_value(trial: TuningTrial, metric: str) -> float | None:
    value = trial.status.metrics.get(metric)
    return value if value is not None and math.isfinite(value) else None
