"""Kueue (kueue.x-k8s.io), run out of cluster beside a running control plane, the way
Kueue's own envtest suites run it.

hack/build-kueue.sh builds the manager and copies its CRDs and webhook manifests from the
same module into KUEUE_DIR. `KueueManager.start` then:

1. issues a serving cert for 127.0.0.1 from a CA of its own (tests/cluster/pki.py);
2. installs the CRDs; those that Kueue's kustomization patches to convert through its
   webhook get that conversion webhook by URL;
3. starts the manager with a config file of its own: internal cert management and leader
   election off, webhook, metrics and health servers on free loopback ports, and only the
   batch/job integration;
4. once /readyz passes, registers the Mutating/ValidatingWebhookConfigurations with each
   `clientConfig.service` rewritten to `url: https://127.0.0.1:<port><path>` and the CA as
   caBundle, then waits until the API server calls them.

Webhooks for other integrations (pods, Deployments, Ray...) are left out: their handlers
are not served, and as they fail closed they would block every Pod the cluster creates.
`stop` unregisters the webhooks before it stops the manager, so a cluster that outlives
Kueue still admits Jobs.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.cluster.client import ClusterClient, KubectlError
from tests.cluster.controlplane import crd_established
from tests.cluster.pki import create_serving_pki
from tests.cluster.processes import Component, free_loopback_ports
from tests.cluster.readiness import answers_ok, wait_until
from tests.cluster.waiting import eventually

Manifest = dict[str, Any]

KUEUE_GROUP, KUEUE_VERSION = "kueue.x-k8s.io", "v1beta2"
FRAMEWORKS = ("batch/job",)
# The API groups whose webhooks this manager serves: its own, and its integrations'.
SERVED_GROUPS = frozenset({KUEUE_GROUP, *(name.split("/")[0] for name in FRAMEWORKS)})
LOOPBACK = "127.0.0.1"
# The kustomize build prefixes every name with "kueue-"; the raw manifests lack it.
NAME_PREFIX = "kueue-"
STARTUP_TIMEOUT = float(os.environ.get("KUBETUNE_CLUSTER_TIMEOUT", "120"))
# With internal cert management off, Kueue (v0.14 to v0.17 at least) reads its metrics
# server's cert from this fixed path, and exits when it is missing: in a cluster a Secret
# is mounted there. Out of cluster the manager runs in a private mount namespace whose
# /etc is an overlay holding that directory, so the host's /etc is never written.
METRICS_CERT_DIR = "kueue/metrics/certs"  # below /etc
PRIVATE_ETC_SCRIPT = f"""
set -e
mount -t tmpfs kueue-etc "$1"
mkdir -p "$1/upper/{METRICS_CERT_DIR}" "$1/work"
cp "$2/tls.crt" "$2/tls.key" "$1/upper/{METRICS_CERT_DIR}/"
mount -t overlay kueue-etc -o "lowerdir=/etc,upperdir=$1/upper,workdir=$1/work" /etc
shift 2
exec setpriv --pdeathsig TERM -- "$@"
"""


@dataclass(frozen=True)
class KueuePorts:
    webhook: int
    metrics: int
    health: int


def _documents(path: Path) -> list[Manifest]:
    return [document for document in yaml.safe_load_all(path.read_text()) if document]


def _client_config(service: Manifest, base_url: str, ca_bundle: str) -> Manifest:
    """The URL form of a `clientConfig.service` reference: same path, on our server."""
    return {"url": base_url + service.get("path", ""), "caBundle": ca_bundle}


def _served(webhook: Manifest) -> bool:
    groups = {group for rule in webhook["rules"] for group in rule["apiGroups"]}
    return groups <= SERVED_GROUPS


def _webhook_by_url(webhook: Manifest, base_url: str, ca_bundle: str) -> Manifest:
    service = webhook["clientConfig"]["service"]
    return {**webhook, "clientConfig": _client_config(service, base_url, ca_bundle)}


def _configuration_by_url(configuration: Manifest, base_url: str, ca_bundle: str) -> Manifest:
    webhooks = [_webhook_by_url(hook, base_url, ca_bundle)
                for hook in configuration["webhooks"] if _served(hook)]  # fmt: skip
    metadata = {"name": NAME_PREFIX + configuration["metadata"]["name"]}
    return {**configuration, "metadata": metadata, "webhooks": webhooks}


def webhook_configurations(manifests: Path, base_url: str, ca_bundle: str) -> list[Manifest]:
    """Kueue's webhook configurations, calling `base_url`, for the groups served here."""
    return [_configuration_by_url(configuration, base_url, ca_bundle)
            for configuration in _documents(manifests)]  # fmt: skip


def _conversions(crd_dir: Path, kustomization: Manifest) -> dict[str, Manifest]:
    """CRD name -> the `spec.conversion` that Kueue's kustomization patches into it."""
    patches = [_documents(crd_dir / patch["path"])[0] for patch in kustomization["patches"]]
    return {patch["metadata"]["name"]: patch["spec"]["conversion"]
            for patch in patches if "conversion" in patch.get("spec", {})}  # fmt: skip


def _with_conversion(
    crd: Manifest, conversion: Manifest, base_url: str, ca_bundle: str
) -> Manifest:
    webhook = conversion["webhook"]
    by_url = _client_config(webhook["clientConfig"]["service"], base_url, ca_bundle)
    spec = {
        **crd["spec"],
        "conversion": {**conversion, "webhook": {**webhook, "clientConfig": by_url}},
    }
    return {**crd, "spec": spec}


