"""`kubetune ... --cluster` against a real API server: status, trials, best, list, plot
and logs read experiments; validate, run --dry-run and run submit one.

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
from tests.cluster.kwok import FAKE_NODE_NAME, container_logs
from tests.cluster.readiness import wait_until
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


def test_list_and_the_formats_read_the_cluster(
    stored_experiment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    flags = ["--cluster", "-n", stored_experiment]
    assert main(["list", *flags]) == 0
    assert capsys.readouterr().out.splitlines()[1].split() == [EXPERIMENT, "Succeeded", "2", "0.97"]
    assert main(["trials", EXPERIMENT, *flags, "-o", "json"]) == 0
    trials = json.loads(capsys.readouterr().out)
    assert [t["status"]["metrics"]["val_accuracy"] for t in trials] == [0.97, 0.91]
    assert main(["best", EXPERIMENT, *flags, "-o", "yaml"]) == 0
    assert yaml.safe_load(capsys.readouterr().out)["trial"] == f"{EXPERIMENT}-0000"


def test_logs_read_the_trainer_container_of_the_trial_pod(
    cluster: ClusterClient,
    stored_experiment: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The pod the operator would make (labelled with its trial), its trainer's log file
    served by kwok as a kubelet serves one, read through the API server's pods/log."""
    trial, namespace = f"{EXPERIMENT}-0000", stored_experiment
    log_file = tmp_path / "trainer.log"
    log_file.write_text("2026-01-01T00:00:00.000000000Z stdout F epoch 1 loss=0.5\n")
    logs = container_logs(f"{trial}-pod", {"trainer": log_file})
    cluster.kubectl("-n", namespace, "create", "-f", "-", stdin=json.dumps(logs))
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": f"{trial}-pod", "labels": {"kubetune.dev/trial": trial}},
        "spec": {
            "nodeName": FAKE_NODE_NAME,
            "containers": [{"name": "trainer", "image": "trainer"}],
        },
    }  # fmt: skip
    cluster.kubectl("-n", namespace, "create", "-f", "-", stdin=json.dumps(pod))

    def shown() -> bool:
        capsys.readouterr()
        return main(["logs", trial, "--cluster", "-n", namespace]) == 0

    wait_until(shown, "the trainer's log served", timeout=30)
    assert capsys.readouterr().out == "epoch 1 loss=0.5\n"


def test_validate_and_run_submit_to_the_cluster(
    stored_experiment: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = yaml.safe_load((REPO_ROOT / "examples" / "quickstart.yaml").read_text())
    document["metadata"]["name"] = "second"
    path = tmp_path / "second.yaml"
    path.write_text(yaml.safe_dump(document))
    flags = ["--cluster", "-n", stored_experiment]
    assert main(["validate", str(path), *flags]) == 0  # a server-side dry run stores nothing
    assert main(["run", "--dry-run", str(path), *flags]) == 0
    jobs = list(yaml.safe_load_all(capsys.readouterr().out.split("\n", 1)[1]))
    assert all(job["kind"] == "Job" for job in jobs) and jobs
    assert main(["list", *flags]) == 0
    assert "second" not in capsys.readouterr().out

    assert main(["run", str(path), *flags]) == 0
    assert "tuningexperiment second created" in capsys.readouterr().out
    assert main(["list", *flags]) == 0
    assert [row.split()[0] for row in capsys.readouterr().out.splitlines()[1:]] == [
        EXPERIMENT,
        "second",
    ]
