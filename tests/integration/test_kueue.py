"""Real Kueue beside the local control plane admits Jobs against a GPU quota: its
webhook suspends a queued Job at creation, its scheduler admits as many as the
ClusterQueue's quota holds, and a finished Job's quota goes to the one that waited. The
operator's trial Jobs, with `spec.trial.queue`, go through the same queue.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from kubetune.planning.jobs import PRIORITY_CLASS_LABEL, QUEUE_NAME_LABEL
from tests.cluster import (
    CUSTOM_STATUS_ANNOTATION,
    GPU_RESOURCE,
    ClusterClient,
    ControlPlane,
    Ticker,
    eventually,
)
from tests.cluster.binaries import REPO_ROOT
from tests.cluster.kueue import KUEUE_GROUP, KUEUE_VERSION, KueueManager
from tests.docs_yaml import documents, yaml_blocks
from tests.integration.operator_harness import (
    Cluster,
    TrialPodDriver,
    condition,
    experiment,
    operator_running,
    scoring_trainer,
)

# kueue_dir first, so that without a Kueue build the tests skip before a cluster starts.
pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("kueue_dir")]

GPU_QUOTA = 2
LOCAL_QUEUE = "trials"
ADMISSION_TIMEOUT = 60
MAX_WAITING = 2
Document = dict[str, Any]


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


def _cluster_queue(name: str, flavor: str, quota: int = GPU_QUOTA, **spec: Any) -> dict[str, Any]:
    """A ClusterQueue of `quota` GPUs of `flavor`; `spec`: cohortName, preemption..."""
    resource = {"name": GPU_RESOURCE, "nominalQuota": quota}
    group = {"coveredResources": [GPU_RESOURCE],
             "flavors": [{"name": flavor, "resources": [resource]}]}  # fmt: skip
    body = {"namespaceSelector": {}, "resourceGroups": [group], **spec}
    return _kueue_object("ClusterQueue", name, body)


class Queues:
    """Kueue objects a test makes (cluster-scoped ones named after its namespace), removed
    after it."""

    def __init__(self, kueue: KueueManager, prefix: str) -> None:
        self.api = client.CustomObjectsApi(kueue.cluster.api_client())
        self.prefix, self.made = prefix, []
        self.flavor = self.cluster_object("resourceflavors", "ResourceFlavor", prefix, {})

    def cluster_object(self, plural: str, kind: str, name: str, spec: dict[str, Any]) -> str:
        body = _kueue_object(kind, name, spec)
        if kind == "WorkloadPriorityClass":  # its fields are top level
            body = {**body, **spec}
            del body["spec"]
        self.api.create_cluster_custom_object(KUEUE_GROUP, KUEUE_VERSION, plural, body)
        self.made.append((plural, name))
        return name

    def queue(self, namespace: str, name: str, quota: int = GPU_QUOTA, **spec: Any) -> None:
        """A ClusterQueue `name` and the LocalQueue `trials` in `namespace` pointing at it."""
        self.api.create_cluster_custom_object(
            KUEUE_GROUP, KUEUE_VERSION, "clusterqueues",
            _cluster_queue(name, self.flavor, quota, **spec),
        )  # fmt: skip
        self.made.append(("clusterqueues", name))
        local = _kueue_object("LocalQueue", LOCAL_QUEUE, {"clusterQueue": name})
        self.api.create_namespaced_custom_object(
            KUEUE_GROUP, KUEUE_VERSION, namespace, "localqueues", local
        )

    def priority_class(self, name: str, value: int) -> str:
        spec = {"value": value, "description": "a test's"}
        return self.cluster_object("workloadpriorityclasses", "WorkloadPriorityClass",
                                   f"{self.prefix}-{name}", spec)  # fmt: skip

    def remove(self) -> None:
        for plural, name in reversed(self.made):
            with contextlib.suppress(ApiException):
                self.api.delete_cluster_custom_object(KUEUE_GROUP, KUEUE_VERSION, plural, name)


@pytest.fixture
def queues(kueue: KueueManager, namespace: str) -> Iterator[Queues]:
    made = Queues(kueue, namespace)
    yield made
    made.remove()


@pytest.fixture
def gpu_queue(queues: Queues, namespace: str) -> client.CustomObjectsApi:
    """A ClusterQueue of 2 GPUs named after the test's namespace, and the LocalQueue
    `trials` in the namespace pointing at it."""
    queues.queue(namespace, namespace)
    return queues.api


@pytest.fixture
def other_namespace(cluster: ClusterClient, namespace: str) -> Iterator[str]:
    core = cluster.core_v1()
    name = f"{namespace}-b"
    core.create_namespace({"metadata": {"name": name, "labels": {"kubetune.dev/test": "true"}}})
    eventually(lambda: any(a.metadata.name == "default"
                           for a in core.list_namespaced_service_account(name).items),
               f"ServiceAccount in {name}")  # fmt: skip
    yield name
    with contextlib.suppress(ApiException):
        core.delete_namespace(name)


def queued_gpu_job(name: str, priority_class: str | None = None) -> dict[str, Any]:
    """A 1-GPU Job for the LocalQueue; kwok leaves its pod to the test (custom status)."""
    container = {"name": "trainer", "image": "kubetune/trial:test",
                 "resources": {"limits": {GPU_RESOURCE: "1"}}}  # fmt: skip
    template = {"metadata": {"annotations": dict([CUSTOM_STATUS_ANNOTATION])},
                "spec": {"restartPolicy": "Never", "containers": [container]}}  # fmt: skip
    return {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": name, "labels": {QUEUE_NAME_LABEL: LOCAL_QUEUE,
                                                   **_priority(priority_class)}},
            "spec": {"backoffLimit": 0, "template": template}}  # fmt: skip


def _priority(priority_class: str | None) -> dict[str, str]:
    return {PRIORITY_CLASS_LABEL: priority_class} if priority_class else {}


def _condition(workload: dict[str, Any], kind: str) -> dict[str, Any]:
    conditions = workload.get("status", {}).get("conditions", [])
    return next((c for c in conditions if c["type"] == kind), {})


def workloads_by_job(objects: client.CustomObjectsApi, namespace: str) -> dict[str, Any]:
    """The namespace's Workloads, by the name of the Job each was made for."""
    workloads = objects.list_namespaced_custom_object(
        KUEUE_GROUP, KUEUE_VERSION, namespace, "workloads"
    )["items"]
    return {w["metadata"]["ownerReferences"][0]["name"]: w for w in workloads}


