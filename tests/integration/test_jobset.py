"""Real JobSet beside the local control plane: its webhook defaults and validates JobSets,
its controller makes one Job per replica of each replicated job, and the JobSet completes
once they all do (their pods played by kwok on the fake GPU node), or fails when one
worker does. kubetune's built-in CEL rules for JobSet (`api.workload`, read by
`planning.workload_rules`) judge both statuses as the real controller writes them. Where JobSet is
installed, the operator (which does not run JobSet trials yet) fails a JobSet experiment
at once, saying so, and creates nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from kubetune.api.workload import JOBSET, KindRules, TrialWorkload, kind_rules
from kubetune.planning.workload_rules import Verdict, verdict
from tests.cluster import (
    CUSTOM_STATUS_ANNOTATION,
    GPU_RESOURCE,
    ClusterClient,
    ControlPlane,
    eventually,
)
from tests.cluster.jobset import JOBSET_GROUP, JOBSET_VERSION, JobSetManager
from tests.integration.operator_harness import Cluster, condition, experiment, operator_running

# jobset_dir first, so that without a JobSet build the tests skip before a cluster starts.
pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("jobset_dir")]

Document = dict[str, Any]


@pytest.fixture(scope="module")
def cluster(bin_dir: Path) -> Iterator[ClusterClient]:
    """A control plane of its own, gone with this module: the JobSet CRD would otherwise
    outlive it, and tests that run the operator where JobSet is not installed would see it."""
    before = os.environ.get("KUBECONFIG")
    with ControlPlane(bin_dir) as plane:
        yield plane
    if before is not None:  # `kube` pointed it here; later modules' clients read it
        os.environ["KUBECONFIG"] = before


def _replicated_job(name: str, replicas: int, **pod_metadata: Any) -> Document:
    container = {"name": "worker", "image": "trainer", "command": ["train"],
                 "resources": {"limits": {GPU_RESOURCE: "1"}}}  # fmt: skip
    pod = {"metadata": pod_metadata, "spec": {"containers": [container], "restartPolicy": "Never"}}
    job_spec = {"backoffLimit": 0, "template": pod}
    return {"name": name, "replicas": replicas, "template": {"spec": job_spec}}


def _jobset(name: str, workers: Document) -> Document:
    replicated = [_replicated_job("leader", 1), workers]
    return {"apiVersion": f"{JOBSET_GROUP}/{JOBSET_VERSION}", "kind": "JobSet",
            "metadata": {"name": name}, "spec": {"replicatedJobs": replicated}}  # fmt: skip


def _built_in_rules() -> KindRules:
    workload = TrialWorkload.model_validate(
        {"kind": JOBSET, "spec": {"replicatedJobs": [{"name": "workers"}]}}
    )
    rules = kind_rules(workload)
    assert rules is not None
    return rules


def _verdict(objects: client.CustomObjectsApi, namespace: str, name: str) -> Verdict | None:
    jobset: Document = objects.get_namespaced_custom_object(  # type: ignore[assignment]
        JOBSET_GROUP, JOBSET_VERSION, namespace, "jobsets", name
    )
    return verdict(_built_in_rules(), jobset.get("status") or {})


def _fail_pod(core: client.CoreV1Api, namespace: str, name: str) -> None:
    """Writes the status a kubelet would for a worker whose trainer exited 1."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    terminated = {"exitCode": 1, "reason": "Error", "startedAt": now, "finishedAt": now}
    container = {"name": "worker", "image": "trainer", "imageID": "", "ready": False,
                 "restartCount": 0, "state": {"terminated": terminated}}  # fmt: skip
    status = {"phase": "Failed", "containerStatuses": [container]}
    core.patch_namespaced_pod_status(name, namespace, {"status": status})


def test_a_jobset_of_two_replicated_jobs_runs_to_completion(
    jobset: JobSetManager, cluster: ClusterClient, namespace: str
) -> None:
    objects = client.CustomObjectsApi(cluster.api_client())
    objects.create_namespaced_custom_object(
        JOBSET_GROUP, JOBSET_VERSION, namespace, "jobsets",
        _jobset("smoke", _replicated_job("workers", 2)),
    )  # fmt: skip
    assert _verdict(objects, namespace, "smoke") is None  # no status yet: not decided
    eventually(lambda: _verdict(objects, namespace, "smoke"), "JobSet smoke finished", 90)
    assert _verdict(objects, namespace, "smoke") == Verdict.SUCCEEDED
    jobs = cluster.batch_v1().list_namespaced_job(namespace).items
    assert sorted(job.metadata.name for job in jobs) == [
        "smoke-leader-0", "smoke-workers-0", "smoke-workers-1"
    ]  # fmt: skip
    assert all(job.status.succeeded == 1 for job in jobs)
    pods = cluster.core_v1().list_namespaced_pod(namespace).items
    # JobSet's pod webhook labels every pod it makes with its replicated job and index.
    labels = sorted((p.metadata.labels["jobset.sigs.k8s.io/replicatedjob-name"],
                     p.metadata.labels["jobset.sigs.k8s.io/job-index"]) for p in pods)  # fmt: skip
    assert labels == [("leader", "0"), ("workers", "0"), ("workers", "1")]


def test_a_failing_worker_fails_the_jobset_by_the_built_in_rule(
    jobset: JobSetManager, cluster: ClusterClient, namespace: str
) -> None:
    objects, core = client.CustomObjectsApi(cluster.api_client()), cluster.core_v1()
    workers = _replicated_job("workers", 2, annotations=dict([CUSTOM_STATUS_ANNOTATION]))
    objects.create_namespaced_custom_object(
        JOBSET_GROUP, JOBSET_VERSION, namespace, "jobsets", _jobset("failing", workers)
    )
    selector = "jobset.sigs.k8s.io/replicatedjob-name=workers,jobset.sigs.k8s.io/job-index=1"
    pod = eventually(
        lambda: core.list_namespaced_pod(namespace, label_selector=selector).items,
        "the second worker's pod", 60,
    )[0]  # fmt: skip
    _fail_pod(core, namespace, pod.metadata.name)
    eventually(lambda: _verdict(objects, namespace, "failing"), "JobSet failing finished", 90)
    assert _verdict(objects, namespace, "failing") == Verdict.FAILED


def test_the_operator_fails_a_jobset_experiment_it_does_not_run_yet(
    jobset: JobSetManager, namespace: str, kube: Cluster
) -> None:
    body = experiment("multi-node", max_trials=2, parallel=1)
    replicated = [{"name": "workers", "replicas": 2}]
    body["spec"]["trial"]["workload"] = {"kind": "JobSet", "spec": {"replicatedJobs": replicated}}
    with operator_running(namespace):
        kube.create(body)
        failed = kube.wait_for_phase("multi-node", "Failed", timeout=30)
    reason = condition(failed, "Failed")
    assert reason is not None and reason["reason"] == "InvalidSpec", failed
    assert reason["message"] == (
        "spec.trial.workload.kind: JobSet trials are not run by this operator yet; use Job"
    )
    assert kube.events("multi-node") == [("InvalidSpec", reason["message"])]
    listed = kube.custom.list_namespaced_custom_object(
        JOBSET_GROUP, JOBSET_VERSION, namespace, "jobsets"
    )
    assert kube.trials() == [] and kube.jobs() == [] and listed["items"] == []
