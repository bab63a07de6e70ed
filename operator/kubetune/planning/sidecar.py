"""Add the metrics reporter to a trial Job's pod, as a native sidecar.

A native sidecar (an init container with ``restartPolicy: Always``, Kubernetes >= 1.29)
starts before the trainer, and Kubernetes stops it with SIGTERM once the trainer exits,
so the Job completes on the trainer's exit code alone. The trainer's command is left
untouched and no process namespace is shared: the two containers meet only through a
file on an emptyDir. The token goes to the sidecar alone, and the pod gets no
Kubernetes credentials unless its template asks for them: trainers run user code.

A JobSet trial reports from one pod (`spec.trial.workload.reporter`): the sidecar goes
into its replicated job's pods only, and learns each pod's place (replicated job, job
index, completion index) from the downward API. The token binds the designated place,
so the ingest refuses what the replicated job's other pods send (see `tokens`).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from kubetune.api.workload import JOBSET, TrialWorkload
from kubetune.reporting import env as trial_env

Manifest = dict[str, Any]

REPORTER_CONTAINER = "kubetune-reporter"
METRICS_VOLUME = "kubetune-metrics"
METRICS_DIR = "/var/run/kubetune"
METRICS_FILE = f"{METRICS_DIR}/metrics.jsonl"
# Small: the reporter is one Python process that sleeps between reads of a file.
REPORTER_RESOURCES = {
    "requests": {"cpu": "10m", "memory": "32Mi"},
    "limits": {"memory": "96Mi"},
}
# Bounds the node disk a runaway trainer can fill; far above any real learning curve.
METRICS_VOLUME_LIMIT = "256Mi"
NAMESPACE_FIELD = "metadata.namespace"  # the downward API: the pod's own namespace
# Where JobSet (and the Job controller, for the completion index) put a pod's place.
REPLICATED_JOB_LABEL = "jobset.sigs.k8s.io/replicatedjob-name"
JOB_INDEX_LABEL = "jobset.sigs.k8s.io/job-index"
COMPLETION_INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index"
REPLICA_FIELDS = (
    f"metadata.labels['{REPLICATED_JOB_LABEL}']",
    f"metadata.labels['{JOB_INDEX_LABEL}']",
    f"metadata.annotations['{COMPLETION_INDEX_ANNOTATION}']",
)


def replica_of(pod: Mapping[str, Any]) -> str:
    """A JobSet pod's place (`env.replica_name`), from what JobSet and the Job
    controller put on it; what the reporter in it learns from the downward API."""
    metadata = pod.get("metadata") or {}
    labels, annotations = metadata.get("labels") or {}, metadata.get("annotations") or {}
    return trial_env.replica_name(
        labels.get(REPLICATED_JOB_LABEL, ""),
        labels.get(JOB_INDEX_LABEL, ""),
        annotations.get(COMPLETION_INDEX_ANNOTATION, ""),
    )


def designated_replica(workload: TrialWorkload | None) -> tuple[str, str] | None:
    """The replicated job whose pods run the reporter, and the replica (its place, see
    `env.replica_name`) whose reports count; None for a Job trial (one pod)."""
    if workload is None or workload.kind != JOBSET:
        return None
    placement = workload.reporter
    first = (workload.spec or {})["replicatedJobs"][0]["name"]
    replicated = (placement and placement.replicated_job) or first
    job_index = placement.job_index if placement else 0
    completion = placement.completion_index if placement else 0
    return replicated, trial_env.replica_name(replicated, job_index, completion)


def add_reporter(
    job_manifest: Manifest,
    *,
    image: str,
    ingest_url: str,
    experiment: str,
    trial: str,
    token: str | None = None,
    token_secret_name: str | None = None,
    token_secret_key: str = "token",
    replicated_job: str | None = None,
    replica: str | None = None,
) -> Manifest:
    """A copy of the batch/v1 Job manifest whose pod runs the reporter beside the trainer
    (of a JobSet manifest: the pods of `replicated_job`, of which `replica` reports). Give
    the trial's token either as a value or as a Secret (name, key) holding it."""
    if (token is None) == (token_secret_name is None):
        raise ValueError("give exactly one of token or token_secret_name")
    job = copy.deepcopy(job_manifest)
    pod = _reporting_pod(job, replicated_job).setdefault("spec", {})
    pod.setdefault("automountServiceAccountToken", False)
    _add_metrics_volume(pod)
    for container in pod.get("containers", []):
        _set_env(container, {"name": trial_env.METRICS_FILE, "value": METRICS_FILE})
        _mount_metrics_volume(container)
    token_env = _token_env(token, token_secret_name, token_secret_key)
    reporter = reporter_container(image, ingest_url, experiment, trial, token_env)
    if replicated_job is not None:
        reporter["env"] += [_from_field(name, path) for name, path in zip(
            trial_env.REPLICA_ENV, REPLICA_FIELDS, strict=True)]  # fmt: skip
    if replica is not None:
        reporter["env"].append({"name": trial_env.REPORTING_REPLICA, "value": replica})
    others = [c for c in pod.get("initContainers", []) if c.get("name") != REPORTER_CONTAINER]
    pod["initContainers"] = [*others, reporter]
    return job


