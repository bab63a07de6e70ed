"""The local control plane behaves like a real cluster in the ways the operator relies on:
Jobs run to completion on the fake GPU node, GPU requests are really scheduled against
capacity, garbage collection follows ownerReferences, and RBAC is enforced.
"""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client

from tests.cluster import (
    CUSTOM_STATUS_ANNOTATION,
    FAKE_NODE_NAME,
    GPU_RESOURCE,
    NODE_GPUS,
    ClusterClient,
    eventually,
)

pytestmark = pytest.mark.integration


def gpu_pod_spec(gpus: int) -> dict[str, Any]:
    container = {
        "name": "trainer",
        "image": "kubetune/trial:test",  # never pulled: kwok plays the kubelet
        "resources": {"limits": {GPU_RESOURCE: str(gpus)}},
    }
    return {"restartPolicy": "Never", "containers": [container]}


def gpu_job(name: str, gpus: int = 1, completions: int = 1) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {
            "completions": completions,
            "parallelism": completions,
            "backoffLimit": 0,
            "template": {"spec": gpu_pod_spec(gpus)},
        },
    }


def job_pods(core: client.CoreV1Api, namespace: str, job: str) -> list[Any]:
    selector = f"batch.kubernetes.io/job-name={job}"
    return list(core.list_namespaced_pod(namespace, label_selector=selector).items)


def job_completed(batch: client.BatchV1Api, namespace: str, name: str) -> bool:
    status = batch.read_namespaced_job_status(name, namespace).status
    conditions = status.conditions or []
    return status.succeeded == 1 and any(
        c.type == "Complete" and c.status == "True" for c in conditions
    )


def test_gpu_job_is_scheduled_on_the_fake_node_and_completes(
    cluster: ClusterClient, namespace: str
) -> None:
    core, batch = cluster.core_v1(), cluster.batch_v1()
    batch.create_namespaced_job(namespace, gpu_job("train-1"))

    pods = eventually(lambda: job_pods(core, namespace, "train-1"), "a pod created for the Job")
    assert pods[0].metadata.owner_references[0].kind == "Job"
    eventually(lambda: job_completed(batch, namespace, "train-1"), "Job complete", timeout=60)

    pod = job_pods(core, namespace, "train-1")[0]
    assert pod.spec.node_name == FAKE_NODE_NAME
    assert pod.status.phase == "Succeeded"
    assert pod.spec.containers[0].resources.limits[GPU_RESOURCE] == "1"
    assert pod.status.container_statuses[0].state.terminated.reason == "Completed"


def test_pod_asking_for_more_gpus_than_the_node_has_stays_unschedulable(
    cluster: ClusterClient, namespace: str
) -> None:
    core = cluster.core_v1()
    pod = {"metadata": {"name": "too-big"}, "spec": gpu_pod_spec(NODE_GPUS + 1)}
    core.create_namespaced_pod(namespace, pod)

    def unschedulable_condition() -> Any:
        conditions = core.read_namespaced_pod(pod["metadata"]["name"], namespace).status.conditions
        return next((c for c in conditions or [] if c.reason == "Unschedulable"), None)

    condition = eventually(unschedulable_condition, "the pod marked Unschedulable")
    assert f"Insufficient {GPU_RESOURCE}" in condition.message
    still = core.read_namespaced_pod("too-big", namespace)
    assert (still.status.phase, still.spec.node_name) == ("Pending", None)


def test_deleting_a_job_garbage_collects_its_pods(cluster: ClusterClient, namespace: str) -> None:
    core, batch = cluster.core_v1(), cluster.batch_v1()
    batch.create_namespaced_job(namespace, gpu_job("doomed", completions=2))
    eventually(lambda: len(job_pods(core, namespace, "doomed")) == 2, "both Job pods created")

    batch.delete_namespaced_job(
        "doomed", namespace, body=client.V1DeleteOptions(propagation_policy="Background")
    )

    eventually(lambda: not job_pods(core, namespace, "doomed"), "pods garbage-collected")
    assert not batch.list_namespaced_job(namespace).items


def test_kwok_leaves_pods_with_custom_status_to_the_test(
    cluster: ClusterClient, namespace: str
) -> None:
    core = cluster.core_v1()
    annotations = dict([CUSTOM_STATUS_ANNOTATION])
    core.create_namespaced_pod(
        namespace, {"metadata": {"name": "kwok-run"}, "spec": gpu_pod_spec(1)}
    )
    core.create_namespaced_pod(
        namespace,
        {"metadata": {"name": "hand-run", "annotations": annotations}, "spec": gpu_pod_spec(1)},
    )

    def phase(name: str) -> str:
        return str(core.read_namespaced_pod(name, namespace).status.phase)

    eventually(lambda: phase("kwok-run") == "Running", "kwok to start the plain pod")
    hand_run = core.read_namespaced_pod("hand-run", namespace)
    assert hand_run.spec.node_name == FAKE_NODE_NAME  # scheduled, yet kwok left it alone
    assert (hand_run.status.phase, hand_run.status.pod_ip) == ("Pending", None)

    core.patch_namespaced_pod_status("hand-run", namespace, {"status": {"phase": "Failed"}})
    assert phase("hand-run") == "Failed"


def test_rbac_limits_a_service_account_to_its_role(cluster: ClusterClient, namespace: str) -> None:
    rbac = client.RbacAuthorizationV1Api(cluster.api_client())
    cluster.core_v1().create_namespaced_service_account(namespace, {"metadata": {"name": "reader"}})
    rule = {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}
    rbac.create_namespaced_role(namespace, {"metadata": {"name": "pod-reader"}, "rules": [rule]})
    rbac.create_namespaced_role_binding(
        namespace,
        {
            "metadata": {"name": "reader-reads-pods"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": "pod-reader",
            },
            "subjects": [{"kind": "ServiceAccount", "name": "reader", "namespace": namespace}],
        },
    )

    def can_i(verb: str, resource: str) -> str:
        who = f"--as=system:serviceaccount:{namespace}:reader"
        args = ("auth", "can-i", verb, resource, who, "-n", namespace)
        return cluster.kubectl(*args, check=False).stdout.strip()

    assert eventually(lambda: can_i("list", "pods") == "yes", "list pods allowed")
    assert can_i("get", "pods") == "yes"
    assert can_i("create", "jobs") == "no"
    assert can_i("delete", "pods") == "no"
