"""A trial's status brought in line with its workload, as actions.

The one place where the pass decision meets the shared trial lifecycle
(`planning.lifecycle`, also used by local mode and the ingest): `outcome` reads the Job
and Pods, the lifecycle judges, and only the fields that changed are written. Each
settling write names the trial's resourceVersion: had the ingest recorded a report since
the pass read the trial, the write is refused and the next pass judges the trial with
that report, so an acknowledged report is never lost to a stale read.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from kubetune.api import TuningExperiment, TuningTrialStatus, parse_trial
from kubetune.api.workload import KindRules, kind_rules
from kubetune.planning.actions import (
    Action,
    CreateJob,
    DeleteJob,
    EmitEvent,
    ExpireJob,
    PatchTrialStatus,
)
from kubetune.planning.admission import waits_for_admission
from kubetune.planning.jobs import trainer_name
from kubetune.planning.lifecycle import (
    Outcome,
    Refusal,
    Strategies,
    TrialReason,
    conclude,
    record_reports,
)
from kubetune.planning.outcome import job_finished, trial_outcome
from kubetune.planning.progress import TrialStop
from kubetune.planning.records import ACTIVE_PHASES
from kubetune.planning.sidecar import designated_replica
from kubetune.planning.status import lifecycle_document, status_patch
from kubetune.reporting.protocol import MetricReport

Document = dict[str, Any]
# Long enough to read a finished trial's pod and logs by hand; the operator itself needs
# nothing of a Job once its trial is settled.
DEFAULT_FINISHED_JOB_TTL_SECONDS = 300
LIVE_POD_PHASES = ("Pending", "Running")
JOB_MISSING = Outcome(
    "Failed", TrialReason.JOB_DELETED, "the trial's Job was deleted before it finished"
)

__all__ = [
    "ACTIVE_PHASES",
    "DEFAULT_FINISHED_JOB_TTL_SECONDS",
    "release_settled",
    "settle_trial",
    "stop_trial",
]


def stop_trial(stop: TrialStop, trial: Document, now: datetime) -> list[Action]:
    """Delete the Job of a trial the plan ends, and record why. Unconditional: the patch
    holds only the ending (phase, reason, message, time), never values a report could
    have changed, and the trial may already have been written in this pass."""
    ended = _concluded(trial, Outcome("EarlyStopped", stop.reason, stop.message), now)
    patch = status_patch(trial.get("status") or {}, lifecycle_document(ended))
    return [DeleteJob(stop.trial), PatchTrialStatus(stop.trial, patch)]


def settle_trial(
    experiment: TuningExperiment,
    trial: Document,
    job: Document | None,
    pods: Sequence[Document],
    now: datetime,
    *,
    printed: Sequence[MetricReport] = (),
    workload: Document | None = None,
    children: Sequence[Document] = (),
) -> tuple[list[Action], Document]:
    """The writes that bring an active trial up to date, and the trial as they leave it.
    A trial without a Job, recorded or found, gets one. The first write after that
    records the Job's name with the trial's first phase past Pending (running, queued,
    or ended): a write of its own at launch, or for a pod still pending, would cost every
    trial one more API write, at the price of a window (until then) in which a Job
    deleted by hand is created again instead of failing the trial. Once recorded, a Job
    that vanished fails the trial (JobDeleted) rather than silently running it again.
    What its trainer printed is recorded before it is judged, in the same write. A JobSet
    trial's own Jobs (`children`) say whether it ran past its deadline."""
    status = dict(trial.get("status") or {})
    name = trial["metadata"]["name"]
    if job is None and not status.get("jobName"):
        return [CreateJob(name)], trial
    trainer = trainer_name(experiment)
    judging = jobset_judging(experiment)
    outcome = (
        JOB_MISSING
        if job is None
        else trial_outcome(job, pods, trainer, workload, judging, children=children)
    )
    spec = experiment.spec
    objectives, strategies = spec.criteria.metrics, spec.objective.strategies
    printed_recorded = _with_printed(trial, printed, objectives, now, strategies)
    concluded = conclude(
        printed_recorded, outcome, objectives, now, strategies, constraints=spec.constraints
    )
    desired = lifecycle_document(concluded)
    if job is not None and not status.get("jobName") and concluded.phase != "Pending":
        desired |= {"jobName": name, "startTime": job["metadata"]["creationTimestamp"]}
    patch = status_patch(status, desired)
    if not patch:
        return [], trial
    actions: list[Action] = [_conditional_patch(trial, patch)]
    if concluded.phase == "Failed":
        message = f"{name}: {concluded.reason}: {concluded.message}"
        actions.append(EmitEvent("TrialFailed", message, warning=True))
    elif concluded.phase == "Preempted" and status.get("phase") == "Running":
        actions.append(EmitEvent("TrialPreempted", f"{name}: {concluded.message}"))
    return actions, _with(trial, status, patch)


