"""Fixtures of the e2e tier: the local control plane plus one real node running real
containers (containerd, runc, bridge CNI, kubelet) from locally built images.

Nothing is installed here: hack/node-deps.sh installs the packages and
hack/build-node-images.sh warms the image cache. Where either is missing, the tier skips
with the command to run, except with KUBETUNE_REQUIRE_E2E=1, where it fails.
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator

import pytest

from tests.cluster import ClusterClient, ControlPlane, MissingBinariesError, find_bin_dir
from tests.cluster.images import BuiltImage, build_node_images
from tests.cluster.kubelet import NODE_IP
from tests.cluster.node import RealNode
from tests.cluster.operator_image import build_operator_image
from tests.integration.conftest import _teardown_on_sigterm, jobset, jobset_dir, namespace
from tests.integration.operator_harness import Cluster, install_crds, kubeconfig_env

# The integration tier's fixtures, here on the real node's cluster. `jobset` starts JobSet's
# manager for one module only: the tests that need it pay its start.
__all__ = ["jobset", "jobset_dir", "namespace"]

E2E_REQUIRED = os.environ.get("KUBETUNE_REQUIRE_E2E") == "1"
E2E_WANTED = E2E_REQUIRED or os.environ.get("KUBETUNE_E2E") == "1"
OPT_IN_HINT = "e2e tier is opt-in: select it with `pytest -m e2e` (or set KUBETUNE_E2E=1)"
NODE_COMMANDS = ("containerd", "containerd-shim-runc-v2", "runc", "ctr", "buildah",
                 "debootstrap", "gcc", "ip", "mount")  # fmt: skip


def _missing_prerequisites() -> str | None:
    """Why a real node cannot run here, or None when it can."""
    if os.geteuid() != 0:
        return "the real node needs root (mounts, cgroups, the bridge)"
    missing = [command for command in NODE_COMMANDS if shutil.which(command) is None]
    if missing:
        return f"missing {', '.join(missing)}: run hack/node-deps.sh"
    try:
        bin_dir = find_bin_dir()
    except MissingBinariesError as error:
        return str(error)
    if not os.access(bin_dir / "kubelet", os.X_OK):
        return f"no kubelet in {bin_dir}: run hack/build-binaries.sh"
    return None


def _opted_in(config: pytest.Config) -> bool:
    """Minutes of real containers, one node per machine: only runs when asked for."""
    expression = str(config.getoption("markexpr", default=""))
    return E2E_WANTED or ("e2e" in expression and "not e2e" not in expression)


@pytest.fixture(scope="session")
def node_images(request: pytest.FixtureRequest) -> list[BuiltImage]:
    """The pause, trial and operator images (cached; minutes only on a cold cache)."""
    if not _opted_in(request.config):
        pytest.skip(OPT_IN_HINT)
    problem = _missing_prerequisites()
    if problem and E2E_REQUIRED:
        pytest.fail(f"KUBETUNE_REQUIRE_E2E=1 but {problem}", pytrace=False)
    if problem:
        pytest.skip(problem)
    return [*build_node_images(), build_operator_image()]


@pytest.fixture(scope="session")
def real_node_cluster(node_images: list[BuiltImage]) -> Iterator[ClusterClient]:
    """The control plane without kwok, and the real node `kt-node` with 4 fake GPUs."""
    plane = ControlPlane(find_bin_dir(), fake_gpu_node=False)
    _teardown_on_sigterm()
    try:
        cluster = plane.start()
        assert plane.layout is not None
        node = RealNode(plane.layout, node_images, plane.log_dir)
        try:
            node.start(cluster.core_v1())
            yield cluster
        finally:
            node.stop()
    finally:
        plane.stop()


@pytest.fixture(scope="session")
def cluster(real_node_cluster: ClusterClient) -> ClusterClient:
    """What the shared `namespace` fixture builds on, here the real node's cluster."""
    return real_node_cluster


def free_port_on(address: str) -> int:
    with socket.socket() as probe:
        probe.bind((address, 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def kube(cluster: ClusterClient, namespace: str, monkeypatch: pytest.MonkeyPatch) -> Cluster:
    """The CRDs installed, and the in-process operator's ingest on the node's bridge
    address, where the reporter sidecars of real pods reach it."""
    install_crds(cluster)
    kubeconfig_env(cluster)
    port = free_port_on(NODE_IP)
    monkeypatch.setenv("KUBETUNE_INGEST_HOST", NODE_IP)
    monkeypatch.setenv("KUBETUNE_INGEST_PORT", str(port))
    monkeypatch.setenv("KUBETUNE_INGEST_URL", f"http://{NODE_IP}:{port}")
    return Cluster(cluster, namespace)
