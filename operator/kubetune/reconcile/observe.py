"""Everything one reconcile pass reads: the experiment, then what it owns.

Level-triggered: each pass reads the experiment and its trials, Jobs and Pods as the
operator's watches and its own writes last left them (`k8s.owned`), so whatever woke the
operator, and however many events it missed while it was down (the watches list again
when they start), the pass acts on the whole state, and no pass re-lists the
experiment's history.

Objects belong by uid, not by name. The experiment label only narrows the watches; a
trial counts only if this experiment's uid controls it, a Job only if one of those
trials controls it, a Pod only if one of those Jobs does (of a JobSet experiment: a
JobSet a trial controls, the Jobs that JobSet controls, their Pods). So objects left by an
earlier experiment of the same name (deleted, then re-created at once, while the garbage
collector still works) are never adopted.
"""

from __future__ import annotations

import functools
import json
from collections import defaultdict
from typing import Any

from kubetune.api.workload import BUILT_IN_KINDS, JOB, JOBSET, TrialWorkload
from kubetune.k8s import spec_store
from kubetune.k8s.logs import LogBounds, read_container_log
from kubetune.k8s.owned import OwnedObjects
from kubetune.k8s.rest import Kube
from kubetune.k8s.workloads import serves_resource
from kubetune.planning.admission import waits_for_admission
from kubetune.planning.history import SettledTrials
from kubetune.planning.jobs import controller_uid, owned_by
from kubetune.planning.pass_decision import Snapshot
from kubetune.planning.printed_metrics import (
    LOG_LIMIT_BYTES,
    LOG_READ_TIMEOUT_S,
    LOG_TAIL_LINES,
    PrintedLog,
    pod_to_read,
    trainer_of,
)
from kubetune.planning.records import ACTIVE_PHASES
from kubetune.planning.settle import DEFAULT_FINISHED_JOB_TTL_SECONDS, released
from kubetune.planning.sidecar import designated_replica, replica_of
from kubetune.planning.spec_changes import (
    ACCEPTED_SPEC_ANNOTATION,
    accepted_part,
    encode_spec,
    is_digest,
    spec_digest,
)
from kubetune.planning.workload_support import WorkloadSupport
from kubetune.reconcile import settings
from kubetune.reconcile.side_by_side import side_by_side

Document = dict[str, Any]
BOUNDS = LogBounds(LOG_TAIL_LINES, LOG_LIMIT_BYTES, LOG_READ_TIMEOUT_S)


def observe(
    kube: Kube,
    owned: OwnedObjects,
    namespace: str,
    name: str,
    finished_job_ttl: int | None = DEFAULT_FINISHED_JOB_TTL_SECONDS,
) -> Snapshot | None:
    """What the pass needs; None when the experiment is gone or being deleted (the
    garbage collector does the rest). A finished experiment is read alone. Settled
    trials' Jobs that are done with (`settle.released`, by `finished_job_ttl`) are left
    out, with their Pods."""
    stored = owned.experiment(namespace, name)
    if stored is None or stored["metadata"].get("deletionTimestamp"):
        return None
    snapshot = Snapshot(stored)
    if snapshot.finished:
        return snapshot
    accepted, recorded = accepted_spec(kube, stored)
    unsettled, settled = owned.trials(namespace, name)
    trials = owned_by(unsettled, stored["metadata"]["uid"])
    trials.sort(key=lambda trial: trial["spec"]["index"])
    support = workload_support(kube, snapshot)
    # JobSets are watched only where served (else the pass fails the experiment anyway).
    kind = snapshot.workload_kind if snapshot.workload_kind in support.installed else JOB
    jobs, children, pods = _workloads(owned, namespace, name, trials, settled, kind=kind,
                                      finished_job_ttl=finished_job_ttl)  # fmt: skip
    printed = _printed_reports(kube, namespace, trials, jobs, _reporting(snapshot, pods))
    # A Job is named after its trial; Kueue's word is read only for Jobs that wait.
    waiting = [trial for trial, job in jobs.items() if waits_for_admission(job)]
    kueue = owned.kueue_workloads(namespace, waiting)
    return Snapshot(
        stored, tuple(trials), jobs, pods, accepted, recorded, printed,
        settled=settled, workloads=kueue, workload_support=support, children=children,
    )  # fmt: skip


def workload_support(kube: Kube, experiment: Snapshot) -> WorkloadSupport:
    """The kinds the operator allows, and whether the cluster serves the experiment's
    (asked only for a kind other than Job, so Job experiments cost no request)."""
    allowed = settings.TRIAL_WORKLOADS.read()
    workload, kind = experiment.workload, experiment.workload_kind
    rules = BUILT_IN_KINDS.get(kind) if kind in allowed and kind != JOB else None
    api_version = workload.get("apiVersion") or (rules and rules.api_version)
    served = rules is not None and serves_resource(kube, str(api_version), rules.plural)
    return WorkloadSupport(allowed, frozenset({kind} if served else ()))


