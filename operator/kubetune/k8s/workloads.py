"""The Jobs that run trials and the Pods they make.

Creates tolerate 409 from a Job the same trial owns (deterministic Job names make a
retried create harmless), never another trial's Job; deletes
tolerate 404 and propagate in the background, so the call returns at once and the
garbage collector removes the Pods.
"""

from __future__ import annotations

from kubernetes.client.exceptions import ApiException

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

JOBS, PODS = "jobs", "pods"
# Kueue's Workload of each queued Job (spec.trial.queue): why it waits, read, never written.
KUEUE_WORKLOADS = "workloads.kueue.x-k8s.io"
KUEUE_API = "/apis/kueue.x-k8s.io/v1beta2"


def jobs_path(namespace: str, name: str = "") -> str:
    return namespaced_path("/apis/batch/v1", namespace, JOBS, name)


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


def list_pods(kube: Kube, namespace: str, experiment: str) -> list[Document]:
    query = _by_experiment(experiment)
    items: list[Document] = kube.request("GET", pods_path(namespace), query=query)["items"]
    return items


def list_trial_pods(kube: Kube, namespace: str, trial: str) -> list[Document]:
    query = {"labelSelector": f"{TRIAL_LABEL}={trial}"}
    items: list[Document] = kube.request("GET", pods_path(namespace), query=query)["items"]
    return items


def create_job(kube: Kube, namespace: str, job: Document) -> Document:
    """Create the Job; a Job of the same name is accepted only when the same trial owns it.
    The Job as stored."""
    return create_owned(kube, jobs_path(namespace), job, listed=True)


def dry_run_job(kube: Kube, namespace: str, job: Document) -> None:
    """Ask the API server to validate the Job without storing it (admission included).
    Raises RefusedError with the server's causes when it is invalid."""
    try:
        kube.request("POST", jobs_path(namespace), body=job, query={"dryRun": "All"})
    except ApiException as error:
        if is_status(error, *REFUSED_CODES):
            raise RefusedError(parse_refusal(int(error.status), error.body)) from None
        if not is_status(error, 409):  # the name is taken: that check comes after validation
            raise


def delete_job(kube: Kube, namespace: str, name: str) -> None:
    body = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"}
    try:
        kube.request("DELETE", jobs_path(namespace, name), body=body)
    except ApiException as error:
        if not is_status(error, 404):
            raise


def expire_job(kube: Kube, namespace: str, name: str, ttl_seconds: int) -> None:
    """Kubernetes deletes the Job, and its Pods with it, `ttl_seconds` after it finished."""
    _patch_job(kube, namespace, name, {"spec": {"ttlSecondsAfterFinished": ttl_seconds}})


def set_job_suspended(kube: Kube, namespace: str, name: str, suspended: bool) -> None:
    """Suspending a Job deletes its running Pods; resuming starts them again."""
    _patch_job(kube, namespace, name, {"spec": {"suspend": suspended}})


def _patch_job(kube: Kube, namespace: str, name: str, body: Document) -> None:
    """A Job already gone needs no change."""
    try:
        kube.request("PATCH", jobs_path(namespace, name), body=body, content_type=MERGE_PATCH)
    except ApiException as error:
        if not is_status(error, 404):
            raise


def serves_resource(kube: Kube, api_version: str, plural: str) -> bool:
    """Whether the API server serves `plural` in `api_version` (a CRD's kind is installed)."""
    try:
        found = kube.request("GET", f"/apis/{api_version}")
    except ApiException as error:
        if is_status(error, 404):
            return False
        raise
    return any(resource.get("name") == plural for resource in found.get("resources") or [])
