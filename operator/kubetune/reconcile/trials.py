"""Acting on trials: start one (TuningTrial, then its Job), record what became of one,
stop one.

Every step is safe to repeat after a crash at any point: the trial is created before its
Job, both with deterministic names and 409-tolerant creates, and the Job's name is written
to the trial's status only after the Job exists. So a trial without a recorded Job gets
its Job (again) on the next pass, and a trial whose recorded Job has vanished is failed
rather than silently re-run.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kubetune.api import TuningExperiment, parse_trial
from kubetune.k8s import custom, events, workloads
from kubetune.k8s.rest import Kube, is_status
from kubetune.planning.jobs import build_trial_job, build_trial_resource, trainer_name
from kubetune.planning.lifecycle import Outcome, TrialReason, conclude
from kubetune.planning.outcome import trial_outcome
from kubetune.planning.progress import TrialStop
from kubetune.planning.status import lifecycle_document, status_patch, timestamp
from kubetune.planning.suggest import NewTrial
from kubetune.reconcile import metrics
from kubetune.reconcile.observe import Observed
from kubetune.reconcile.reporter_jobs import attach_reporter

Document = dict[str, Any]
ACTIVE = ("Pending", "Running")
JOB_MISSING = Outcome(
    "Failed", TrialReason.JOB_DELETED, "the trial's Job was deleted before it finished"
)


def launch_trial(
    kube: Kube, observed: Observed, experiment: TuningExperiment, new: NewTrial, now: datetime
) -> Document:
    """Create the trial (or find it, after a crash) and then its Job."""
    resource = build_trial_resource(observed.experiment, new.index, new.name, new.params)
    stored = custom.create_trial(kube, observed.namespace, resource)
    start_job(kube, experiment, stored, now)
    metrics.trial_created(observed.namespace, observed.name)
    events.emit_event(kube, observed.experiment, "TrialLaunched", f"{new.name}: {new.params}")
    return stored


def start_job(kube: Kube, experiment: TuningExperiment, trial: Document, now: datetime) -> None:
    job = attach_reporter(
        kube, experiment.metadata, build_trial_job(experiment, parse_trial(trial))
    )
    workloads.create_job(kube, trial["metadata"]["namespace"], job)
    status = {"phase": "Pending", "jobName": job["metadata"]["name"], "startTime": timestamp(now)}
    custom.patch_trial_status(
        kube, trial["metadata"]["namespace"], trial["metadata"]["name"], status
    )
    trial["status"] = {**(trial.get("status") or {}), **status}


def refresh_trial(
    kube: Kube, observed: Observed, experiment: TuningExperiment, trial: Document, now: datetime
) -> None:
    """Bring an active trial's status in line with its Job; start the Job if missing."""
    status = dict(trial.get("status") or {})
    name = trial["metadata"]["name"]
    job = observed.jobs.get(name)
    if job is None and not status.get("jobName"):
        start_job(kube, experiment, trial, now)
        return
    outcome = (
        JOB_MISSING
        if job is None
        else trial_outcome(job, observed.pods.get(name, []), trainer_name(experiment))
    )
    concluded = conclude(parse_trial(trial).status, outcome, experiment.spec.objective.metric, now)
    desired = lifecycle_document(concluded)
    if job is not None and not status.get("jobName"):  # the crash came between Job and status
        desired |= {"jobName": name, "startTime": job["metadata"]["creationTimestamp"]}
    patch = status_patch(status, desired)
    if not patch or not _patched(kube, observed, trial, patch):
        return
    metrics.trial_status_written(observed.namespace, observed.name, patch)
    trial["status"] = {**status, **patch}
    if concluded.phase == "Failed":
        message = f"{name}: {concluded.reason}: {concluded.message}"
        events.emit_event(kube, observed.experiment, "TrialFailed", message, warning=True)


def _patched(kube: Kube, observed: Observed, trial: Document, patch: Document) -> bool:
    """Write a decision made on this read of the trial; False when the trial changed since
    (the ingest recorded a report): the next pass decides again on what it recorded."""
    name, version = trial["metadata"]["name"], trial["metadata"].get("resourceVersion")
    try:
        custom.patch_trial_status(kube, observed.namespace, name, patch, version)
    except Exception as error:
        if not is_status(error, 409):
            raise
        return False
    return True


def release_settled(kube: Kube, observed: Observed) -> None:
    """Delete the Job of a trial that ended while its pod still runs (its trainer reported
    a non-finite objective): a settled trial's workload only burns its GPUs. A pod that
    finished is left alone: its Job completes by itself."""
    for trial in observed.trials:
        name = trial["metadata"]["name"]
        settled = (trial.get("status") or {}).get("phase", "Pending") not in ACTIVE
        live = [pod for pod in observed.pods.get(name, []) if _pod_live(pod)]
        if settled and live and name in observed.jobs:
            workloads.delete_job(kube, observed.namespace, observed.jobs[name]["metadata"]["name"])


def _pod_live(pod: Document) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Pending", "Running")


def stop_trial(kube: Kube, observed: Observed, stop: TrialStop, now: datetime) -> None:
    """Delete the trial's Job (its Pods go with it) and record why it was stopped."""
    workloads.delete_job(kube, observed.namespace, stop.trial)
    trial = next(t for t in observed.trials if t["metadata"]["name"] == stop.trial)
    ended = Outcome("EarlyStopped", stop.reason, stop.message)
    status = conclude(parse_trial(trial).status, ended, "", now)
    stopped = status_patch(trial.get("status") or {}, lifecycle_document(status))
    custom.patch_trial_status(kube, observed.namespace, stop.trial, stopped)
    metrics.trial_status_written(observed.namespace, observed.name, stopped)


def set_suspended(kube: Kube, observed: Observed, suspended: bool) -> None:
    """Suspend (or resume) the Job of every active trial; Kubernetes stops its Pods."""
    for trial in observed.trials:
        job = observed.jobs.get(trial["metadata"]["name"])
        active = (trial.get("status") or {}).get("phase", "Pending") in ACTIVE
        if job is not None and active and bool(job["spec"].get("suspend")) != suspended:
            workloads.set_job_suspended(
                kube, observed.namespace, job["metadata"]["name"], suspended
            )
