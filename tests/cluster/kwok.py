"""kwok, run out of cluster, plays the kubelet of one fake GPU node.

Its default stages move pods bound to the node to Running, pods owned by a Job on to
Succeeded, and finish deletions. A pod annotated `kwok.x-k8s.io/status: custom` is left
alone, so a test can write that pod's status itself (e.g. a failed or slow trial).

Container logs: kwok also serves the kubelet's `/containerLogs` endpoint, so `pods/log`
(kubectl logs, the operator's read of a trainer's printed metrics) works through the API
server as on a real node. The node's address is loopback and its kubelet port is kwok's
server; a `Logs` object (kwok.x-k8s.io, named after the pod) points a pod's container at
a file in the CRI log format, which whoever plays the container writes (process_pods).
kwok only watches `Logs` objects when their CRD exists, so the control plane installs it
(`logs_crd`, our own: kwok reads only `spec.logs`) before it starts kwok.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.cluster.components import Layout

FAKE_NODE_NAME = "kt-gpu-node"
GPU_RESOURCE = "nvidia.com/gpu"
NODE_GPUS = 8
FAKE_NODE_ANNOTATION = ("kwok.x-k8s.io/node", "fake")
CUSTOM_STATUS_ANNOTATION = ("kwok.x-k8s.io/status", "custom")
# Pod IPs come from a range apart from the service range (10.0.0.0/24) and the node's IP.
POD_CIDR = "10.244.0.1/24"
# The API server dials the node's InternalIP at its kubelet port for logs: kwok's server
# listens there, on loopback like every other component.
NODE_IP = "127.0.0.1"
LOGS_GROUP, LOGS_VERSION, LOGS_PLURAL = "kwok.x-k8s.io", "v1alpha1", "logs"
# Its own (empty) config file, so a user's ~/.kwok/kwok.yaml never changes test behaviour.
KWOK_CONFIG = "apiVersion: config.kwok.x-k8s.io/v1alpha1\nkind: KwokConfiguration\noptions: {}\n"


def _selector(pair: tuple[str, str]) -> str:
    return f"{pair[0]}={pair[1]}"


def kwok_argv(layout: Layout, server_port: int) -> list[str | Path]:
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
        # The kubelet endpoint: the node advertises this port, the API server proxies
        # pods/log to it over TLS (without verifying it, as no --kubelet-certificate-authority
        # is set), and kwok answers from the files that `Logs` objects name.
        f"--node-port={server_port}",
        f"--server-address={NODE_IP}:{server_port}",
        f"--tls-cert-file={layout.pki.server_cert}",
        f"--tls-private-key-file={layout.pki.server_key}",
        "--enable-crds=Logs",
    ]


def logs_crd() -> dict[str, Any]:
    """The `Logs` resource kwok watches. Schemaless on purpose: tests write it, kwok reads
    `spec.logs[].{containers, logsFile}`, and nothing else depends on its shape."""
    open_schema = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    schema = {"openAPIV3Schema": open_schema}
    version = {"name": LOGS_VERSION, "served": True, "storage": True, "schema": schema}
    names = {"kind": "Logs", "listKind": "LogsList", "plural": LOGS_PLURAL,
             "singular": LOGS_PLURAL}  # fmt: skip
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{LOGS_PLURAL}.{LOGS_GROUP}"},
        "spec": {
            "group": LOGS_GROUP,
            "scope": "Namespaced",
            "names": names,
            "versions": [version],
        },
    }


def container_logs(pod: str, files: dict[str, Path]) -> dict[str, Any]:
    """A `Logs` object for one pod: container name -> its CRI-format log file."""
    logs = [{"containers": [name], "logsFile": str(path)} for name, path in files.items()]
    return {"apiVersion": f"{LOGS_GROUP}/{LOGS_VERSION}", "kind": "Logs",
            "metadata": {"name": pod}, "spec": {"logs": logs}}  # fmt: skip


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


def confirm_deletion(core: client.CoreV1Api, namespace: str, name: str) -> None:
    """What a kubelet does for a deleted pod once its containers stopped: remove it. kwok
    leaves pods with a custom status to whoever plays them, so without this a deleted
    pod stays Terminating for ever and keeps its GPU on the shared node."""
    with contextlib.suppress(ApiException):  # gone already
        core.delete_namespaced_pod(name, namespace, grace_period_seconds=0)
