"""The operator installed with `helm install` from charts/kubetune, running from its
image as a pod on the real node, tunes the quickstart with real trial pods.

A post-renderer fits the chart's Deployment to a cluster with no kube-proxy and no DNS
(helm_host_network.py says how); its RBAC, service account and probes are the chart's
own, so a missing permission fails here as it would in a real cluster.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from tests.cluster import ClusterClient
from tests.cluster.binaries import REPO_ROOT
from tests.cluster.kubelet import NODE_IP
from tests.cluster.service_proxy import TcpForwarder
from tests.e2e.conftest import free_port_on
from tests.e2e.test_real_pods import example
from tests.integration.operator_harness import Cluster

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

RELEASE, RELEASE_NAMESPACE = "kubetune", "kubetune-system"
RENDERER = Path(__file__).with_name("helm_host_network.py")


def helm(cluster: ClusterClient, *args: str) -> str:
    argv = [str(cluster.bin_dir / "helm"), f"--kubeconfig={cluster.kubeconfig}", *args]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, f"helm {' '.join(args)}:\n{result.stderr}"
    return result.stdout


def apiserver_address(cluster: ClusterClient) -> tuple[str, int]:
    config = yaml.safe_load(cluster.kubeconfig.read_text())
    server = urlsplit(config["clusters"][0]["cluster"]["server"])
    return str(server.hostname), int(server.port or 443)


def operator_log(cluster: ClusterClient) -> str:
    logs = cluster.kubectl("logs", "-n", RELEASE_NAMESPACE, f"deployment/{RELEASE}-operator",
                           "--tail=40", check=False)  # fmt: skip
    return logs.stdout + logs.stderr


@pytest.fixture
def installed_operator(cluster: ClusterClient, namespace: str) -> Iterator[None]:
    with TcpForwarder((NODE_IP, 443), apiserver_address(cluster)):
        yield from _helm_installed(cluster, namespace)


def _helm_installed(cluster: ClusterClient, namespace: str) -> Iterator[None]:
    ingest_port = str(free_port_on(NODE_IP))
    values = [f"watchNamespaces={{{namespace}}}", f"ingest.port={ingest_port}",
              f"metrics.port={free_port_on('127.0.0.1')}"]  # fmt: skip
    renderer_args = [str(RENDERER), NODE_IP, ingest_port]
    helm(cluster, "install", RELEASE, str(REPO_ROOT / "charts" / "kubetune"),
         "--namespace", RELEASE_NAMESPACE, "--create-namespace", "--wait", "--timeout=3m",
         *(f"--set={value}" for value in values), f"--post-renderer={sys.executable}",
         *(f"--post-renderer-args={arg}" for arg in renderer_args))  # fmt: skip
    try:
        yield
    finally:
        helm(cluster, "uninstall", RELEASE, "--namespace", RELEASE_NAMESPACE, "--wait")


def test_helm_installed_operator_tunes_the_quickstart_with_real_pods(
    cluster: ClusterClient, namespace: str, installed_operator: None
) -> None:
    kube = Cluster(cluster, namespace)
    kube.create(example("quickstart.yaml", maxTrials=4, parallelTrials=2))
    try:
        done = kube.wait_for_phase("digits-svc", "Succeeded", "Failed", timeout=150)
    except AssertionError as error:  # the operator's own log says why
        raise AssertionError(f"{error}\noperator log:\n{operator_log(cluster)}") from None

    assert done["status"]["phase"] == "Succeeded", done["status"]
    values = [trial["status"]["metrics"]["val_accuracy"] for trial in kube.trials()]
    assert len(values) == 4
    assert done["status"]["best"]["value"] == max(values)
    operator_pods = cluster.core_v1().list_namespaced_pod(RELEASE_NAMESPACE).items
    assert [pod.status.phase for pod in operator_pods] == ["Running"]
