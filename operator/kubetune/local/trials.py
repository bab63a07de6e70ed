"""Trial bookkeeping of the local runner: create a TuningTrial, and apply the shared
lifecycle (`planning.lifecycle`) to it as its process reports and ends.

The documents are the same TuningTrials the operator keeps in a cluster, so the
planner, `kubetune status` and the plots read local and cluster trials alike; the rules
(what a report records, when a trial fails) are the operator's, not a copy of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from kubetune.api import (
    Constraint,
    TuningExperimentSpec,
    TuningTrial,
    TuningTrialSpec,
    TuningTrialStatus,
    dump_resource,
)
from kubetune.planning.jobs import trial_judging
from kubetune.planning.lifecycle import Outcome, Refusal, conclude, record_reports
from kubetune.planning.suggest import NewTrial
from kubetune.reporting.protocol import MetricReport


def now() -> datetime:
    return datetime.now(UTC)


def new_trial(experiment: str, planned: NewTrial, spec: TuningExperimentSpec) -> TuningTrial:
    """A trial carrying what the operator's trials carry (see `jobs.trial_judging`)."""
    judging = trial_judging(dump_resource(spec))
    trial_spec = TuningTrialSpec.model_validate(
        {"experiment": experiment, "index": planned.index, "parameters": planned.params, **judging}
    )
    return TuningTrial(metadata={"name": planned.name}, spec=trial_spec)


def reset_for_rerun(trial: TuningTrial) -> None:
    """A trial whose process was lost starts over under the same name and index: its
    partial curve came from a run that no longer exists."""
    trial.status = TuningTrialStatus(phase="Pending")


def mark_running(trial: TuningTrial) -> None:
    trial.status.phase = "Running"
    trial.status.start_time = now()


def record(trial: TuningTrial, reports: list[MetricReport]) -> Refusal | None:
    """Record reports on the trial as the ingest endpoint would (judged by the objective
    metrics, each metric by the strategy, the trial carries); the refusal, if any."""
    objectives, strategies = trial.spec.judged_metrics, trial.spec.strategies
    recorded = record_reports(trial.status, reports, objectives, now(), strategies)
    if isinstance(recorded, Refusal):
        return recorded
    trial.status = recorded
    return None


def end(trial: TuningTrial, outcome: Outcome, constraints: Sequence[Constraint] = ()) -> None:
    objectives, strategies = trial.spec.judged_metrics, trial.spec.strategies
    trial.status = conclude(
        trial.status, outcome, objectives, now(), strategies, constraints=constraints
    )
