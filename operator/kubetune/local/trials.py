"""Trial bookkeeping of the local runner: create a TuningTrial, and apply the shared
lifecycle (`planning.lifecycle`) to it as its process reports and ends.

The documents are the same TuningTrials the operator keeps in a cluster, so the
planner, `kubetune status` and the plots read local and cluster trials alike; the rules
(what a report records, when a trial fails) are the operator's, not a copy of them.
"""

from __future__ import annotations

from datetime import UTC, datetime

from kubetune.api import Objective, TuningTrial, TuningTrialSpec, TuningTrialStatus
from kubetune.planning.lifecycle import Outcome, Refusal, conclude, record_reports
from kubetune.planning.suggest import NewTrial
from kubetune.reporting.protocol import MetricReport


def now() -> datetime:
    return datetime.now(UTC)


def new_trial(experiment: str, planned: NewTrial, objective: Objective) -> TuningTrial:
    spec = TuningTrialSpec(
        experiment=experiment,
        index=planned.index,
        parameters=planned.params,
        objective_metric=objective.metric,
        strategies=objective.strategies,
    )
    return TuningTrial(metadata={"name": planned.name}, spec=spec)


def reset_for_rerun(trial: TuningTrial) -> None:
    """A trial whose process was lost starts over under the same name and index: its
    partial curve came from a run that no longer exists."""
    trial.status = TuningTrialStatus(phase="Pending")


def mark_running(trial: TuningTrial) -> None:
    trial.status.phase = "Running"
    trial.status.start_time = now()


def record(trial: TuningTrial, reports: list[MetricReport], objective: str) -> Refusal | None:
    """Record reports on the trial as the ingest endpoint would (each metric by the
    strategy the trial carries); the refusal, if any."""
    strategies = trial.spec.strategies
    recorded = record_reports(trial.status, reports, objective, now(), strategies)
    if isinstance(recorded, Refusal):
        return recorded
    trial.status = recorded
    return None


def end(trial: TuningTrial, outcome: Outcome, objective: str) -> None:
    trial.status = conclude(trial.status, outcome, objective, now(), trial.spec.strategies)
