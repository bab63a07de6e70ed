"""The local control plane (tests/cluster), sized for thousands of concurrent trial pods.

The control plane's own fake node has 8 GPUs; a scenario with N experiments x 20
parallel trials needs N x 20, so extra kwok nodes are added, each a copy of that node
with more GPUs and pod slots (kwok manages every node carrying its annotation).
"""

from __future__ import annotations

import copy
import functools
import math
from pathlib import Path

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from tests.cluster import GPU_RESOURCE, ClusterClient, eventually
from tests.cluster.kwok import fake_gpu_node

GPUS_PER_SCALE_NODE = 250  # and as many pod slots: one GPU per trial pod
SCALE_NODE_PREFIX = "kt-scale-node"
CLIENT_POOL_SIZE = 64  # connections the driver's player threads may share


def api_client_for(kubeconfig: Path) -> client.ApiClient:
    """An admin client whose connection pool fits many threads (the default keeps ~10
    and discards the rest with a warning each time)."""
    configuration = client.Configuration()
    config.load_kube_config(config_file=str(kubeconfig), client_configuration=configuration)  # type: ignore[no-untyped-call]
    configuration.connection_pool_maxsize = CLIENT_POOL_SIZE
    return client.ApiClient(configuration)


def scale_node(index: int, gpus: int) -> dict[str, object]:
    node = copy.deepcopy(fake_gpu_node())
    name = f"{SCALE_NODE_PREFIX}-{index}"
    node["metadata"]["name"] = name
    node["metadata"]["labels"]["kubernetes.io/hostname"] = name
    resources = {**node["status"]["capacity"], "pods": str(gpus), GPU_RESOURCE: str(gpus)}
    node["status"] = {"capacity": resources, "allocatable": resources}
    return node


def add_gpu_nodes(core: client.CoreV1Api, concurrent_pods: int) -> int:
    """Enough extra nodes for `concurrent_pods` one-GPU pods; returns how many exist."""
    count = math.ceil(concurrent_pods / GPUS_PER_SCALE_NODE)
    for index in range(count):
        try:
            # The client serialises a plain manifest dict as readily as a V1Node model.
            core.create_node(scale_node(index, GPUS_PER_SCALE_NODE))  # type: ignore[arg-type]
        except ApiException as error:
            if error.status != 409:  # already there from an earlier scenario
                raise
    for index in range(count):
        name = f"{SCALE_NODE_PREFIX}-{index}"
        eventually(functools.partial(_ready, core, name), f"{name} Ready", 60)
    return count


def _ready(core: client.CoreV1Api, name: str) -> bool:
    status = core.read_node(name).status
    conditions = (status and status.conditions) or []
    return any(c.type == "Ready" and c.status == "True" for c in conditions)


def create_namespace(cluster: ClusterClient, name: str) -> None:
    """A namespace whose `default` ServiceAccount exists (pods are refused until then)."""
    core = cluster.core_v1()
    core.create_namespace({"metadata": {"name": name}})  # type: ignore[arg-type]  # as above

    def has_account() -> bool:
        accounts = core.list_namespaced_service_account(name).items
        return any(a.metadata is not None and a.metadata.name == "default" for a in accounts)

    eventually(has_account, f"ServiceAccount in {name}", 60)