def _true(workload: dict[str, Any], kind: str) -> bool:
    return _condition(workload, kind).get("status") == "True"


def admitted_jobs(objects: client.CustomObjectsApi, namespace: str) -> set[str]:
    """Names of the Jobs whose Workload Kueue has admitted and that hold quota (not
    finished)."""
    workloads = workloads_by_job(objects, namespace)
    return {
        job for job, w in workloads.items() if _true(w, "Admitted") and not _true(w, "Finished")
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


class Sampler(Ticker):
    """Reads the namespaces' Workloads, Jobs and experiments every few tenths of a second
    while a test runs, keeping the extremes the test asserts on."""

    period = 0.3

    def __init__(self, cluster: ClusterClient, api: client.CustomObjectsApi,
                 namespaces: list[str]) -> None:  # fmt: skip
        super().__init__()
        self.batch, self.api, self.namespaces = cluster.batch_v1(), api, namespaces
        self.most_admitted = self.most_suspended = 0
        self.both_admitted = False  # some sample saw every namespace with a trial admitted
        self.statuses: list[dict[str, Any]] = []  # experiments' trial counts, as sampled

    def tick(self) -> None:
        self._sample()

    def _sample(self) -> None:
        admitted = [admitted_jobs(self.api, namespace) for namespace in self.namespaces]
        self.most_admitted = max(self.most_admitted, sum(len(jobs) for jobs in admitted))
        self.both_admitted |= all(admitted)
        suspended = [self._suspended(namespace) for namespace in self.namespaces]
        self.most_suspended = max(self.most_suspended, *suspended)
        for namespace in self.namespaces:
            found = self.api.list_namespaced_custom_object(
                "kubetune.dev", "v1alpha1", namespace, "tuningexperiments"
            )["items"]
            self.statuses += [e.get("status", {}).get("trials", {}) for e in found]

    def _suspended(self, namespace: str) -> int:
        """Trial Jobs waiting for admission (queued, or preempted) in one namespace."""
        jobs = self.batch.list_namespaced_job(namespace, label_selector=QUEUE_NAME_LABEL).items
        return sum(bool(job.spec.suspend) for job in jobs if not _finished(job))


def _finished(job: Any) -> bool:
    conditions = job.status.conditions or []
    return any(c.type in ("Complete", "Failed") and c.status == "True" for c in conditions)


def queued_experiment(name: str, *, max_trials: int, parallel: int, **queue: Any) -> Document:
    body = experiment(name, max_trials=max_trials, parallel=parallel)
    body["spec"]["trial"]["queue"] = {"name": LOCAL_QUEUE, "maxWaiting": MAX_WAITING, **queue}
    return body


def test_a_queued_experiment_stays_within_quota_and_its_waiting_bound(
    cluster: ClusterClient, namespace: str, kube: Cluster, gpu_queue: client.CustomObjectsApi
) -> None:
    """Quota 2, parallelTrials 6, 1 GPU per trial: at most 2 admitted, at most maxWaiting
    waiting, every trial runs, and the status tells queued from running."""
    body = queued_experiment("queued", max_trials=8, parallel=6)
    driver = TrialPodDriver(cluster, namespace, scoring_trainer, hold=1.0)
    with driver, Sampler(cluster, gpu_queue, [namespace]) as sampler, operator_running(namespace):
        kube.create(body)
        done = kube.wait_for_phase("queued", "Succeeded", "Failed", timeout=240)

    assert done["status"]["phase"] == "Succeeded", done["status"]
    counts = done["status"]["trials"]
    assert (counts["succeeded"], counts["created"], counts["queued"]) == (8, 8, 0)
    assert sampler.most_admitted == GPU_QUOTA, sampler.most_admitted
    assert 1 <= sampler.most_suspended <= MAX_WAITING, sampler.most_suspended
    assert 1 <= driver.most_running <= GPU_QUOTA
    assert any(s.get("queued", 0) >= 1 and s.get("running", 0) >= 1 for s in sampler.statuses)
    assert len(workloads_by_job(gpu_queue, namespace)) == 8  # one Workload per trial
    assert {job["metadata"]["labels"][QUEUE_NAME_LABEL] for job in kube.jobs()} == {LOCAL_QUEUE}


def test_two_experiments_in_two_queues_of_one_cohort_share_the_quota(
    cluster: ClusterClient, namespace: str, other_namespace: str, kube: Cluster, queues: Queues
) -> None:
    """Each ClusterQueue lends its 1 GPU to the cohort; neither experiment starves."""
    for name in (namespace, other_namespace):
        queues.queue(name, name, quota=1, cohortName=namespace)
    other = Cluster(cluster, other_namespace)
    drivers = [TrialPodDriver(cluster, name, scoring_trainer, hold=1.0)
               for name in (namespace, other_namespace)]  # fmt: skip
    sampler = Sampler(cluster, queues.api, [namespace, other_namespace])
    with drivers[0], drivers[1], sampler, operator_running(namespace, other_namespace):
        for where in (kube, other):
            where.create(queued_experiment("shared", max_trials=5, parallel=3))
        done = [where.wait_for_phase("shared", "Succeeded", "Failed", timeout=240)
                for where in (kube, other)]  # fmt: skip

    assert [d["status"]["phase"] for d in done] == ["Succeeded", "Succeeded"], done
    assert [d["status"]["trials"]["succeeded"] for d in done] == [5, 5]
    assert sampler.most_admitted <= 2 and sampler.both_admitted


def test_a_preempted_trial_runs_again_with_its_parameters_and_fails_nothing(
    cluster: ClusterClient, namespace: str, kube: Cluster, queues: Queues
) -> None:
    """A higher-priority Workload takes a running trial's GPU: the trial is Preempted, not
    Failed (maxFailedTrials 0), runs again when the GPU is back, and the experiment ends
    with every count right."""
    queues.queue(namespace, namespace, preemption={"withinClusterQueue": "LowerPriority"})
    low, high = queues.priority_class("low", 10), queues.priority_class("high", 1000)
    release = threading.Event()

    def held_trainer(params: dict[str, str]) -> tuple[int, str] | None:
        return scoring_trainer(params) if release.is_set() else None

    body = queued_experiment("preempted", max_trials=2, parallel=2, priorityClass=low)
    body["spec"]["limits"]["maxFailedTrials"] = 0
    batch, core = cluster.batch_v1(), cluster.core_v1()
    with TrialPodDriver(cluster, namespace, held_trainer), operator_running(namespace):
        kube.create(body)
        eventually(lambda: _phases(kube) == ["Running", "Running"], "both trials running", 90)
        parameters = [trial["spec"]["parameters"] for trial in kube.trials()]
        batch.create_namespaced_job(namespace, queued_gpu_job("urgent", priority_class=high))
        preempted = eventually(lambda: _preempted(kube), "a trial preempted", ADMISSION_TIMEOUT)
        assert preempted["status"]["preemptions"] == 1
        eventually(lambda: _counts(kube, "preempted").get("queued") == 1, "counted as queued")
        finish_pod_of(core, namespace, "urgent")
        name = preempted["metadata"]["name"]
        eventually(lambda: _phase(kube, name) == "Running", f"{name} running again", 90)
        release.set()
        done = kube.wait_for_phase("preempted", "Succeeded", "Failed", timeout=120)

    counts = done["status"]["trials"]
    assert done["status"]["phase"] == "Succeeded", done["status"]
    assert (counts["succeeded"], counts["failed"], counts["created"]) == (2, 0, 2)
    assert [trial["spec"]["parameters"] for trial in kube.trials()] == parameters
    again = next(t for t in kube.trials() if t["metadata"]["name"] == name)
    assert again["status"]["preemptions"] == 1 and again["status"]["phase"] == "Succeeded"
    best = done["status"]["best"]
    values = {t["metadata"]["name"]: t["status"]["value"] for t in kube.trials()}
    assert best["value"] == max(values.values()) and best["trial"] in values
    assert any(reason == "TrialPreempted" for reason, _ in kube.events("preempted"))
    assert len(kube.trials()) == 2  # run again, not launched again


def test_a_trial_larger_than_the_queue_fails_the_experiment_within_a_minute(
    namespace: str, kube: Cluster, gpu_queue: client.CustomObjectsApi
) -> None:
    body = queued_experiment("too-big", max_trials=3, parallel=1)
    body["spec"]["trial"]["gpus"] = GPU_QUOTA + 2
    with operator_running(namespace):
        kube.create(body)
        started = time.monotonic()
        done = kube.wait_for_phase("too-big", "Succeeded", "Failed", timeout=60)
        took = time.monotonic() - started

    failed = condition(done, "Failed")
    assert failed is not None and failed["reason"] == "ExceedsMaxQuota", done["status"]
    assert "can never be admitted" in failed["message"] and GPU_RESOURCE in failed["message"]
    assert took < 60 and done["status"]["trials"]["created"] == 1
    eventually(lambda: not kube.jobs(), "the waiting Job deleted")


def _phases(kube: Cluster) -> list[str]:
    return [trial.get("status", {}).get("phase", "Pending") for trial in kube.trials()]


def _phase(kube: Cluster, name: str) -> str:
    trial = next(t for t in kube.trials() if t["metadata"]["name"] == name)
    return str(trial.get("status", {}).get("phase", "Pending"))


def _preempted(kube: Cluster) -> Document | None:
    return next((t for t in kube.trials() if t.get("status", {}).get("phase") == "Preempted"),
                None)  # fmt: skip


def _counts(kube: Cluster, name: str) -> dict[str, int]:
    return dict(kube.experiment(name).get("status", {}).get("trials", {}))


def test_the_kueue_objects_in_the_docs_pass_server_side_validation(
    cluster: ClusterClient, namespace: str, kueue: KueueManager
) -> None:
    """docs/kueue.md shows what an administrator applies; Kueue's CRDs (and webhooks)
    must accept it as written (LocalQueues moved to the test's namespace)."""
    shown = [
        document
        for block in yaml_blocks([REPO_ROOT / "docs" / "kueue.md"])
        for document in documents(block)
        if str(document.get("apiVersion", "")).startswith(KUEUE_GROUP)
    ]
    assert {document["kind"] for document in shown} >= {"ClusterQueue", "LocalQueue"}
    for document in shown:
        if "namespace" in document["metadata"]:
            document["metadata"]["namespace"] = namespace
    manifest = yaml.safe_dump_all(shown)
    result = cluster.kubectl("apply", "--dry-run=server", "-f", "-", stdin=manifest)
    assert result.stdout.count("(server dry run)") == len(shown), result.stdout