def crds(crd_dir: Path, base_url: str, ca_bundle: str) -> list[Manifest]:
    """The CRDs Kueue's kustomization lists, converting through `base_url` where it says so."""
    kustomization = _documents(crd_dir / "kustomization.yaml")[0]
    conversions = _conversions(crd_dir, kustomization)
    bases = [_documents(crd_dir / resource)[0] for resource in kustomization["resources"]]
    return [_with_conversion(crd, conversions[name], base_url, ca_bundle)
            if (name := crd["metadata"]["name"]) in conversions else crd
            for crd in bases]  # fmt: skip


def manager_config(ports: KueuePorts, cert_dir: Path) -> Manifest:
    """Kueue's Configuration for a manager outside the cluster it manages."""
    return {
        "apiVersion": "config.kueue.x-k8s.io/v1beta2",
        "kind": "Configuration",
        "webhook": {"host": LOOPBACK, "port": ports.webhook, "certDir": str(cert_dir)},
        "metrics": {"bindAddress": f"{LOOPBACK}:{ports.metrics}"},
        "health": {"healthProbeBindAddress": f"{LOOPBACK}:{ports.health}"},
        "leaderElection": {"leaderElect": False},
        # Its own rotation writes a Secret and injects the CA for an in-cluster Service;
        # here the fixture issues the cert and registers the CA itself.
        "internalCertManagement": {"enable": False},
        "integrations": {"frameworks": list(FRAMEWORKS)},
        # The pending-workloads API server wants an APIService and a fixed port: unused here.
        "featureGates": {"VisibilityOnDemand": False},
    }


def private_etc_argv(overlay_dir: Path, cert_dir: Path) -> list[str | Path]:
    """The prefix that runs a command with /etc/kueue/metrics/certs holding `cert_dir`'s
    tls.crt and tls.key. Root needs only a mount namespace; anyone else maps to root in a
    user namespace of their own. setpriv restores the parent-death signal that the
    launcher sets, which a change of credentials clears."""
    overlay_dir.mkdir(parents=True, exist_ok=True)
    user_namespace = ["--user", "--map-root-user"] if os.geteuid() else []
    shell: list[str | Path] = ["sh", "-c", PRIVATE_ETC_SCRIPT, "kueue-etc", overlay_dir, cert_dir]
    return ["unshare", *user_namespace, "--mount", "--", *shell]


class KueueManager:
    """One Kueue manager for `cluster`, its files under `work_dir`."""

    def __init__(self, cluster: ClusterClient, kueue_dir: Path, work_dir: Path) -> None:
        self.cluster = cluster
        self.kueue_dir = kueue_dir
        self.work_dir = work_dir
        self.ports = KueuePorts(*free_loopback_ports(3))
        self.component: Component | None = None
        self._webhook_names: list[tuple[str, str]] = []

    @property
    def base_url(self) -> str:
        return f"https://{LOOPBACK}:{self.ports.webhook}"

    def start(self) -> None:
        """Installs the CRDs, starts the manager and registers its webhooks."""
        atexit.register(self.stop)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        pki = create_serving_pki(self.work_dir / "pki", "kueue-webhook")
        ca_bundle = base64.b64encode(pki.ca_cert.read_bytes()).decode()
        self._install_crds(ca_bundle)
        self.component = Component("kueue", self._argv(pki.cert.parent), self.work_dir)
        self._wait(lambda: answers_ok(f"http://{LOOPBACK}:{self.ports.health}/readyz"), "ready")
        manifests = self.kueue_dir / "webhook" / "manifests.yaml"
        configurations = webhook_configurations(manifests, self.base_url, ca_bundle)
        # Named before they exist, so that a failed apply still leaves none behind.
        self._webhook_names = [(c["kind"], c["metadata"]["name"]) for c in configurations]
        self._apply(configurations)
        eventually(self._webhooks_called, "Kueue's webhooks called by the API server", 60)

    def _install_crds(self, ca_bundle: str) -> None:
        definitions = crds(self.kueue_dir / "crd", self.base_url, ca_bundle)
        self._apply(definitions)
        api = client.ApiextensionsV1Api(self.cluster.api_client())
        for name in [crd["metadata"]["name"] for crd in definitions]:
            eventually(partial(crd_established, api, name), f"{name} established", 60)

    def _apply(self, manifests: Iterable[Manifest]) -> None:
        """Server-side apply: the workloads CRD is too big for kubectl's last-applied note,
        and a second start (other ports) must update what the first installed."""
        stream = yaml.safe_dump_all(list(manifests))
        self.cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", stdin=stream)

    def _argv(self, cert_dir: Path) -> list[str | Path]:
        config = self.work_dir / "kueue-config.yaml"
        config.write_text(yaml.safe_dump(manager_config(self.ports, cert_dir)))
        binary = self.kueue_dir / "bin" / "kueue"
        manager: list[str | Path] = [
            binary,
            f"--config={config}",
            f"--kubeconfig={self.cluster.kubeconfig}",
        ]
        return [*private_etc_argv(self.work_dir / "etc", cert_dir), *manager]

    def _wait(self, condition: Callable[[], bool], what: str) -> None:
        assert self.component is not None
        description = f"waiting for kueue to become {what}"
        wait_until(condition, description, STARTUP_TIMEOUT, [self.component], self.component)

    def _webhooks_called(self) -> bool:
        """A dry-run ResourceFlavor comes back with the finalizer Kueue's defaulter adds."""
        objects = client.CustomObjectsApi(self.cluster.api_client())
        flavor = {"apiVersion": f"{KUEUE_GROUP}/{KUEUE_VERSION}", "kind": "ResourceFlavor",
                  "metadata": {"name": "webhook-probe"}}  # fmt: skip
        try:
            created: Manifest = objects.create_cluster_custom_object(  # type: ignore[assignment]
                KUEUE_GROUP, KUEUE_VERSION, "resourceflavors", flavor, dry_run="All"
            )
        except ApiException:
            return False
        return bool(created["metadata"].get("finalizers"))

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
