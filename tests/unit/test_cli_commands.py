"""The reading and checking commands of `kubetune` on a finished local run: list, status,
trials, best and logs in every output format, validate, run --dry-run, --version."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubetune.cli import main
from tests.unit.local_helpers import experiment_file, run, stored_trials

OBJECTIVE = {"metric": "score", "goal": "maximize", "additionalMetrics": ["gpus"]}


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One run shared by the tests that only read it: four trials, one of which crashes."""
    tmp_path = tmp_path_factory.mktemp("run")
    path = experiment_file(tmp_path, objective=OBJECTIVE, args=["--steps=2"])
    run(path, tmp_path / "results")
    crashing = experiment_file(
        tmp_path, name="crashy", env=[{"name": "MODE", "value": "crash"}], objective=OBJECTIVE
    )
    run(crashing, tmp_path / "results")
    return tmp_path / "results"


def output_of(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    capsys.readouterr()
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def test_list_names_every_experiment_with_its_phase(
    finished_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = output_of(capsys, "list", "--dir", str(finished_run)).splitlines()
    assert rows[0].split() == ["NAME", "PHASE", "TRIALS", "BEST"]
    assert [row.split()[:2] for row in rows[1:]] == [["crashy", "Failed"], ["tiny", "Succeeded"]]
    listed = json.loads(output_of(capsys, "list", "--dir", str(finished_run), "-o", "json"))
    assert {item["name"]: item["succeeded"] for item in listed} == {"crashy": 0, "tiny": 4}


def test_trials_show_the_additional_metrics_as_columns_in_every_format(
    finished_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stored = {t["metadata"]["name"]: t for t in stored_trials(finished_run)}
    table = output_of(capsys, "trials", "tiny", "--dir", str(finished_run)).splitlines()
    assert table[0].split() == ["TRIAL", "PHASE", "score", "gpus", "STEP", "ELAPSED", "PARAMETERS"]
    assert [row.split()[0] for row in table[1:]] == sorted(stored)
    assert all(row.split()[3] == "0" and row.split()[4] == "2" for row in table[1:])

    rows = list(csv.DictReader(io.StringIO(output_of(capsys, "trials", "tiny", "--dir",
                                                     str(finished_run), "-o", "csv"))))  # fmt: skip
    for row in rows:
        metrics = stored[row["trial"]]["status"]["metrics"]
        assert float(row["score"]) == metrics["score"] and float(row["gpus"]) == 0
        assert float(row["x"]) == stored[row["trial"]]["spec"]["parameters"]["x"]

    documents = yaml.safe_load(output_of(capsys, "trials", "tiny", "--dir", str(finished_run),
                                         "-o", "yaml"))  # fmt: skip
    assert documents == list(stored.values())  # the stored TuningTrials, as kubectl shows them


def test_a_failed_trial_shows_its_whole_stderr(
    finished_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shown = output_of(capsys, "trials", "crashy", "--dir", str(finished_run))
    assert re.search(r"last stderr lines:\n +RuntimeError: CUDA out of memory \(pretend\)", shown)
    rows = json.loads(
        output_of(capsys, "trials", "crashy", "--dir", str(finished_run), "-o", "json")
    )
    assert "CUDA out of memory" in rows[0]["status"]["message"]


def test_status_and_best_in_each_format(
    finished_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    best = max(stored_trials(finished_run), key=lambda t: t["status"]["metrics"]["score"])
    name = best["metadata"]["name"]
    status = json.loads(
        output_of(capsys, "status", "tiny", "--dir", str(finished_run), "-o", "json")
    )
    assert status["kind"] == "TuningExperiment" and status["status"]["best"]["trial"] == name
    row = next(csv.DictReader(io.StringIO(output_of(capsys, "status", "tiny", "--dir",
                                                    str(finished_run), "-o", "csv"))))  # fmt: skip
    assert (row["phase"], row["succeeded"], row["bestTrial"]) == ("Succeeded", "4", name)

    shown = output_of(capsys, "best", "tiny", "--dir", str(finished_run)).splitlines()
    assert shown[0].startswith(f"{name} score=") and shown[0].endswith(" gpus=0")
    chosen = yaml.safe_load(
        output_of(capsys, "best", "tiny", "--dir", str(finished_run), "-o", "yaml")
    )
    assert chosen["parameters"] == best["spec"]["parameters"]
    assert chosen["metrics"]["gpus"] == 0


def test_logs_print_what_the_trainer_wrote(
    finished_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = stored_trials(finished_run)[0]
    log = output_of(capsys, "logs", first["metadata"]["name"], "--dir", str(finished_run))
    x = first["spec"]["parameters"]["x"]
    assert log.splitlines()[0] == f"kubetune metric score={x!r} step=1"
    capsys.readouterr()
    assert main(["logs", "tiny-9999", "--dir", str(finished_run)]) == 2
    assert "no log of a trial 'tiny-9999'" in capsys.readouterr().err


def test_validate_accepts_a_good_file_and_names_the_field_of_a_bad_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = experiment_file(tmp_path)
    shown = output_of(capsys, "validate", str(good))
    assert (
        "valid TuningExperiment tiny (1 parameter, random search, 4 trials, 2 at a time)" in shown
    )
    bad = experiment_file(tmp_path, name="bad", limits={"maxTrials": 0})
    assert main(["validate", str(bad)]) == 2
    assert "maxTrials" in capsys.readouterr().err


def test_a_dry_run_prints_the_first_commands_and_runs_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = experiment_file(tmp_path)
    shown = output_of(capsys, "run", "--dry-run", str(path), "--dir", str(tmp_path / "results"))
    assert not (tmp_path / "results").exists()
    lines = shown.splitlines()
    assert [line.split(":")[0] for line in lines[::2]] == ["# tiny-0000", "# tiny-0001"]
    run(path, tmp_path / "results")  # the real run starts with exactly those commands
    for trial, command in zip(stored_trials(tmp_path / "results"), lines[1::2], strict=False):
        assert command.endswith(f"trainer.py --x={trial['spec']['parameters']['x']!r}")


def test_a_cluster_dry_run_prints_the_jobs_offline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = experiment_file(tmp_path, trial={"gpus": 1, "template": {"spec": {"containers": [
        {"name": "trainer", "image": "trainer:1", "args": ["--x=${x}"]}]}}})  # fmt: skip
    shown = output_of(capsys, "run", "--dry-run", "--cluster", "-n", "team", str(path))
    jobs: list[dict[str, Any]] = list(yaml.safe_load_all(shown))
    assert [job["metadata"]["name"] for job in jobs] == ["tiny-0000", "tiny-0001"]
    assert {job["metadata"]["namespace"] for job in jobs} == {"team"}
    trainer = jobs[0]["spec"]["template"]["spec"]["containers"][0]
    assert trainer["args"][0].startswith("--x=0.")
    assert trainer["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert shown.startswith("# Each Job as the operator creates it, less the metrics reporter")


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as leaving:
        main(["--version"])
    assert leaving.value.code == 0
    assert re.fullmatch(r"kubetune \d+\.\d+\.\d+\n", capsys.readouterr().out)
