"""The rewriting of JobSet's manifests for a manager outside the cluster
(tests/cluster/jobset): every webhook reached by URL with our CA, the Pod webhooks keeping
the selector that scopes them to JobSet's own pods."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.cluster.binaries import MissingBinariesError, find_jobset_dir
from tests.cluster.jobset import crds, manager_config, webhook_configurations
from tests.cluster.webhook_manager import ManagerPorts

BASE_URL, CA = "https://127.0.0.1:4443", "Q0E="
POD_SELECTOR = {"matchExpressions": [{"key": "jobset.sigs.k8s.io/jobset-name",
                                      "operator": "Exists"}]}  # fmt: skip


def _rendered() -> str:
    """What `kubectl kustomize` gives for JobSet's webhook directory, in short."""
    service = {"name": "webhook-service", "namespace": "system"}
    pod_hook = {"name": "mpod.kb.io", "objectSelector": POD_SELECTOR,
                "clientConfig": {"service": {**service, "path": "/mutate--v1-pod"}}}  # fmt: skip
    jobset_hook = {"name": "mjobset.kb.io", "clientConfig": {"service": {**service,
                   "path": "/mutate-jobset-x-k8s-io-v1alpha2-jobset"}}}  # fmt: skip
    return yaml.safe_dump_all([
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "webhook-service"}},
        {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
         "metadata": {"name": "mutating-webhook-configuration"},
         "webhooks": [jobset_hook, pod_hook]},
    ])  # fmt: skip


def test_webhooks_call_the_manager_by_url_and_keep_their_selectors() -> None:
    [configuration] = webhook_configurations(_rendered(), BASE_URL, CA)
    assert configuration["metadata"] == {"name": "jobset-mutating-webhook-configuration"}
    jobset_hook, pod_hook = configuration["webhooks"]
    assert jobset_hook["clientConfig"] == {
        "url": f"{BASE_URL}/mutate-jobset-x-k8s-io-v1alpha2-jobset", "caBundle": CA
    }  # fmt: skip
    assert pod_hook["clientConfig"]["url"] == f"{BASE_URL}/mutate--v1-pod"
    assert pod_hook["objectSelector"] == POD_SELECTOR


def test_manager_config_serves_on_loopback_with_our_cert(tmp_path: Path) -> None:
    config = manager_config(ManagerPorts(webhook=1, metrics=2, health=3), tmp_path)
    assert config["webhook"] == {"host": "127.0.0.1", "port": 1, "certDir": str(tmp_path)}
    assert config["metrics"] == {"bindAddress": "127.0.0.1:2", "certDir": str(tmp_path)}
    assert config["health"]["healthProbeBindAddress"] == "127.0.0.1:3"
    assert config["internalCertManagement"] == {"enable": False}
    assert config["leaderElection"] == {"leaderElect": False}


def test_the_built_crd_is_jobsets_without_a_conversion_webhook() -> None:
    """On the real files, once hack/build-jobset.sh has copied them."""
    try:
        jobset_dir = find_jobset_dir()
    except MissingBinariesError as missing:
        pytest.skip(str(missing))
    [crd] = crds(jobset_dir / "crd")
    assert crd["metadata"]["name"] == "jobsets.jobset.x-k8s.io"
    assert [version["name"] for version in crd["spec"]["versions"]] == ["v1alpha2"]
    assert "conversion" not in crd["spec"]
