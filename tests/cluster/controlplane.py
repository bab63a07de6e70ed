"""Starts and stops a real control plane: etcd, kube-apiserver, kube-controller-manager,
kube-scheduler and kwok with one fake GPU node.

Readiness means usable, not merely started: /readyz passes, the node is Ready, and the
`default` ServiceAccount exists (pods are rejected until it does). Teardown kills every
component's process group, and is registered with atexit in case the caller forgets.
"""

from __future__ import annotations

import atexit
import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.cluster import components, kwok
from tests.cluster.client import ClusterClient
from tests.cluster.kubeconfig import write_admin_kubeconfig
from tests.cluster.pki import create_pki
from tests.cluster.processes import Component, free_loopback_ports
from tests.cluster.readiness import answers_ok, client_cert_context, self_signed_context, wait_until
from tests.cluster.workdir import new_work_dir

STARTUP_TIMEOUT = float(os.environ.get("KUBETUNE_CLUSTER_TIMEOUT", "120"))


class ControlPlane:
    """One control plane in `work_dir` (a fresh temp dir, removed on stop, by default)."""

    def __init__(
        self,
        bin_dir: Path,
        work_dir: Path | None = None,
        fake_gpu_node: bool = True,
        controller_flags: Sequence[str] = (),
    ) -> None:
        self.bin_dir = bin_dir
        self.controller_flags = controller_flags  # added to kube-controller-manager's
        self.fake_gpu_node = fake_gpu_node  # False where a real node joins (tests/cluster/node)
        self._owns_work_dir = work_dir is None
        self.work_dir = work_dir or new_work_dir()
        self.log_dir = self.work_dir / "logs"
        self.kubeconfig = self.work_dir / "admin.kubeconfig"
        self.components: dict[str, Component] = {}
        self.layout: components.Layout | None = None  # set once the PKI exists
        self.ports = components.Ports(*free_loopback_ports(6))

    def start(self) -> ClusterClient:
        """Brings every component up and waits until the cluster can run a Job."""
        atexit.register(self.stop)
        try:
            self._start_all()
        except BaseException:
            self.stop()
            raise
        return ClusterClient(self.kubeconfig, self.bin_dir)

    def _start_all(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        pki = create_pki(self.work_dir / "pki")
        self.layout = layout = components.Layout(self.bin_dir, self.work_dir, pki, self.kubeconfig)
        write_admin_kubeconfig(self.kubeconfig, self.server_url, pki)
        etcd = self._launch("etcd", components.etcd_argv(layout, self.ports))
        self._wait(lambda: answers_ok(f"http://127.0.0.1:{self.ports.etcd_client}/health"), etcd)
        apiserver = self._launch("kube-apiserver", components.apiserver_argv(layout, self.ports))
        tls = client_cert_context(pki.ca_cert, pki.admin_cert, pki.admin_key)
        self._wait(lambda: answers_ok(f"{self.server_url}/readyz", tls), apiserver)
        self._start_cluster_agents(layout)

    def _start_cluster_agents(self, layout: components.Layout) -> None:
        """kcm, scheduler and kwok start together; each only needs a ready API server."""
        kcm_argv = components.controller_manager_argv(layout, self.ports, self.controller_flags)
        kcm = self._launch("kube-controller-manager", kcm_argv)
        scheduler = self._launch("kube-scheduler", components.scheduler_argv(layout, self.ports))
        api = ClusterClient(self.kubeconfig, self.bin_dir).api_client()
        core, crds = client.CoreV1Api(api), client.ApiextensionsV1Api(api)
        if self.fake_gpu_node:
            # Before kwok starts, so its watch of Logs objects finds the resource at once.
            # The client serialises plain manifest dicts as readily as its models.
            crds.create_custom_resource_definition(kwok.logs_crd())  # type: ignore[arg-type]
            kwok_argv = kwok.kwok_argv(layout, self.ports.kwok_server)
            kwok_process = self._launch("kwok", kwok_argv)
            core.create_node(kwok.fake_gpu_node())  # type: ignore[arg-type]
        self._wait_healthz(self.ports.controller_manager, kcm)
        self._wait_healthz(self.ports.scheduler, scheduler)
        if self.fake_gpu_node:
            self._wait(lambda: _node_ready(core, kwok.FAKE_NODE_NAME), kwok_process)
            logs_crd = kwok.logs_crd()["metadata"]["name"]
            self._wait(lambda: crd_established(crds, logs_crd), kwok_process)
        self._wait(lambda: _default_service_account_exists(core, "default"), kcm)

    def _wait_healthz(self, port: int, component: Component) -> None:
        """kcm and the scheduler serve /healthz to anyone, over a self-signed cert."""
        insecure = self_signed_context()
        self._wait(lambda: answers_ok(f"https://127.0.0.1:{port}/healthz", insecure), component)

    @property
    def server_url(self) -> str:
        return f"https://127.0.0.1:{self.ports.apiserver}"

    def _launch(self, name: str, argv: list[str | Path]) -> Component:
        self.components[name] = Component(name, argv, self.log_dir)
        return self.components[name]

    def _wait(self, condition: Callable[[], bool], blamed: Component) -> None:
        description = f"waiting for {blamed.name} to become ready"
        wait_until(condition, description, STARTUP_TIMEOUT, self.components.values(), blamed)

    def stop(self) -> None:
        """Stops components in reverse start order; idempotent."""
        atexit.unregister(self.stop)
        for component in reversed(list(self.components.values())):
            component.stop()
        self.components.clear()
        if self._owns_work_dir and os.environ.get("KUBETUNE_KEEP_CLUSTER_DIR") != "1":
            shutil.rmtree(self.work_dir, ignore_errors=True)

    def __enter__(self) -> ClusterClient:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _node_ready(core: client.CoreV1Api, name: str) -> bool:
    try:
        node = core.read_node(name)
    except ApiException:
        return False
    conditions = (node.status and node.status.conditions) or []
    return any(c.type == "Ready" and c.status == "True" for c in conditions)


def _default_service_account_exists(core: client.CoreV1Api, namespace: str) -> bool:
    try:
        core.read_namespaced_service_account("default", namespace)
    except ApiException:
        return False
    return True


def crd_established(crds: client.ApiextensionsV1Api, name: str) -> bool:
    status = crds.read_custom_resource_definition(name).status  # None just after creation
    conditions = (status and status.conditions) or []
    return any(c.type == "Established" and c.status == "True" for c in conditions)
