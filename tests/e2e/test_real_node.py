"""The real node itself: a GPU-requesting Job runs a real Python container from the trial
image to completion, its logs are readable through the API server, and the node's
advertised GPUs are what the scheduler counts.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.cluster import ClusterClient, eventually
from tests.cluster.node import GPU_RESOURCE, NODE_GPUS

# The first test also builds images on a cold cache (minutes; docs/e2e.md).
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

TRIAL_IMAGE = "kubetune/trial:0.1.0"  # as the examples name it
PROBE = (
    "import sklearn, numpy, kubetune.reporting, os; "
    "print('trial image ok', sklearn.__version__, numpy.__version__, os.getcwd(), os.getuid())"
)


def gpu_job(name: str, gpus: int, command: list[str]) -> dict[str, Any]:
    container = {
        "name": "main",
        "image": TRIAL_IMAGE,
        "imagePullPolicy": "IfNotPresent",
        "command": command,
        "resources": {"limits": {GPU_RESOURCE: str(gpus)}},
    }
    pod = {"restartPolicy": "Never", "containers": [container]}
    spec = {"backoffLimit": 0, "template": {"spec": pod}}
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name}, "spec": spec}


def test_gpu_job_runs_the_trial_image_and_its_logs_are_readable(
    cluster: ClusterClient, namespace: str
) -> None:
    batch = cluster.batch_v1()
    batch.create_namespaced_job(namespace, gpu_job("probe", 1, ["python", "-c", PROBE]))

    def succeeded() -> int:
        return batch.read_namespaced_job_status("probe", namespace).status.succeeded or 0

    eventually(succeeded, "the probe Job succeeded", timeout=120)
    logs = cluster.kubectl("logs", "-n", namespace, "job/probe").stdout
    assert logs.startswith("trial image ok"), logs
    assert "/app 1000" in logs  # the Dockerfile's working directory and user


def test_gpus_beyond_the_node_capacity_leave_the_pod_pending(
    cluster: ClusterClient, namespace: str
) -> None:
    batch, core = cluster.batch_v1(), cluster.core_v1()
    batch.create_namespaced_job(namespace, gpu_job("greedy", NODE_GPUS + 1, ["true"]))

    def unschedulable_message() -> str:
        pods = core.list_namespaced_pod(namespace, label_selector="job-name=greedy").items
        conditions = (pods[0].status.conditions or []) if pods else []
        return next((c.message for c in conditions if c.reason == "Unschedulable"), "")

    message = eventually(unschedulable_message, "the greedy pod unschedulable", timeout=60)
    assert f"Insufficient {GPU_RESOURCE}" in message
