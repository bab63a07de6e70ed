"""Real JobSet beside the local control plane: its webhook defaults and validates JobSets,
its controller makes one Job per replica of each replicated job, and the JobSet completes
once they all do (their pods played by kwok on the fake GPU node). Where JobSet is
installed, the operator (which does not run JobSet trials yet) fails a JobSet experiment
at once, saying so, and creates nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from tests.cluster import GPU_RESOURCE, ClusterClient, ControlPlane, eventually
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


def _replicated_job(name: str, replicas: int) -> Document:
    container = {"name": "worker", "image": "trainer", "command": ["train"],
                 "resources": {"limits": {GPU_RESOURCE: "1"}}}  # fmt: skip
    pod = {"spec": {"containers": [container], "restartPolicy": "Never"}}
    return {"name": name, "replicas": replicas, "template": {"spec": {"template": pod}}}


def _jobset(name: str) -> Document:
    replicated = [_replicated_job("leader", 1), _replicated_job("workers", 2)]
    return {"apiVersion": f"{JOBSET_GROUP}/{JOBSET_VERSION}", "kind": "JobSet",
            "metadata": {"name": name}, "spec": {"replicatedJobs": replicated}}  # fmt: skip


def _completed(objects: client.CustomObjectsApi, namespace: str, name: str) -> bool:
    jobset: Document = objects.get_namespaced_custom_object(  # type: ignore[assignment]
        JOBSET_GROUP, JOBSET_VERSION, namespace, "jobsets", name
    )
    conditions = jobset.get("status", {}).get("conditions", [])
    return any(c["type"] == "Completed" and c["status"] == "True" for c in conditions)


def test_a_jobset_of_two_replicated_jobs_runs_to_completion(
    jobset: JobSetManager, cluster: ClusterClient, namespace: str
) -> None:
    objects = client.CustomObjectsApi(cluster.api_client())
    objects.create_namespaced_custom_object(
        JOBSET_GROUP, JOBSET_VERSION, namespace, "jobsets", _jobset("smoke")
    )
    eventually(lambda: _completed(objects, namespace, "smoke"), "JobSet smoke completed", 90)
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
