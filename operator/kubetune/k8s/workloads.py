"""The Jobs (or JobSets) that run trials and the Pods they make.

Each write takes the workload's kind (`api.workload`: Job unless the experiment says
JobSet) and goes to that kind's path; a JobSet is created, expired, suspended and deleted
as a Job is, and its Jobs and Pods go with it (the garbage collector follows its owner
references, as from a Job to its Pods).

Creates tolerate 409 from a Job the same trial owns (deterministic Job names make a
retried create harmless), never another trial's Job; deletes
tolerate 404 and propagate in the background, so the call returns at once and the
garbage collector removes the Pods.
"""

from __future__ import annotations

import time

from kubernetes.client.exceptions import ApiException

from kubetune.api.workload import BUILT_IN_KINDS, JOB, JOBSET
from kubetune.k8s.rest import (
    CORE_API,
    MERGE_PATCH,
    Document,
    Kube,
    RefusedError,
    create_owned,
    is_status,
    namespaced_path,
)
from kubetune.planning.jobs import EXPERIMENT_LABEL, TRIAL_LABEL
from kubetune.planning.refusals import REFUSED_CODES, parse_refusal

JOBS, PODS, JOBSETS = "jobs", "pods", "jobsets"
JOBSET_API = f"/apis/{BUILT_IN_KINDS[JOBSET].api_version}"
# Kueue's Workload of each queued Job (spec.trial.queue): why it waits, read, never written.
KUEUE_WORKLOADS = "workloads.kueue.x-k8s.io"
KUEUE_API = "/apis/kueue.x-k8s.io/v1beta2"
# A CRD is seldom removed; one that is fails the Job's create, and then, a minute on, the
# experiment, naming the kind.
SERVED_MEMORY_SECONDS = 60.0


def jobs_path(namespace: str, name: str = "") -> str:
    return namespaced_path("/apis/batch/v1", namespace, JOBS, name)


def jobsets_path(namespace: str, name: str = "") -> str:
    return namespaced_path(JOBSET_API, namespace, JOBSETS, name)


def workload_path(namespace: str, kind: str, name: str = "") -> str:
    """Where trial workloads of `kind` live: Jobs, or JobSets."""
    return jobsets_path(namespace, name) if kind == JOBSET else jobs_path(namespace, name)


def workload_plural(kind: str) -> str:
    """The resource trial workloads of `kind` are: jobs, or jobsets."""
    return JOBSETS if kind == JOBSET else JOBS


def pods_path(namespace: str) -> str:
    return namespaced_path(CORE_API, namespace, PODS)


def kueue_workloads_path(namespace: str) -> str:
    return namespaced_path(KUEUE_API, namespace, "workloads")


def list_kueue_workloads(kube: Kube, namespace: str) -> list[Document]:
    """The namespace's Kueue Workloads; none where Kueue is not installed."""
    try:
        items: list[Document] = kube.request("GET", kueue_workloads_path(namespace))["items"]
    except ApiException as error:
        if is_status(error, 404):
            return []
        raise
    return items


def _by_experiment(experiment: str) -> dict[str, str]:
    return {"labelSelector": f"{EXPERIMENT_LABEL}={experiment}"}


def list_jobs(kube: Kube, namespace: str, experiment: str) -> list[Document]:
    query = _by_experiment(experiment)
    items: list[Document] = kube.request("GET", jobs_path(namespace), query=query)["items"]
    return items


def list_jobsets(kube: Kube, namespace: str, experiment: str) -> list[Document]:
    """The experiment's JobSets; none where JobSet is not installed."""
    try:
        found = kube.request("GET", jobsets_path(namespace), query=_by_experiment(experiment))
    except ApiException as error:
        if is_status(error, 404):
            return []
        raise
    items: list[Document] = found["items"]
    return items


def list_pods(kube: Kube, namespace: str, experiment: str) -> list[Document]:
    query = _by_experiment(experiment)
    items: list[Document] = kube.request("GET", pods_path(namespace), query=query)["items"]
    return items


def list_trial_pods(kube: Kube, namespace: str, trial: str) -> list[Document]:
    query = {"labelSelector": f"{TRIAL_LABEL}={trial}"}
    items: list[Document] = kube.request("GET", pods_path(namespace), query=query)["items"]
    return items


def create_job(kube: Kube, namespace: str, job: Document) -> Document:
    """Create the Job (or JobSet); one of the same name is accepted only when the same
    trial owns it. The object as stored."""
    return create_owned(kube, _create_path(namespace, job), job, listed=True)


def _create_path(namespace: str, job: Document) -> str:
    """A JobSet is created at the version it names (spec.trial.workload.apiVersion), as
    the API server requires; read and written at the built-in one after."""
    if job.get("kind") != JOBSET:
        return jobs_path(namespace)
    return namespaced_path(f"/apis/{job['apiVersion']}", namespace, JOBSETS)


def dry_run_job(kube: Kube, namespace: str, job: Document) -> None:
    """Ask the API server to validate the Job without storing it (admission included).
    Raises RefusedError with the server's causes when it is invalid."""
    try:
        kube.request("POST", _create_path(namespace, job), body=job, query={"dryRun": "All"})
    except ApiException as error:
        if is_status(error, *REFUSED_CODES):
            raise RefusedError(parse_refusal(int(error.status), error.body)) from None
        if not is_status(error, 409):  # the name is taken: that check comes after validation
            raise


def delete_job(kube: Kube, namespace: str, name: str, kind: str = JOB) -> None:
    body = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"}
    try:
        kube.request("DELETE", workload_path(namespace, kind, name), body=body)
    except ApiException as error:
        if not is_status(error, 404):
            raise


def expire_job(
    kube: Kube, namespace: str, name: str, ttl_seconds: int, kind: str = JOB
) -> Document | None:
    """Kubernetes deletes the Job (or JobSet), and its Pods with it, `ttl_seconds` after
    it finished. The workload as stored, None if it is gone."""
    body = {"spec": {"ttlSecondsAfterFinished": ttl_seconds}}
    return _patch_job(kube, workload_path(namespace, kind, name), body)


def set_job_suspended(
    kube: Kube, namespace: str, name: str, suspended: bool, kind: str = JOB
) -> Document | None:
    """Suspending a Job (or JobSet) deletes its running Pods; resuming starts them again.
    The workload as stored, None if it is gone."""
    path = workload_path(namespace, kind, name)
    return _patch_job(kube, path, {"spec": {"suspend": suspended}})


def _patch_job(kube: Kube, path: str, body: Document) -> Document | None:
    """A workload already gone needs no change."""
    try:
        patched: Document = kube.request("PATCH", path, body=body, content_type=MERGE_PATCH)
    except ApiException as error:
        if not is_status(error, 404):
            raise
        return None
    return patched


def serves_resource(kube: Kube, api_version: str, plural: str) -> bool:
    """Whether the API server serves `plural` in `api_version` (a CRD's kind is installed).
    A yes is remembered on the connection for `SERVED_MEMORY_SECONDS` (every pass of a
    JobSet experiment asks); a no is asked again each time, so installing the CRD counts
    at once."""
    key = (api_version, plural)
    if kube.served_until.get(key, 0.0) > time.monotonic():
        return True
    try:
        found = kube.request("GET", f"/apis/{api_version}")
    except ApiException as error:
        if is_status(error, 404):
            return False
        raise
    served = any(resource.get("name") == plural for resource in found.get("resources") or [])
    if served:
        kube.served_until[key] = time.monotonic() + SERVED_MEMORY_SECONDS
    return served