def _printed_reports(
    kube: Kube,
    namespace: str,
    trials: list[Document],
    jobs: dict[str, Document],
    pods: dict[str, list[Document]],
) -> dict[str, PrintedLog]:
    """What the trainers of active trials whose pod just finished printed (their logs
    are read once, before the trial is settled, side by side; see
    planning.printed_metrics)."""
    wanted = {trial["metadata"]["name"]: _log_to_read(trial, jobs, pods) for trial in trials}
    reads = {name: read for name, read in wanted.items() if read is not None}
    logs = side_by_side([functools.partial(read_container_log, kube, namespace, *read, BOUNDS)
                         for read in reads.values()])  # fmt: skip
    return {name: PrintedLog(log.text, log.truncated)
            for name, log in zip(reads, logs, strict=True) if log is not None}  # fmt: skip


def _log_to_read(
    trial: Document, jobs: dict[str, Document], pods: dict[str, list[Document]]
) -> tuple[str, str] | None:
    """(pod, container) of an active trial's finished trainer, or None."""
    name = trial["metadata"]["name"]
    job = jobs.get(name)
    if (trial.get("status") or {}).get("phase", "Pending") not in ACTIVE_PHASES or job is None:
        return None
    trainer = trainer_of(job)
    pod = pod_to_read(job, pods.get(name, []), trainer)
    return None if pod is None else (pod, trainer)


def _reporting(experiment: Snapshot, pods: dict[str, list[Document]]) -> dict[str, list[Document]]:
    """Of a JobSet trial, the pods whose trainer reports (whose log is read); of a Job
    trial, all of them."""
    try:
        replica = designated_replica(TrialWorkload.model_validate(experiment.workload))
    except ValueError:  # the pass fails such an experiment, naming the field
        return {}
    if replica is None:
        return pods
    return {name: [p for p in found if replica_of(p) == replica[1]] for name, found in pods.items()}


def _settled_owner(job: Document, settled: SettledTrials) -> str | None:
    """The name of the settled trial that controls `job`, if one does (by name and uid)."""
    for reference in job["metadata"].get("ownerReferences") or []:
        trial = settled.get(reference.get("name", "")) if reference.get("controller") else None
        if trial is not None and trial["metadata"].get("uid") == reference.get("uid"):
            return str(reference["name"])
    return None


def accepted_spec(kube: Kube, experiment: Document) -> tuple[str | None, bool]:
    """The accepted spec's immutable part (JSON) and whether it is recorded as such. Read
    from the spec Secret only when the submitted spec differs in an immutable field."""
    annotations = experiment["metadata"].get("annotations") or {}
    annotation = annotations.get(ACCEPTED_SPEC_ANNOTATION)
    submitted = experiment.get("spec") or {}
    if is_digest(annotation):
        if annotation == spec_digest(submitted):
            return encode_spec(accepted_part(submitted)), True
        stored = spec_store.read_accepted_spec(kube, experiment)
        return stored, stored is not None
    return _legacy_annotation(annotation), False


def _legacy_annotation(annotation: str | None) -> str | None:
    """Operators before 0.2 kept the whole accepted spec in the annotation."""
    try:
        legacy = json.loads(annotation) if annotation else None
    except ValueError:
        return None
    return encode_spec(accepted_part(legacy)) if isinstance(legacy, dict) else None


def _workloads(
    owned: OwnedObjects,
    namespace: str,
    experiment: str,
    trials: list[Document],
    settled: SettledTrials,
    *,
    kind: str,
    finished_job_ttl: int | None,
) -> tuple[dict[str, Document], dict[str, list[Document]], dict[str, list[Document]]]:
    """Jobs (or JobSets) by the name of the trial that owns them (settled trials' too,
    until they are released); a JobSet's own Jobs by its trial (none for Job trials);
    Pods by the trial of their Job (or of their Job's JobSet)."""
    trial_of = {trial["metadata"]["uid"]: trial["metadata"]["name"] for trial in trials}
    jobs: dict[str, Document] = {}
    owned_jobs = owned.jobs(namespace, experiment)
    tops = owned.jobsets(namespace, experiment) if kind == JOBSET else owned_jobs
    for job in tops:
        owner = trial_of.get(str(controller_uid(job)))
        if owner is None and not released(job, finished_job_ttl):
            owner = _settled_owner(job, settled)
        if owner is not None:
            jobs[owner] = job
    job_trial = {job["metadata"]["uid"]: trial for trial, job in jobs.items()}
    children: defaultdict[str, list[Document]] = defaultdict(list)
    if kind == JOBSET:  # a JobSet's pods belong to its Jobs
        for job in owned_jobs:
            if controller_uid(job) in job_trial:
                children[job_trial[str(controller_uid(job))]].append(job)
        job_trial = {job["metadata"]["uid"]: trial
                     for trial, own in children.items() for job in own}  # fmt: skip
    pods: defaultdict[str, list[Document]] = defaultdict(list)
    for pod in owned.pods(namespace, experiment):
        if controller_uid(pod) in job_trial:
            pods[job_trial[str(controller_uid(pod))]].append(pod)
    return jobs, dict(children), dict(pods)
