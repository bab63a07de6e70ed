"""Every convertible Katib example, converted by `kubetune convert katib`, runs to the end
in local mode with its stand-in trainer: the rewritten placeholders reach the trainer,
and it reports the converted objective. The trainers print Katib's own `loss=...` lines,
which the converted experiment reads, and a trial records the value Katib would."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kubetune.cli import main
from tests.katib_fixtures import CONVERTIBLE, REPO_ROOT, KatibExample, example_id

(RANDOM,) = [example for example in CONVERTIBLE if example.path.stem == "random"]


def run_converted(example: KatibExample, tmp_path: Path) -> Path:
    """Converts and runs `example` in local mode; the experiment's results folder."""
    converted, results = tmp_path / "experiment.yaml", tmp_path / "results"
    assert main(["convert", "katib", str(example.path), "-o", str(converted)]) == 0
    assert main(["run", str(converted), "--dir", str(results)]) == 0
    return results / example.document["metadata"]["name"]


def trials(results: Path) -> list[dict[str, Any]]:
    return [json.loads(path.read_text()) for path in sorted(results.glob("trials/*.json"))]


@pytest.mark.parametrize("example", CONVERTIBLE, ids=example_id)
def test_a_converted_example_runs_to_success_in_local_mode(
    example: KatibExample, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO_ROOT)  # the trainers' commands are relative to the repository
    results = run_converted(example, tmp_path)
    status = json.loads((results / "status.json").read_text())["status"]
    assert status["phase"] == "Succeeded"
    assert status["trials"]["created"] == example.document["spec"]["maxTrialCount"]
    metric = example.document["spec"]["objective"]["objectiveMetricName"]
    for trial in trials(results):
        assert metric in trial["status"]["metrics"], f"{trial['metadata']}: no objective"


def test_katib_style_lines_are_read_and_a_trial_records_its_best_loss(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """random.yaml minimizes loss and names no strategy: Katib scores a trial by its
    lowest loss. The trainer's loss rises in its last epoch, so the latest would differ."""
    monkeypatch.chdir(REPO_ROOT)
    results = run_converted(RANDOM, tmp_path)
    recorded = {}
    for trial in trials(results):
        name = trial["metadata"]["name"]
        log = (results / "logs" / f"{name}.log").read_text()
        assert "loss=" in log and "kubetune metric" not in log  # Katib's lines only
        losses = [point["values"]["loss"] for point in trial["status"]["curve"]]
        assert len(losses) == 4  # one step per printed epoch
        assert trial["status"]["metrics"]["loss"] == min(losses) < losses[-1]
        recorded[name] = min(losses)
    best = json.loads((results / "status.json").read_text())["status"]["best"]
    assert best["value"] == min(recorded.values()) == recorded[best["trial"]]
