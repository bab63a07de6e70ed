"""A real local Kubernetes control plane for tests and development.

etcd, kube-apiserver (RBAC on), kube-controller-manager, kube-scheduler and kwok with one
fake 8-GPU node, all on loopback, built from source by hack/build-binaries.sh. Used by the
`cluster` pytest fixture and by hack/dev-cluster.sh (`python -m tests.cluster up`).
"""

from tests.cluster.binaries import MissingBinariesError, find_bin_dir, pinned_versions
from tests.cluster.client import ClusterClient, KubectlError
from tests.cluster.controlplane import ControlPlane
from tests.cluster.kwok import CUSTOM_STATUS_ANNOTATION, FAKE_NODE_NAME, GPU_RESOURCE, NODE_GPUS
from tests.cluster.readiness import ControlPlaneError
from tests.cluster.waiting import Ticker, eventually

__all__ = [
    "CUSTOM_STATUS_ANNOTATION",
    "FAKE_NODE_NAME",
    "GPU_RESOURCE",
    "NODE_GPUS",
    "ClusterClient",
    "ControlPlane",
    "ControlPlaneError",
    "KubectlError",
    "MissingBinariesError",
    "Ticker",
    "eventually",
    "find_bin_dir",
    "pinned_versions",
]
