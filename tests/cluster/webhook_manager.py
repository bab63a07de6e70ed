"""A controller manager run out of cluster beside a running control plane, its webhooks
called by the API server at a loopback URL: what Kueue (tests/cluster/kueue.py) and
JobSet (tests/cluster/jobset.py) share.

`WebhookManager.start`:

1. issues a serving cert for 127.0.0.1 from a CA of its own (tests/cluster/pki.py);
2. installs the CRDs the subclass names (which may convert through the webhook by URL);
3. starts the manager on free loopback ports (webhook, metrics, health);
4. once /readyz passes, registers the subclass's Mutating/ValidatingWebhookConfigurations,
   each `clientConfig.service` rewritten to `url: https://127.0.0.1:<port><path>` with the
   CA as caBundle, then waits until the API server calls them.

`stop` unregisters the webhooks before it stops the manager: they fail closed, and a
cluster that outlives the manager must still admit what they would have judged.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client

from tests.cluster.client import ClusterClient, KubectlError
from tests.cluster.controlplane import crd_established
from tests.cluster.pki import create_serving_pki
from tests.cluster.processes import Component, free_loopback_ports
from tests.cluster.readiness import answers_ok, wait_until
from tests.cluster.waiting import eventually

Manifest = dict[str, Any]

LOOPBACK = "127.0.0.1"
STARTUP_TIMEOUT = float(os.environ.get("KUBETUNE_CLUSTER_TIMEOUT", "120"))
WEBHOOK_CONFIGURATION_KINDS = frozenset(
    {"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"}
)


@dataclass(frozen=True)
class ManagerPorts:
    webhook: int
    metrics: int
    health: int


def documents(path: Path) -> list[Manifest]:
    """The non-empty YAML documents of a file."""
    return [document for document in yaml.safe_load_all(path.read_text()) if document]


def client_config(service: Manifest, base_url: str, ca_bundle: str) -> Manifest:
    """The URL form of a `clientConfig.service` reference: same path, on our server."""
    return {"url": base_url + service.get("path", ""), "caBundle": ca_bundle}


def _webhook_by_url(webhook: Manifest, base_url: str, ca_bundle: str) -> Manifest:
    service = webhook["clientConfig"]["service"]
    return {**webhook, "clientConfig": client_config(service, base_url, ca_bundle)}


def configurations_by_url(
    configurations: Iterable[Manifest],
    base_url: str,
    ca_bundle: str,
    name_prefix: str,
    served: Callable[[Manifest], bool] = lambda _webhook: True,
) -> list[Manifest]:
    """The webhook configurations among `configurations`, calling `base_url` for the
    webhooks `served` keeps, renamed with `name_prefix` (the raw manifests lack the prefix
    a kustomize build would add, and two managers' names would clash)."""
    return [
        {**configuration, "metadata": {"name": name_prefix + configuration["metadata"]["name"]},
         "webhooks": [_webhook_by_url(hook, base_url, ca_bundle)
                      for hook in configuration["webhooks"] if served(hook)]}
        for configuration in configurations
        if configuration.get("kind") in WEBHOOK_CONFIGURATION_KINDS
    ]  # fmt: skip


class WebhookManager(ABC):
    """One controller manager for `cluster`, its files under `work_dir`. A subclass says
    which CRDs it needs, how the manager is started, which webhooks it serves and how to
    tell that the API server calls them."""

    name = "manager"

    def __init__(self, cluster: ClusterClient, work_dir: Path) -> None:
        self.cluster = cluster
        self.work_dir = work_dir
        self.ports = ManagerPorts(*free_loopback_ports(3))
        self.component: Component | None = None
        self._webhook_names: list[tuple[str, str]] = []

    @property
    def base_url(self) -> str:
        return f"https://{LOOPBACK}:{self.ports.webhook}"

    @abstractmethod
    def crds(self, ca_bundle: str) -> list[Manifest]:
        """The CRDs to install, any conversion webhook calling `base_url`."""

    @abstractmethod
    def argv(self, cert_dir: Path) -> list[str | Path]:
        """The manager's command line, serving with the cert in `cert_dir`."""

    @abstractmethod
    def webhook_configurations(self, ca_bundle: str) -> list[Manifest]:
        """The webhook configurations to register, calling `base_url`."""

    @abstractmethod
    def webhooks_called(self) -> bool:
        """Whether the API server calls the registered webhooks yet."""

    def start(self) -> None:
        """Installs the CRDs, starts the manager and registers its webhooks."""
        atexit.register(self.stop)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        pki = create_serving_pki(self.work_dir / "pki", f"{self.name}-webhook")
        ca_bundle = base64.b64encode(pki.ca_cert.read_bytes()).decode()
        self._install_crds(self.crds(ca_bundle))
        self.component = Component(self.name, self.argv(pki.cert.parent), self.work_dir)
        self._wait(lambda: answers_ok(f"http://{LOOPBACK}:{self.ports.health}/readyz"), "ready")
        configurations = self.webhook_configurations(ca_bundle)
        # Named before they exist, so that a failed apply still leaves none behind.
        self._webhook_names = [(c["kind"], c["metadata"]["name"]) for c in configurations]
        self.apply(configurations)
        eventually(self.webhooks_called, f"{self.name}'s webhooks called by the API server", 60)

    def _install_crds(self, definitions: list[Manifest]) -> None:
        self.apply(definitions)
        api = client.ApiextensionsV1Api(self.cluster.api_client())
        for name in [crd["metadata"]["name"] for crd in definitions]:
            eventually(partial(crd_established, api, name), f"{name} established", 60)

    def apply(self, manifests: Iterable[Manifest]) -> None:
        """Server-side apply: some CRDs are too big for kubectl's last-applied note, and a
        second start (other ports) must update what the first installed."""
        stream = yaml.safe_dump_all(list(manifests))
        self.cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", stdin=stream)

    def _wait(self, condition: Callable[[], bool], what: str) -> None:
        assert self.component is not None
        description = f"waiting for {self.name} to become {what}"
        wait_until(condition, description, STARTUP_TIMEOUT, [self.component], self.component)

    def stop(self) -> None:
        """Unregisters the webhooks, then stops the manager; idempotent."""
        atexit.unregister(self.stop)
        for kind, name in self._webhook_names:
            with contextlib.suppress(KubectlError):  # already gone with its cluster
                self.cluster.kubectl("delete", kind.lower(), name, "--ignore-not-found")
        self._webhook_names = []
        if self.component is not None:
            self.component.stop()
            self.component = None
