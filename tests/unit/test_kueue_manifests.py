"""The rewriting of Kueue's manifests for a manager outside the cluster (tests/cluster/kueue):
webhooks and conversion reached by URL with our CA, only for the integrations served."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.cluster.binaries import MissingBinariesError, find_kueue_dir
from tests.cluster.kueue import crds, manager_config, webhook_configurations
from tests.cluster.webhook_manager import ManagerPorts

BASE_URL, CA = "https://127.0.0.1:4443", "Q0E="


def _webhook(name: str, group: str, path: str) -> dict[str, object]:
    service = {"name": "webhook-service", "namespace": "system", "path": path}
    rule = {"apiGroups": [group], "apiVersions": ["v1"], "operations": ["CREATE"],
            "resources": ["things"]}  # fmt: skip
    return {"name": name, "clientConfig": {"service": service}, "rules": [rule],
            "admissionReviewVersions": ["v1"], "sideEffects": "None"}  # fmt: skip


def _write_webhooks(path: Path) -> Path:
    webhooks = [
        _webhook("mjob.kb.io", "batch", "/mutate-batch-v1-job"),
        _webhook("mpod.kb.io", "", "/mutate--v1-pod"),
        _webhook("mworkload.kb.io", "kueue.x-k8s.io", "/mutate-workload"),
    ]
    configuration = {"apiVersion": "admissionregistration.k8s.io/v1",
                     "kind": "MutatingWebhookConfiguration",
                     "metadata": {"name": "mutating-webhook-configuration"},
                     "webhooks": webhooks}  # fmt: skip
    path.write_text(yaml.safe_dump_all([configuration]))
    return path


def test_webhooks_call_the_manager_by_url_for_served_groups_only(tmp_path: Path) -> None:
    [configuration] = webhook_configurations(_write_webhooks(tmp_path / "m.yaml"), BASE_URL, CA)
    assert configuration["metadata"] == {"name": "kueue-mutating-webhook-configuration"}
    assert [hook["name"] for hook in configuration["webhooks"]] == ["mjob.kb.io", "mworkload.kb.io"]
    job_hook = configuration["webhooks"][0]
    assert job_hook["clientConfig"] == {"url": f"{BASE_URL}/mutate-batch-v1-job", "caBundle": CA}
    assert job_hook["rules"][0]["apiGroups"] == ["batch"]


def _crd(name: str) -> dict[str, object]:
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": name}, "spec": {"group": "kueue.x-k8s.io"}}  # fmt: skip


def _write_crd_dir(crd_dir: Path) -> Path:
    (crd_dir / "bases").mkdir(parents=True)
    (crd_dir / "patches").mkdir()
    for name in ("workloads", "resourceflavors"):
        (crd_dir / f"bases/{name}.yaml").write_text(yaml.safe_dump(_crd(f"{name}.kueue.x-k8s.io")))
    service = {"namespace": "system", "name": "webhook-service", "path": "/convert"}
    webhook = {"clientConfig": {"service": service}, "conversionReviewVersions": ["v1"]}
    patch = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
             "metadata": {"name": "workloads.kueue.x-k8s.io"},
             "spec": {"conversion": {"strategy": "Webhook", "webhook": webhook}}}  # fmt: skip
    (crd_dir / "patches/webhook_in_workloads.yaml").write_text(yaml.safe_dump(patch))
    # As in Kueue's own file: a patch commented out does not apply.
    (crd_dir / "kustomization.yaml").write_text(
        "resources:\n- bases/workloads.yaml\n- bases/resourceflavors.yaml\n"
        "patches:\n- path: patches/webhook_in_workloads.yaml\n"
        "#- path: patches/webhook_in_resourceflavors.yaml\n"
    )
    return crd_dir


def test_crds_convert_by_url_where_kueue_patches_them(tmp_path: Path) -> None:
    workloads, flavors = crds(_write_crd_dir(tmp_path / "crd"), BASE_URL, CA)
    conversion = workloads["spec"]["conversion"]
    assert conversion["strategy"] == "Webhook"
    assert conversion["webhook"] == {
        "clientConfig": {"url": f"{BASE_URL}/convert", "caBundle": CA},
        "conversionReviewVersions": ["v1"],
    }
    assert flavors == _crd("resourceflavors.kueue.x-k8s.io")


def test_manager_config_serves_on_loopback_with_our_cert(tmp_path: Path) -> None:
    config = manager_config(ManagerPorts(webhook=1, metrics=2, health=3), tmp_path)
    assert config["webhook"] == {"host": "127.0.0.1", "port": 1, "certDir": str(tmp_path)}
    assert config["metrics"]["bindAddress"] == "127.0.0.1:2"
    assert config["health"]["healthProbeBindAddress"] == "127.0.0.1:3"
    assert config["internalCertManagement"] == {"enable": False}
    assert config["leaderElection"] == {"leaderElect": False}
    assert "batch/job" in config["integrations"]["frameworks"]


def test_built_manifests_leave_no_service_reference() -> None:
    """On the real files, once hack/build-kueue.sh has copied them."""
    try:
        kueue_dir = find_kueue_dir()
    except MissingBinariesError as missing:
        pytest.skip(str(missing))
    configurations = webhook_configurations(kueue_dir / "webhook/manifests.yaml", BASE_URL, CA)
    hooks = [hook for configuration in configurations for hook in configuration["webhooks"]]
    assert {hook["name"] for hook in hooks} >= {"mjob.kb.io", "vjob.kb.io", "vworkload.kb.io"}
    assert not [hook["name"] for hook in hooks if "pod" in hook["name"]]
    converted = [
        crd for crd in crds(kueue_dir / "crd", BASE_URL, CA) if "conversion" in crd["spec"]
    ]
    urls = {crd["spec"]["conversion"]["webhook"]["clientConfig"]["url"] for crd in converted}
    assert converted and urls == {f"{BASE_URL}/convert"}
