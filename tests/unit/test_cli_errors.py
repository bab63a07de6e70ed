"""User mistakes end with exit status 2 and one message naming the field, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kubetune.cli import main
from tests.unit.local_helpers import experiment_file


def run_and_read_error(path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["run", str(path), "--dir", str(path.parent / "r")]) == 2
    error = capsys.readouterr().err
    assert "Traceback" not in error
    return error


def rewrite(path: Path, change: dict[str, object]) -> Path:
    document = yaml.safe_load(path.read_text())
    document["spec"].update(change)
    path.write_text(yaml.safe_dump(document))
    return path


def test_invalid_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("spec:\n  objective: {metric: acc\n")
    assert "invalid YAML" in run_and_read_error(path, capsys)


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "No such file" in run_and_read_error(tmp_path / "absent.yaml", capsys)


def test_invalid_field_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad_range = [{"name": "x", "type": "float", "min": 1.0, "max": 0.5}]
    path = rewrite(experiment_file(tmp_path), {"parameters": bad_range})
    assert "spec.parameters[0].max" in run_and_read_error(path, capsys)


def test_unknown_field_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = rewrite(experiment_file(tmp_path), {"limits": {"maxTrails": 3}})
    assert "spec.limits.maxTrails" in run_and_read_error(path, capsys)


def test_unknown_placeholder_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = experiment_file(tmp_path, args=["--lr=${lr}"])
    error = run_and_read_error(path, capsys)
    assert "containers[0] (trainer).command[3]" in error and "${lr}" in error


def test_missing_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = experiment_file(tmp_path)
    document = yaml.safe_load(path.read_text())
    document["metadata"] = {}
    path.write_text(yaml.safe_dump(document))
    assert "metadata.name: Required value" in run_and_read_error(path, capsys)


def test_changed_spec_under_the_same_name_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = experiment_file(tmp_path, limits={"maxTrials": 1})
    assert main(["run", str(path), "--dir", str(tmp_path / "r")]) == 0
    rewrite(path, {"objective": {"metric": "score", "goal": "minimize"}})
    error = run_and_read_error(path, capsys)
    assert "with other spec.objective.goal" in error and "only spec.limits.parallelTrials" in error


def test_the_budget_may_change_between_runs_as_on_a_cluster(tmp_path: Path) -> None:
    path = experiment_file(tmp_path, limits={"maxTrials": 1})
    assert main(["run", str(path), "--dir", str(tmp_path / "r")]) == 0
    rewrite(path, {"limits": {"maxTrials": 3, "parallelTrials": 1}})
    assert main(["run", str(path), "--dir", str(tmp_path / "r")]) == 0
    assert len(list((tmp_path / "r" / "tiny" / "trials").glob("*.json"))) == 3


def test_unknown_experiment(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "nope", "--dir", str(tmp_path)]) == 2
    assert "no experiment 'nope'" in capsys.readouterr().err


def rewrite_text(path: Path, old: str, new: str) -> Path:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new))
    return path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("maxTrials: 4", "maxTrials: '4'", 'spec.limits.maxTrials: Invalid value: "string"'),
        ("min: 0.0", "min: '0.01'", 'spec.parameters[0].min: Invalid value: "string"'),
        ("maxTrials: 4", "max_trials: 4", "spec.limits.max_trials: Forbidden: unknown field"),
        ("metric: score", "metric: val score", "spec.objective.metric: must be a metric name"),
    ],
)
def test_what_the_api_server_refuses_kubetune_run_refuses_alike(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, message: str
) -> None:
    path = rewrite_text(experiment_file(tmp_path), old, new)
    assert message in run_and_read_error(path, capsys)


def test_a_command_as_one_string_is_refused_before_it_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = experiment_file(tmp_path)
    document = yaml.safe_load(path.read_text())
    container = document["spec"]["trial"]["template"]["spec"]["containers"][0]
    container["command"] = " ".join(container["command"])
    path.write_text(yaml.safe_dump(document))
    error = run_and_read_error(path, capsys)
    assert "spec.trial.template.spec.containers[0].command: Invalid value" in error
    assert not (tmp_path / "r").exists() or not any((tmp_path / "r").rglob("*.json"))