def reporter_container(
    image: str, ingest_url: str, experiment: str, trial: str, token_env: Manifest
) -> Manifest:
    """The init container that `restartPolicy: Always` turns into a native sidecar."""
    env = [
        {"name": trial_env.METRICS_FILE, "value": METRICS_FILE},
        {"name": trial_env.INGEST_URL, "value": ingest_url},
        {"name": trial_env.NAMESPACE, "valueFrom": {"fieldRef": {"fieldPath": NAMESPACE_FIELD}}},
        {"name": trial_env.EXPERIMENT, "value": experiment},
        {"name": trial_env.TRIAL, "value": trial},
        token_env,
    ]  # fmt: skip
    container: Manifest = {
        "name": REPORTER_CONTAINER,
        "image": image,
        "command": ["kubetune-reporter"],
        "restartPolicy": "Always",
        "env": env,
        "resources": copy.deepcopy(REPORTER_RESOURCES),
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
    }
    _mount_metrics_volume(container, read_only=True)
    return container


def _reporting_pod(manifest: Manifest, replicated_job: str | None) -> Manifest:
    """The pod template that gets the reporter: the Job's, or the replicated job's."""
    if manifest.get("kind") != JOBSET:
        job: Manifest = manifest
    else:
        jobs = {job["name"]: job for job in manifest["spec"]["replicatedJobs"]}
        job = jobs[replicated_job]["template"]
    template: Manifest = job["spec"]["template"]
    return template


def _from_field(name: str, path: str) -> Manifest:
    return {"name": name, "valueFrom": {"fieldRef": {"fieldPath": path}}}


def _token_env(token: str | None, secret_name: str | None, secret_key: str) -> Manifest:
    if token is not None:
        return {"name": trial_env.TRIAL_TOKEN, "value": token}
    reference = {"secretKeyRef": {"name": secret_name, "key": secret_key}}
    return {"name": trial_env.TRIAL_TOKEN, "valueFrom": reference}


def _add_metrics_volume(pod: Manifest) -> None:
    volumes = [v for v in pod.get("volumes", []) if v.get("name") != METRICS_VOLUME]
    empty_dir = {"emptyDir": {"sizeLimit": METRICS_VOLUME_LIMIT}}
    pod["volumes"] = [*volumes, {"name": METRICS_VOLUME, **empty_dir}]


def _mount_metrics_volume(container: Manifest, read_only: bool = False) -> None:
    mounts = [m for m in container.get("volumeMounts", []) if m.get("name") != METRICS_VOLUME]
    mount = {"name": METRICS_VOLUME, "mountPath": METRICS_DIR, "readOnly": read_only}
    container["volumeMounts"] = [*mounts, mount]


def _set_env(container: Manifest, variable: Manifest) -> None:
    """Sets one variable, replacing a same-named one (the last definition would win
    anyway, but a duplicate confuses anyone reading the pod)."""
    env = [e for e in container.get("env", []) if e.get("name") != variable["name"]]
    container["env"] = [*env, variable]
