"""TuningExperiments and TuningTrials on the API server.

Trials are found by label, not by a list in the experiment's status, so the experiment
object stays small however many trials it runs; the label only narrows the list, the
owner uid decides (see `observe`). Creates tolerate 409 AlreadyExists from the same
owner: trial names are deterministic, so a retry after a crash finds the object it made
before.
"""

from __future__ import annotations

from kubetune.api.base import API_GROUP, API_VERSION
from kubetune.k8s.rest import (
    MERGE_PATCH,
    Document,
    Kube,
    create_owned,
    get_stored,
    namespaced_path,
)
from kubetune.planning.jobs import EXPERIMENT_LABEL

EXPERIMENTS = "tuningexperiments"
TRIALS = "tuningtrials"


def resource_path(namespace: str, plural: str, name: str = "", subresource: str = "") -> str:
    return namespaced_path(f"/apis/{API_GROUP}/{API_VERSION}", namespace, plural, name, subresource)


def get_experiment(kube: Kube, namespace: str, name: str) -> Document | None:
    """The experiment as stored now, or None once it is deleted."""
    return get_stored(kube, resource_path(namespace, EXPERIMENTS, name))


def patch_experiment_status(kube: Kube, namespace: str, name: str, patch: Document) -> Document:
    """The experiment as stored after the patch."""
    path = resource_path(namespace, EXPERIMENTS, name, "status")
    return kube.request("PATCH", path, body={"status": patch}, content_type=MERGE_PATCH)


def patch_experiment_annotations(
    kube: Kube, namespace: str, name: str, annotations: dict[str, str]
) -> Document:
    body = {"metadata": {"annotations": annotations}}
    path = resource_path(namespace, EXPERIMENTS, name)
    return kube.request("PATCH", path, body=body, content_type=MERGE_PATCH)


def create_experiment(
    kube: Kube, namespace: str, document: Document, *, dry_run: bool = False
) -> Document:
    """Submit an experiment as ``kubectl create`` does; `dry_run`: the server validates it
    (schema and CEL rules) and stores nothing."""
    query = {"dryRun": "All"} if dry_run else None
    stored: Document = kube.request(
        "POST", resource_path(namespace, EXPERIMENTS), query=query, body=document
    )
    return stored


def list_experiments(kube: Kube, namespace: str) -> list[Document]:
    items: list[Document] = kube.request("GET", resource_path(namespace, EXPERIMENTS))["items"]
    return items


def list_trials(kube: Kube, namespace: str, experiment: str) -> list[Document]:
    """Every TuningTrial of `experiment`, read from etcd (not a cache): for the commands
    and callers without the operator's watches (`owned.ListedObjects`)."""
    query = {"labelSelector": f"{EXPERIMENT_LABEL}={experiment}"}
    path = resource_path(namespace, TRIALS)
    items: list[Document] = kube.request("GET", path, query=query)["items"]
    return items


def create_trial(kube: Kube, namespace: str, trial: Document) -> Document:
    """Create the trial; when this experiment already made it, return the stored one (its
    spec wins). See `create_owned` for another owner's trial and refusals."""
    return create_owned(kube, resource_path(namespace, TRIALS), trial)


def patch_trial_status(
    kube: Kube, namespace: str, name: str, patch: Document, resource_version: str | None = None
) -> Document:
    """Merge `patch` into the trial's status; with `resource_version`, only if the trial is
    still that version (else 409), so a decision made on a stale read is never written.
    The trial as stored after the patch."""
    body: Document = {"status": patch}
    if resource_version is not None:
        body["metadata"] = {"resourceVersion": resource_version}
    path = resource_path(namespace, TRIALS, name, "status")
    return kube.request("PATCH", path, body=body, content_type=MERGE_PATCH)
