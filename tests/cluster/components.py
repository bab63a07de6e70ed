"""Command lines of etcd and the Kubernetes control-plane binaries.

Everything listens on loopback ports chosen at start, so several control planes (a dev
cluster and a test session) can run side by side; state lives under one work directory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.cluster.pki import Pki

SERVICE_CLUSTER_IP_RANGE = "10.0.0.0/24"
SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local"


@dataclass(frozen=True)
class Ports:
    etcd_client: int
    etcd_peer: int
    apiserver: int
    controller_manager: int
    scheduler: int
    kwok_server: int  # kwok's kubelet endpoint (container logs)


@dataclass(frozen=True)
class Layout:
    """Where the binaries are and where one control plane keeps its files."""

    bin_dir: Path
    work_dir: Path
    pki: Pki
    kubeconfig: Path

    def state(self, name: str) -> Path:
        path = self.work_dir / name
        path.mkdir(parents=True, exist_ok=True)
        return path


def etcd_argv(layout: Layout, ports: Ports) -> list[str | Path]:
    client, peer = f"http://127.0.0.1:{ports.etcd_client}", f"http://127.0.0.1:{ports.etcd_peer}"
    return [
        layout.bin_dir / "etcd",
        *("--name=kubetune", f"--data-dir={layout.state('etcd-data')}"),
        *(f"--listen-client-urls={client}", f"--advertise-client-urls={client}"),
        *(f"--listen-peer-urls={peer}", f"--initial-advertise-peer-urls={peer}"),
        f"--initial-cluster=kubetune={peer}",
        # Test data is disposable: skipping fsync makes etcd fast on a shared small disk.
        "--unsafe-no-fsync",
        "--log-level=warn",
    ]


def apiserver_argv(layout: Layout, ports: Ports) -> list[str | Path]:
    pki = layout.pki
    return [
        layout.bin_dir / "kube-apiserver",
        f"--etcd-servers=http://127.0.0.1:{ports.etcd_client}",
        *("--bind-address=127.0.0.1", "--advertise-address=127.0.0.1"),
        f"--secure-port={ports.apiserver}",
        f"--tls-cert-file={pki.server_cert}",
        f"--tls-private-key-file={pki.server_key}",
        f"--client-ca-file={pki.ca_cert}",
        "--authorization-mode=Node,RBAC",
        # Published for kcm and the scheduler (else their logs fill with "missing content
        # for CA bundle"); no certificate carries the allowed name, so no proxy can use it.
        f"--requestheader-client-ca-file={pki.ca_cert}",
        "--requestheader-allowed-names=kubetune-front-proxy",
        "--requestheader-username-headers=X-Remote-User",
        "--requestheader-group-headers=X-Remote-Group",
        "--requestheader-extra-headers-prefix=X-Remote-Extra-",
        f"--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}",
        f"--service-account-issuer={SERVICE_ACCOUNT_ISSUER}",
        f"--service-account-key-file={pki.sa_pub}",
        f"--service-account-signing-key-file={pki.sa_key}",
        # Endpoints may not hold loopback addresses, so the lease reconciler would only
        # log errors for the `kubernetes` Service; nothing in this cluster dials it.
        "--endpoint-reconciler-type=none",
        "--allow-privileged=true",
        "--profiling=false",
        # For logs and exec on a real node (tests/cluster/node.py): dial the node's IP (its
        # name resolves nowhere) and log in to the kubelet, which trusts only our CA.
        "--kubelet-preferred-address-types=InternalIP",
        f"--kubelet-client-certificate={pki.admin_cert}",
        f"--kubelet-client-key={pki.admin_key}",
    ]


def _delegated_auth(layout: Layout, port: int, name: str) -> list[str | Path]:
    """Flags kcm and the scheduler share: admin kubeconfig, loopback health endpoint."""
    return [
        f"--kubeconfig={layout.kubeconfig}",
        f"--authentication-kubeconfig={layout.kubeconfig}",
        f"--authorization-kubeconfig={layout.kubeconfig}",
        "--leader-elect=false",
        "--bind-address=127.0.0.1",
        f"--secure-port={port}",
        f"--cert-dir={layout.state(f'{name}-certs')}",
    ]


def controller_manager_argv(
    layout: Layout, ports: Ports, extra: Sequence[str] = ()
) -> list[str | Path]:
    """`extra`: flags a caller adds (the scale benchmark raises the API rate)."""
    pki = layout.pki
    return [
        layout.bin_dir / "kube-controller-manager",
        *_delegated_auth(layout, ports.controller_manager, "kube-controller-manager"),
        "--controllers=*",
        f"--service-account-private-key-file={pki.sa_key}",
        f"--root-ca-file={pki.ca_cert}",
        f"--cluster-signing-cert-file={pki.ca_cert}",
        f"--cluster-signing-key-file={pki.ca_key}",
        # Each controller acts under its own service account, so RBAC is exercised as
        # in a real cluster rather than everything running as system:masters.
        "--use-service-account-credentials=true",
        f"--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}",
        *extra,
    ]


def scheduler_argv(layout: Layout, ports: Ports) -> list[str | Path]:
    return [
        layout.bin_dir / "kube-scheduler",
        *_delegated_auth(layout, ports.scheduler, "kube-scheduler"),
    ]
