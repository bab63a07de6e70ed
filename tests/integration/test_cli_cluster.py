"""`kubetune status|trials|best --cluster` read experiments from a real API server.

The objects are written the way the operator writes them (a TuningExperiment with a
status, TuningTrials labelled with the experiment's name), so the commands are checked
against what the server really stores and returns, without running the operator.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from kubetune.cli import main
from tests.cluster import ClusterClient
from tests.integration.operator_harness import REPO_ROOT, install_crds

pytestmark = pytest.mark.integration

EXPERIMENT = "digits-svc"


def _apply_status(
    cluster: ClusterClient, namespace: str, kind: str, name: str, status: dict[str, object]
) -> None:
    patch = json.dumps({"status": status})
    cluster.kubectl(
        "-n", namespace, "patch", kind, name, "--subresource=status", "--type=merge", "-p", patch
    )


def _create_trial(cluster: ClusterClient, namespace: str, index: int, accuracy: float) -> str:
    name = f"{EXPERIMENT}-{index:04d}"
    trial = {
        "apiVersion": "kubetune.dev/v1alpha1",
        "kind": "TuningTrial",
        "metadata": {"name": name, "labels": {"kubetune.dev/experiment": EXPERIMENT}},
        "spec": {"experiment": EXPERIMENT, "index": index, "parameters": {"C": 1.5 + index}},
    }
    cluster.kubectl("-n", namespace, "create", "-f", "-", stdin=json.dumps(trial))
    status = {"phase": "Succeeded", "metrics": {"val_accuracy": accuracy}}
    _apply_status(cluster, namespace, "tuningtrial", name, status)
    return name


@pytest.fixture
def stored_experiment(
    cluster: ClusterClient, namespace: str, monkeypatch: pytest.MonkeyPatch
) -> str:
    install_crds(cluster)
    document = yaml.safe_load((REPO_ROOT / "examples" / "quickstart.yaml").read_text())
    cluster.kubectl("-n", namespace, "create", "-f", "-", stdin=json.dumps(document))
    _create_trial(cluster, namespace, 1, 0.91)
    best = _create_trial(cluster, namespace, 0, 0.97)
    status = {
        "phase": "Succeeded",
        "trials": {"created": 2, "succeeded": 2},
        "best": {"trial": best, "value": 0.97, "parameters": {"C": 1.5}},
    }
    _apply_status(cluster, namespace, "tuningexperiment", EXPERIMENT, status)
    monkeypatch.setenv("KUBECONFIG", str(cluster.kubeconfig))
    return namespace


def test_status_trials_and_best_read_the_cluster(
    stored_experiment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    flags = ["--cluster", "-n", stored_experiment]
    assert main(["status", EXPERIMENT, *flags]) == 0
    status = capsys.readouterr().out
    assert "Succeeded" in status and "2 succeeded" in status

    assert main(["trials", EXPERIMENT, *flags]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith(EXPERIMENT)]
    assert [row.split()[0] for row in rows] == [f"{EXPERIMENT}-0000", f"{EXPERIMENT}-0001"]

    assert main(["best", EXPERIMENT, *flags]) == 0
    assert capsys.readouterr().out.startswith(f"{EXPERIMENT}-0000 val_accuracy=0.97")


def test_an_unknown_experiment_names_the_namespace_and_what_is_there(
    stored_experiment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status", "nope", "--cluster", "-n", stored_experiment]) == 2
    error = capsys.readouterr().err
    assert f"namespace {stored_experiment}" in error and EXPERIMENT in error


def test_plot_writes_pictures_of_a_cluster_experiment(
    stored_experiment: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "plots"
    assert main(["plot", EXPERIMENT, "--cluster", "-n", stored_experiment, "--out", str(out)]) == 0
    pictures = list(out.iterdir())
    assert len(pictures) >= 2
    assert all(p.suffix == ".png" and p.read_bytes().startswith(b"\x89PNG") for p in pictures)
