"""Fixtures for tests against the real local control plane (tests/cluster).

One control plane per test session (startup costs seconds), one fresh namespace per test
(so tests never see each other's objects). Missing binaries skip these tests with the
command that builds them, except in CI (KUBETUNE_REQUIRE_CLUSTER=1), where they fail.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.cluster import (
    ClusterClient,
    ControlPlane,
    MissingBinariesError,
    eventually,
    find_bin_dir,
)
from tests.cluster.binaries import find_jobset_dir, find_kueue_dir
from tests.cluster.jobset import JobSetManager
from tests.cluster.kueue import KueueManager
from tests.cluster.kwok import confirm_deletion
from tests.integration.operator_harness import Cluster, install_crds, kubeconfig_env
from tests.unit.reporter_endpoint import free_port

CLUSTER_REQUIRED = os.environ.get("KUBETUNE_REQUIRE_CLUSTER") == "1"


def _built_or_skip(find: Callable[[], Path]) -> Path:
    try:
        return find()
    except MissingBinariesError as missing:
        if CLUSTER_REQUIRED:
            pytest.fail(f"KUBETUNE_REQUIRE_CLUSTER=1 but {missing}", pytrace=False)
        pytest.skip(str(missing))


def _teardown_on_sigterm() -> None:
    """A SIGTERM'd pytest would skip fixture teardown; turn it into an orderly exit."""
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:

        def _exit(signum: int, _frame: FrameType | None) -> None:
            raise SystemExit(128 + signum)

        signal.signal(signal.SIGTERM, _exit)


@pytest.fixture(scope="session")
def bin_dir() -> Path:
    """The directory of the built control-plane binaries (skips or fails if incomplete)."""
    return _built_or_skip(find_bin_dir)


@pytest.fixture(scope="session")
def cluster(bin_dir: Path) -> Iterator[ClusterClient]:
    """etcd + kube-apiserver + kcm + scheduler + kwok (fake 8-GPU node `kt-gpu-node`)."""
    plane = ControlPlane(bin_dir)
    _teardown_on_sigterm()
    try:
        yield plane.start()
    finally:
        plane.stop()


@pytest.fixture(scope="session")
def kueue_dir() -> Path:
    """hack/build-kueue.sh's directory (skips or fails if it has not run)."""
    return _built_or_skip(find_kueue_dir)


@pytest.fixture(scope="module")
def kueue(
    kueue_dir: Path, cluster: ClusterClient, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[KueueManager]:
    """Kueue's manager beside the control plane, its webhooks registered by URL; for the
    tests of one module (its webhooks see every Job, so it runs no longer than needed)."""
    manager = KueueManager(cluster, kueue_dir, tmp_path_factory.mktemp("kueue"))
    manager.start()
    yield manager
    manager.stop()


@pytest.fixture(scope="session")
def jobset_dir() -> Path:
    """hack/build-jobset.sh's directory (skips or fails if it has not run)."""
    return _built_or_skip(find_jobset_dir)


@pytest.fixture(scope="module")
def jobset(
    jobset_dir: Path, cluster: ClusterClient, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[JobSetManager]:
    """JobSet's manager beside the control plane, its webhooks registered by URL; for the
    tests of one module."""
    manager = JobSetManager(cluster, jobset_dir, tmp_path_factory.mktemp("jobset"))
    manager.start()
    yield manager
    manager.stop()


def _namespace_name(test_name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", test_name.lower()).strip("-")[:40].rstrip("-")
    return f"kt-{slug}-{secrets.token_hex(3)}"


@pytest.fixture
def namespace(cluster: ClusterClient, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace with its `default` ServiceAccount (pods need it); deleted after."""
    core = cluster.core_v1()
    name = _namespace_name(request.node.name)
    core.create_namespace({"metadata": {"name": name, "labels": {"kubetune.dev/test": "true"}}})
    eventually(lambda: _has_default_service_account(core, name), f"ServiceAccount in {name}")
    yield name
    with contextlib.suppress(ApiException):
        core.delete_namespace(name)
    eventually(lambda: _reaped(core, name), f"every pod of {name} removed", timeout=60)


def _reaped(core: client.CoreV1Api, namespace: str) -> bool:
    """Removes what is left of the namespace's pods, as the kubelet would once they are
    deleted; True once none is left. Pods whose status a test wrote (kwok leaves them
    alone) would otherwise stay Terminating, holding GPUs of the node every test shares.
    The namespace is terminating, so no new pod can appear in it."""
    pods = core.list_namespaced_pod(namespace).items
    for pod in pods:
        confirm_deletion(core, namespace, pod.metadata.name)
    return not pods


def _has_default_service_account(core: client.CoreV1Api, namespace: str) -> bool:
    accounts = core.list_namespaced_service_account(namespace).items
    return any(account.metadata.name == "default" for account in accounts)


@pytest.fixture
def kube(cluster: ClusterClient, namespace: str) -> Cluster:
    """The CRDs installed and $KUBECONFIG pointing at the cluster, for an operator run
    in this process."""
    install_crds(cluster)
    kubeconfig_env(cluster)
    return Cluster(cluster, namespace)


@pytest.fixture
def reporting_cluster(kube: Cluster, monkeypatch: pytest.MonkeyPatch) -> Cluster:
    """`kube`, with the operator's ingest endpoint on loopback, where the reporter
    sidecars of process-played pods reach it."""
    port = free_port()
    monkeypatch.setenv("KUBETUNE_INGEST_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBETUNE_INGEST_PORT", str(port))
    monkeypatch.setenv("KUBETUNE_INGEST_URL", f"http://127.0.0.1:{port}")
    return kube
