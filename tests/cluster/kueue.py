"""Kueue (kueue.x-k8s.io), run out of cluster beside a running control plane, the way
Kueue's own envtest suites run it (the common route: tests/cluster/webhook_manager.py).

hack/build-kueue.sh builds the manager and copies its CRDs and webhook manifests from the
same module into KUEUE_DIR. `KueueManager` installs the CRDs, those that Kueue's
kustomization patches to convert through its webhook getting that conversion webhook by
URL, and starts the manager with a config file of its own: internal cert management and
leader election off, webhook, metrics and health servers on free loopback ports, and only
the batch/job integration (JobSet's too where a test asks for it, with JobSet installed).

Webhooks for other integrations (pods, Deployments, Ray...) are left out: their handlers
are not served, and as they fail closed they would block every Pod the cluster creates.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.cluster.client import ClusterClient
from tests.cluster.webhook_manager import (
    LOOPBACK,
    ManagerPorts,
    Manifest,
    WebhookManager,
    client_config,
    configurations_by_url,
    documents,
)

KUEUE_GROUP, KUEUE_VERSION = "kueue.x-k8s.io", "v1beta2"
FRAMEWORKS = ("batch/job",)
# Kueue's name for its JobSet integration; it needs JobSet's CRD installed first.
JOBSET_FRAMEWORK = "jobset.x-k8s.io/jobset"
# The kustomize build prefixes every name with "kueue-"; the raw manifests lack it.
NAME_PREFIX = "kueue-"
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


def served_groups(frameworks: tuple[str, ...]) -> frozenset[str]:
    """The API groups whose webhooks a manager serves: its own, and its integrations'."""
    return frozenset({KUEUE_GROUP, *(name.split("/")[0] for name in frameworks)})


def webhook_configurations(
    manifests: Path, base_url: str, ca_bundle: str, frameworks: tuple[str, ...] = FRAMEWORKS
) -> list[Manifest]:
    """Kueue's webhook configurations, calling `base_url`, for the groups served here."""
    groups = served_groups(frameworks)

    def served(webhook: Manifest) -> bool:
        return {group for rule in webhook["rules"] for group in rule["apiGroups"]} <= groups

    return configurations_by_url(documents(manifests), base_url, ca_bundle, NAME_PREFIX, served)


def _conversions(crd_dir: Path, kustomization: Manifest) -> dict[str, Manifest]:
    """CRD name -> the `spec.conversion` that Kueue's kustomization patches into it."""
    patches = [documents(crd_dir / patch["path"])[0] for patch in kustomization["patches"]]
    return {patch["metadata"]["name"]: patch["spec"]["conversion"]
            for patch in patches if "conversion" in patch.get("spec", {})}  # fmt: skip


def _with_conversion(
    crd: Manifest, conversion: Manifest, base_url: str, ca_bundle: str
) -> Manifest:
    webhook = conversion["webhook"]
    by_url = client_config(webhook["clientConfig"]["service"], base_url, ca_bundle)
    spec = {
        **crd["spec"],
        "conversion": {**conversion, "webhook": {**webhook, "clientConfig": by_url}},
    }
    return {**crd, "spec": spec}


def crds(crd_dir: Path, base_url: str, ca_bundle: str) -> list[Manifest]:
    """The CRDs Kueue's kustomization lists, converting through `base_url` where it says so."""
    kustomization = documents(crd_dir / "kustomization.yaml")[0]
    conversions = _conversions(crd_dir, kustomization)
    bases = [documents(crd_dir / resource)[0] for resource in kustomization["resources"]]
    return [_with_conversion(crd, conversions[name], base_url, ca_bundle)
            if (name := crd["metadata"]["name"]) in conversions else crd
            for crd in bases]  # fmt: skip


def manager_config(
    ports: ManagerPorts, cert_dir: Path, frameworks: tuple[str, ...] = FRAMEWORKS
) -> Manifest:
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
        "integrations": {"frameworks": list(frameworks)},
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


class KueueManager(WebhookManager):
    """One Kueue manager for `cluster`, its files under `work_dir`."""

    name = "kueue"

    def __init__(
        self,
        cluster: ClusterClient,
        kueue_dir: Path,
        work_dir: Path,
        frameworks: tuple[str, ...] = FRAMEWORKS,
    ) -> None:
        """`frameworks`: the integrations Kueue runs (Jobs only, by default)."""
        super().__init__(cluster, work_dir)
        self.kueue_dir, self.frameworks = kueue_dir, frameworks

    def crds(self, ca_bundle: str) -> list[Manifest]:
        return crds(self.kueue_dir / "crd", self.base_url, ca_bundle)

    def webhook_configurations(self, ca_bundle: str) -> list[Manifest]:
        manifests = self.kueue_dir / "webhook" / "manifests.yaml"
        return webhook_configurations(manifests, self.base_url, ca_bundle, self.frameworks)

    def argv(self, cert_dir: Path) -> list[str | Path]:
        config = self.work_dir / "kueue-config.yaml"
        config.write_text(yaml.safe_dump(manager_config(self.ports, cert_dir, self.frameworks)))
        binary = self.kueue_dir / "bin" / "kueue"
        manager: list[str | Path] = [
            binary,
            f"--config={config}",
            f"--kubeconfig={self.cluster.kubeconfig}",
        ]
        return [*private_etc_argv(self.work_dir / "etc", cert_dir), *manager]

    def webhooks_called(self) -> bool:
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
