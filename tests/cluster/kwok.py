"""kwok, run out of cluster, plays the kubelet of one fake GPU node.

Its default stages move pods bound to the node to Running, pods owned by a Job on to
Succeeded, and finish deletions. A pod annotated `kwok.x-k8s.io/status: custom` is left
alone, so a test can write that pod's status itself (e.g. a failed or slow trial).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.cluster.components import Layout

FAKE_NODE_NAME = "kt-gpu-node"
GPU_RESOURCE = "nvidia.com/gpu"
NODE_GPUS = 8
FAKE_NODE_ANNOTATION = ("kwok.x-k8s.io/node", "fake")
CUSTOM_STATUS_ANNOTATION = ("kwok.x-k8s.io/status", "custom")
# Pod IPs come from a range apart from the service range (10.0.0.0/24) and the node's IP.
POD_CIDR = "10.244.0.1/24"
NODE_IP = "10.243.0.1"
# Its own (empty) config file, so a user's ~/.kwok/kwok.yaml never changes test behaviour.
KWOK_CONFIG = "apiVersion: config.kwok.x-k8s.io/v1alpha1\nkind: KwokConfiguration\noptions: {}\n"


def _selector(pair: tuple[str, str]) -> str:
    return f"{pair[0]}={pair[1]}"


def kwok_argv(layout: Layout) -> list[str | Path]:
    config = layout.state("kwok") / "kwok.yaml"
    config.write_text(KWOK_CONFIG)
    return [
        layout.bin_dir / "kwok",
        f"--config={config}",
        f"--kubeconfig={layout.kubeconfig}",
        "--manage-all-nodes=false",
        f"--manage-nodes-with-annotation-selector={_selector(FAKE_NODE_ANNOTATION)}",
        "--manage-nodes-with-label-selector=",
        # Deprecated in favour of Stage objects, but still honoured by v0.7 and far simpler
        # than shipping a copy of every default stage with an extra selector.
        f"--disregard-status-with-annotation-selector={_selector(CUSTOM_STATUS_ANNOTATION)}",
        "--disregard-status-with-label-selector=",
        f"--cidr={POD_CIDR}",
        f"--node-ip={NODE_IP}",
    ]


def fake_gpu_node() -> dict[str, Any]:
    """A Node with 8 GPUs. Untainted on purpose: it is the only node, so every pod lands on
    it, and trial Jobs need no kwok-specific toleration."""
    resources = {"cpu": "32", "memory": "256Gi", "pods": "110", GPU_RESOURCE: str(NODE_GPUS)}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": FAKE_NODE_NAME,
            "annotations": dict([FAKE_NODE_ANNOTATION]),
            "labels": {
                "type": "kwok",
                "kubernetes.io/hostname": FAKE_NODE_NAME,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "nvidia.com/gpu.present": "true",
            },
        },
        # Nodes accept status on create; kwok's node-initialize stage keeps these values.
        "status": {"capacity": resources, "allocatable": resources},
    }