def jobset_judging(experiment: TuningExperiment) -> tuple[KindRules | None, str | None]:
    """How a JobSet trial's outcome is read: its kind's rules, and the reporting pod."""
    workload = experiment.spec.trial.workload
    replica = designated_replica(workload)
    return kind_rules(workload), None if replica is None else replica[1]


def release_settled(
    trials: Sequence[Document],
    jobs: dict[str, Document],
    pods: dict[str, Sequence[Document]],
    finished_job_ttl: int | None = DEFAULT_FINISHED_JOB_TTL_SECONDS,
) -> list[Action]:
    """What becomes of a settled trial's Job. While its pod still runs (the ingest failed
    the trial for a non-finite objective) it is deleted: it only burns GPUs. (A finished
    Job's pod seen running is only a Pod watch lagging behind the Job's.) So is a Job
    still waiting for Kueue: it would hold a place in the queue for ever. Otherwise it
    expires `finished_job_ttl` seconds after it finished (None keeps it): only now, with
    the result recorded, since a Job that vanished before its trial settled would fail
    that trial. `jobs` are those of the experiment's trials, by trial name: a Job whose
    trial is not among `trials` belongs to a trial settled in an earlier pass."""
    actions: list[Action] = []
    active = {
        trial["metadata"]["name"]
        for trial in trials
        if (trial.get("status") or {}).get("phase", "Pending") in ACTIVE_PHASES
    }
    for name, job in jobs.items():
        if name in active:
            continue
        live = any(_live(pod) for pod in pods.get(name, ()))
        if not job_finished(job) and (live or waits_for_admission(job)):
            actions.append(DeleteJob(job["metadata"]["name"]))
        elif finished_job_ttl is not None and _lasting(job):
            actions.append(ExpireJob(job["metadata"]["name"], finished_job_ttl))
    return actions


def released(job: Document, finished_job_ttl: int | None) -> bool:
    """A settled trial's Job that `release_settled` has nothing left to do with: finished,
    and expiring already (or kept for ever). A pass may leave it and its Pods out, so
    its cost stays with the live trials while finished Jobs wait in the caches for their
    TTL (at 3 trials a second and the default 300 s, a thousand of them)."""
    return job_finished(job) and (finished_job_ttl is None or not _lasting(job))


def _lasting(job: Document) -> bool:
    """Neither expiring already nor being deleted."""
    expiring = job.get("spec", {}).get("ttlSecondsAfterFinished") is not None
    return not expiring and not job["metadata"].get("deletionTimestamp")


def _live(pod: Document) -> bool:
    return (pod.get("status") or {}).get("phase") in LIVE_POD_PHASES


def _with_printed(
    trial: Document,
    printed: Sequence[MetricReport],
    objectives: tuple[str, ...],
    now: datetime,
    strategies: Strategies,
) -> TuningTrialStatus:
    status = parse_trial(trial).status
    recorded = record_reports(status, printed, objectives, now, strategies) if printed else status
    return status if isinstance(recorded, Refusal) else recorded


def _concluded(trial: Document, outcome: Outcome, now: datetime) -> TuningTrialStatus:
    return conclude(parse_trial(trial).status, outcome, (), now)


def _conditional_patch(trial: Document, patch: Document) -> PatchTrialStatus:
    version = trial["metadata"].get("resourceVersion")
    return PatchTrialStatus(trial["metadata"]["name"], patch, resource_version=version)


def _with(trial: Document, status: Document, patch: Document) -> Document:
    return {**trial, "status": {**status, **patch}}
