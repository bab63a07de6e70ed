"""The Helm chart rendered by the pinned helm binary, shared by the chart's unit tests
(rendering needs no cluster) and its integration tests (installing it does).

helm comes from the same cache as the control-plane binaries (hack/versions.sh), else
from PATH (the unit workflow installs it that way). Without it the chart tests skip
with the command that builds it, except under KUBETUNE_REQUIRE_CLUSTER=1 (CI), where
they fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cluster.binaries import BUILD_HINT, REPO_ROOT, pinned_versions

CHART = REPO_ROOT / "charts" / "kubetune"
Document = dict[str, Any]
# The values sets the chart promises to render; each is a list of `helm --set` arguments.
VALUE_SETS: dict[str, list[str]] = {
    "defaults": [],
    "namespaced": ["watchNamespaces={team-a,team-b}"],
    "ha": ["ha.enabled=true"],
    "ha-namespaced": ["ha.enabled=true", "watchNamespaces={team-a,team-b}"],
    "service-monitor": ["metrics.serviceMonitor.enabled=true"],
    "dashboard": ["dashboard.enabled=true"],
    "own-service-account": [
        "serviceAccount.create=false",
        "serviceAccount.name=ops",
        "imagePullSecrets[0].name=regcred",
    ],
}


def helm_binary() -> Path:
    helm = pinned_versions().bin_dir / "helm"
    if os.access(helm, os.X_OK):
        return helm
    on_path = shutil.which("helm")
    if on_path is None:
        message = f"missing helm in {helm.parent} and on PATH: {BUILD_HINT}"
        if os.environ.get("KUBETUNE_REQUIRE_CLUSTER") == "1":
            pytest.fail(f"KUBETUNE_REQUIRE_CLUSTER=1 but {message}", pytrace=False)
        pytest.skip(message)
    return Path(on_path)


def helm(*args: str, kubeconfig: Path | None = None) -> str:
    """Run helm; fail the test with its stderr when it fails."""
    env = {**os.environ, "HELM_CACHE_HOME": "/tmp/kubetune-helm-cache"}
    if kubeconfig is not None:
        env["KUBECONFIG"] = str(kubeconfig)
    result = subprocess.run(
        [str(helm_binary()), *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 0, f"helm {' '.join(args)}:\n{result.stderr}"
    return result.stdout


def set_flags(values: list[str]) -> list[str]:
    return [flag for value in values for flag in ("--set", value)]


def render(
    values: list[str],
    release: str = "kubetune",
    namespace: str = "kubetune",
    values_file: Path | None = None,
) -> str:
    files = ["--values", str(values_file)] if values_file else []
    flags = [*files, *set_flags(values)]
    return helm("template", release, str(CHART), "--namespace", namespace, *flags)


def objects(manifest: str) -> list[Document]:
    return [document for document in yaml.safe_load_all(manifest) if document]


def find(documents: list[Document], kind: str) -> list[Document]:
    return [document for document in documents if document["kind"] == kind]
