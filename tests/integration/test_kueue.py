"""Real Kueue beside the local control plane admits Jobs against a GPU quota: its
webhook suspends a queued Job at creation, its scheduler admits as many as the
ClusterQueue's quota holds, and a finished Job's quota goes to the one that waited. The
operator's trial Jobs, with `spec.trial.queue`, go through the same queue.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from kubetune.planning.jobs import QUEUE_NAME_LABEL
from tests.cluster import (
    CUSTOM_STATUS_ANNOTATION,
    GPU_RESOURCE,
    ClusterClient,
    ControlPlane,
    eventually,
)
from tests.cluster.kueue import KUEUE_GROUP, KUEUE_VERSION, KueueManager
from tests.integration.operator_harness import (
    Cluster,
    TrialPodDriver,
    experiment,
    operator_running,
    scoring_trainer,
)

# kueue_dir first, so that without a Kueue build the tests skip before a cluster starts.
pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("kueue_dir")]

GPU_QUOTA = 2
LOCAL_QUEUE = "trials"
ADMISSION_TIMEOUT = 60


@pytest.fixture(scope="module")
def cluster(bin_dir: Path) -> Iterator[ClusterClient]:
    """A control plane of its own, gone with this module. Kueue's CRDs outlive its manager,
    with conversion webhooks that then point nowhere: in a shared cluster the garbage
    collector, which lists every resource, stalls on them, and later tests that rely on
    cascading deletion fail."""
    before = os.environ.get("KUBECONFIG")
    with ControlPlane(bin_dir) as plane:
        yield plane
    if before is not None:  # `kube` pointed it here; later modules' clients read it
        os.environ["KUBECONFIG"] = before


def _kueue_object(kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": f"{KUEUE_GROUP}/{KUEUE_VERSION}", "kind": kind,
            "metadata": {"name": name}, "spec": spec}  # fmt: skip


def _cluster_queue(name: str, flavor: str) -> dict[str, Any]:
    quota = {"name": GPU_RESOURCE, "nominalQuota": GPU_QUOTA}
    group = {"coveredResources": [GPU_RESOURCE],
             "flavors": [{"name": flavor, "resources": [quota]}]}  # fmt: skip
    return _kueue_object("ClusterQueue", name, {"namespaceSelector": {}, "resourceGroups": [group]})


@pytest.fixture
def gpu_queue(kueue: KueueManager, namespace: str) -> Iterator[client.CustomObjectsApi]:
    """A flavor and a ClusterQueue of 2 GPUs (cluster-wide, named after the test's
    namespace), and the LocalQueue `trials` in the namespace pointing at it."""
    objects = client.CustomObjectsApi(kueue.cluster.api_client())
    create = objects.create_cluster_custom_object
    create(
        KUEUE_GROUP,
        KUEUE_VERSION,
        "resourceflavors",
        _kueue_object("ResourceFlavor", namespace, {}),
    )
    create(KUEUE_GROUP, KUEUE_VERSION, "clusterqueues", _cluster_queue(namespace, namespace))
    local_queue = _kueue_object("LocalQueue", LOCAL_QUEUE, {"clusterQueue": namespace})
    objects.create_namespaced_custom_object(
        KUEUE_GROUP, KUEUE_VERSION, namespace, "localqueues", local_queue
    )
    yield objects
    for plural in ("clusterqueues", "resourceflavors"):
        objects.delete_cluster_custom_object(KUEUE_GROUP, KUEUE_VERSION, plural, namespace)


def queued_gpu_job(name: str) -> dict[str, Any]:
    """A 1-GPU Job for the LocalQueue; kwok leaves its pod to the test (custom status)."""
    container = {"name": "trainer", "image": "kubetune/trial:test",
                 "resources": {"limits": {GPU_RESOURCE: "1"}}}  # fmt: skip
    template = {"metadata": {"annotations": dict([CUSTOM_STATUS_ANNOTATION])},
                "spec": {"restartPolicy": "Never", "containers": [container]}}  # fmt: skip
    return {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": name, "labels": {QUEUE_NAME_LABEL: LOCAL_QUEUE}},
            "spec": {"backoffLimit": 0, "template": template}}  # fmt: skip


def _condition(workload: dict[str, Any], kind: str) -> dict[str, Any]:
    conditions = workload.get("status", {}).get("conditions", [])
    return next((c for c in conditions if c["type"] == kind), {})


def workloads_by_job(objects: client.CustomObjectsApi, namespace: str) -> dict[str, Any]:
    """The namespace's Workloads, by the name of the Job each was made for."""
    workloads = objects.list_namespaced_custom_object(
        KUEUE_GROUP, KUEUE_VERSION, namespace, "workloads"
    )["items"]
    return {w["metadata"]["ownerReferences"][0]["name"]: w for w in workloads}


