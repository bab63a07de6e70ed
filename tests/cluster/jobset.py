"""JobSet (jobset.x-k8s.io), run out of cluster beside a running control plane, the way
JobSet's own envtest suites run it (the common route: tests/cluster/webhook_manager.py).

hack/build-jobset.sh builds the manager and copies its CRD and webhook kustomization from
the same module into JOBSET_DIR. `JobSetManager` installs the CRD as is (JobSet serves one
version, so it needs no conversion webhook, and a CRD that outlives the manager harms no
one), renders the webhook kustomization with `kubectl kustomize` (its patches scope the Pod
webhooks to JobSet's own pods) and starts the manager with a config file of its own:
internal cert management and leader election off, webhook, metrics and health servers on
free loopback ports, our cert for both webhook and metrics.
"""

from __future__ import annotations

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
    configurations_by_url,
    documents,
)

JOBSET_GROUP, JOBSET_VERSION = "jobset.x-k8s.io", "v1alpha2"
# The kustomize build of JobSet's release prefixes every name with "jobset-".
NAME_PREFIX = "jobset-"


def crds(crd_dir: Path) -> list[Manifest]:
    """JobSet's CRDs, as its module ships them."""
    return [documents(path)[0] for path in sorted((crd_dir / "bases").glob("*.yaml"))]


def webhook_configurations(rendered: str, base_url: str, ca_bundle: str) -> list[Manifest]:
    """JobSet's webhook configurations from its rendered kustomization, calling `base_url`."""
    manifests = [document for document in yaml.safe_load_all(rendered) if document]
    return configurations_by_url(manifests, base_url, ca_bundle, NAME_PREFIX)


def manager_config(ports: ManagerPorts, cert_dir: Path) -> Manifest:
    """JobSet's Configuration for a manager outside the cluster it manages."""
    return {
        "apiVersion": "config.jobset.x-k8s.io/v1alpha1",
        "kind": "Configuration",
        "webhook": {"host": LOOPBACK, "port": ports.webhook, "certDir": str(cert_dir)},
        "metrics": {"bindAddress": f"{LOOPBACK}:{ports.metrics}", "certDir": str(cert_dir)},
        "health": {"healthProbeBindAddress": f"{LOOPBACK}:{ports.health}"},
        "leaderElection": {"leaderElect": False},
        # Its own rotation writes a Secret and injects the CA for an in-cluster Service;
        # here the fixture issues the cert and registers the CA itself.
        "internalCertManagement": {"enable": False},
    }


def probe_jobset(name: str) -> Manifest:
    """The smallest JobSet the API server accepts: one replicated job of one pod."""
    container = {"name": "main", "image": "busybox"}
    template = {"spec": {"template": {"spec": {"containers": [container]}}}}
    return {"apiVersion": f"{JOBSET_GROUP}/{JOBSET_VERSION}", "kind": "JobSet",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"replicatedJobs": [{"name": "probe", "template": template}]}}  # fmt: skip


class JobSetManager(WebhookManager):
    """One JobSet manager for `cluster`, its files under `work_dir`."""

    name = "jobset"

    def __init__(self, cluster: ClusterClient, jobset_dir: Path, work_dir: Path) -> None:
        super().__init__(cluster, work_dir)
        self.jobset_dir = jobset_dir

    def crds(self, ca_bundle: str) -> list[Manifest]:
        return crds(self.jobset_dir / "crd")

    def webhook_configurations(self, ca_bundle: str) -> list[Manifest]:
        rendered = self.cluster.kubectl("kustomize", str(self.jobset_dir / "webhook")).stdout
        return webhook_configurations(rendered, self.base_url, ca_bundle)

    def argv(self, cert_dir: Path) -> list[str | Path]:
        config = self.work_dir / "jobset-config.yaml"
        config.write_text(yaml.safe_dump(manager_config(self.ports, cert_dir)))
        binary = self.jobset_dir / "bin" / "jobset"
        return [binary, f"--config={config}", f"--kubeconfig={self.cluster.kubeconfig}"]

    def webhooks_called(self) -> bool:
        """A dry-run JobSet comes back with the success policy JobSet's defaulter adds."""
        objects = client.CustomObjectsApi(self.cluster.api_client())
        try:
            created: Manifest = objects.create_namespaced_custom_object(  # type: ignore[assignment]
                JOBSET_GROUP, JOBSET_VERSION, "default", "jobsets",
                probe_jobset("webhook-probe"), dry_run="All",
            )  # fmt: skip
        except ApiException:
            return False
        return "successPolicy" in created["spec"]
