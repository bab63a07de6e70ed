"""A trial's status brought in line with its workload, as actions.

The one place where the pass decision meets the shared trial lifecycle (`outcome` reads
the Job and Pods, `status` writes the trial's status document), so that the lifecycle
can change behind three small functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from kubetune.api import TuningExperiment
from kubetune.planning.actions import Action, CreateJob, EmitEvent, PatchTrialStatus
from kubetune.planning.jobs import trainer_name
from kubetune.planning.outcome import TrialOutcome, trial_outcome
from kubetune.planning.progress import TrialStop
from kubetune.planning.records import ACTIVE_PHASES
from kubetune.planning.status import (
    desired_trial_status,
    stopped_trial_status,
    timestamp,
    trial_status_patch,
)

Document = dict[str, Any]
JOB_MISSING = TrialOutcome("Failed", "JobDeleted", "the trial's Job was deleted before it finished")

__all__ = ["ACTIVE_PHASES", "pending_status", "settle_trial", "stopped_status"]


def pending_status(trial: str, now: datetime) -> Document:
    """A trial whose Job was just created (the Job has the trial's name)."""
    return {"phase": "Pending", "jobName": trial, "startTime": timestamp(now)}


def stopped_status(stop: TrialStop, now: datetime) -> Document:
    return stopped_trial_status(stop.reason, now)


def settle_trial(
    experiment: TuningExperiment,
    trial: Document,
    job: Document | None,
    pods: Sequence[Document],
    now: datetime,
) -> tuple[list[Action], Document]:
    """The writes that bring an active trial up to date, and the trial as they leave it.
    A trial without a Job, recorded or found, gets one; a recorded Job that vanished
    fails the trial (JobDeleted) rather than silently running it again."""
    status = dict(trial.get("status") or {})
    name = trial["metadata"]["name"]
    if job is None and not status.get("jobName"):
        pending = pending_status(name, now)
        return [CreateJob(name), PatchTrialStatus(name, pending)], _with(trial, status, pending)
    outcome = JOB_MISSING if job is None else _outcome(experiment, job, pods, status)
    desired = desired_trial_status(status, outcome, now)
    if job is not None and not status.get("jobName"):  # the crash came between Job and status
        desired |= {"jobName": name, "startTime": job["metadata"]["creationTimestamp"]}
    patch = trial_status_patch(status, desired)
    if not patch:
        return [], trial
    actions: list[Action] = [PatchTrialStatus(name, patch)]
    if outcome.phase == "Failed":
        message = f"{name}: {outcome.reason}: {outcome.message}"
        actions.append(EmitEvent("TrialFailed", message, warning=True))
    return actions, _with(trial, status, patch)


def _outcome(
    experiment: TuningExperiment, job: Document, pods: Sequence[Document], status: Document
) -> TrialOutcome:
    metric = experiment.spec.objective.metric
    return trial_outcome(job, pods, metric, trainer_name(experiment), status.get("metrics"))


def _with(trial: Document, status: Document, patch: Document) -> Document:
    return {**trial, "status": {**status, **patch}}