def admitted_jobs(objects: client.CustomObjectsApi, namespace: str) -> set[str]:
    """Names of the Jobs whose Workload Kueue has admitted."""
    workloads = workloads_by_job(objects, namespace)
    return {
        job for job, w in workloads.items() if _condition(w, "Admitted").get("status") == "True"
    }


def running_jobs(batch: client.BatchV1Api, namespace: str) -> set[str]:
    """Names of the Jobs that are not suspended, i.e. that Kueue let start."""
    return {job.metadata.name for job in batch.list_namespaced_job(namespace).items
            if not job.spec.suspend}  # fmt: skip


def finish_pod_of(core: client.CoreV1Api, namespace: str, job: str) -> None:
    """Plays the kubelet: the Job's pod exits 0."""
    selector = f"batch.kubernetes.io/job-name={job}"
    pods = eventually(lambda: core.list_namespaced_pod(namespace, label_selector=selector).items,
                      f"a pod for {job}")  # fmt: skip
    patch = {"status": {"phase": "Succeeded"}}
    core.patch_namespaced_pod_status(pods[0].metadata.name, namespace, patch)


def test_two_gpu_quota_admits_two_jobs_and_the_third_when_one_finishes(
    cluster: ClusterClient, namespace: str, gpu_queue: client.CustomObjectsApi
) -> None:
    core, batch = cluster.core_v1(), cluster.batch_v1()
    names = ["job-a", "job-b", "job-c"]
    for name in names:
        created = batch.create_namespaced_job(namespace, queued_gpu_job(name))
        assert created.spec.suspend  # Kueue's webhook suspends a queued Job at creation

    def two_admitted() -> set[str]:
        admitted = admitted_jobs(gpu_queue, namespace)
        return admitted if len(admitted) == GPU_QUOTA else set()

    admitted = eventually(two_admitted, "two Jobs admitted", ADMISSION_TIMEOUT)
    assert eventually(lambda: running_jobs(batch, namespace) == admitted, "admitted Jobs resumed")
    [waiting] = set(names) - admitted
    assert batch.read_namespaced_job(waiting, namespace).spec.suspend
    reserved = eventually(
        lambda: _condition(workloads_by_job(gpu_queue, namespace)[waiting], "QuotaReserved"),
        f"Kueue to say why {waiting} waits",
    )
    assert reserved["status"] == "False" and GPU_RESOURCE in reserved["message"], reserved

    finish_pod_of(core, namespace, sorted(admitted)[0])

    eventually(lambda: waiting in admitted_jobs(gpu_queue, namespace), f"{waiting} admitted",
               ADMISSION_TIMEOUT)  # fmt: skip
    eventually(lambda: waiting in running_jobs(batch, namespace), f"{waiting} resumed")


def test_an_older_api_version_is_served_through_the_conversion_webhook(
    namespace: str, gpu_queue: client.CustomObjectsApi
) -> None:
    """v1beta1 is not stored: the API server asks Kueue's /convert, by URL, for it."""
    old = gpu_queue.get_cluster_custom_object(KUEUE_GROUP, "v1beta1", "clusterqueues", namespace)
    assert old["apiVersion"] == f"{KUEUE_GROUP}/v1beta1"
    quota = old["spec"]["resourceGroups"][0]["flavors"][0]["resources"][0]
    # Written as the number 2; Kueue's Go conversion writes a Quantity back as a string.
    assert (quota["name"], quota["nominalQuota"]) == (GPU_RESOURCE, str(GPU_QUOTA))


def test_a_queued_experiment_runs_every_trial_within_the_quota(
    cluster: ClusterClient, namespace: str, kube: Cluster, gpu_queue: client.CustomObjectsApi
) -> None:
    body = experiment("queued", max_trials=4, parallel=3)
    body["spec"]["trial"]["queue"] = {"name": LOCAL_QUEUE}
    with TrialPodDriver(cluster, namespace, scoring_trainer) as driver, operator_running(namespace):
        kube.create(body)
        done = kube.wait_for_phase("queued", "Succeeded", "Failed", timeout=180)

    assert done["status"]["phase"] == "Succeeded", done["status"]
    assert done["status"]["trials"]["succeeded"] == 4
    assert 1 <= driver.most_running <= GPU_QUOTA  # pods only of admitted Jobs
    assert {job["metadata"]["labels"][QUEUE_NAME_LABEL] for job in kube.jobs()} == {LOCAL_QUEUE}
    assert len(workloads_by_job(gpu_queue, namespace)) == 4  # one Workload per trial
