"""Every convertible Katib example, converted by `kubetune convert katib`, runs to the end
in local mode with its stand-in trainer: the rewritten placeholders reach the trainer,
and it reports the converted objective."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubetune.cli import main
from tests.katib_fixtures import CONVERTIBLE, REPO_ROOT, KatibExample, example_id


@pytest.mark.parametrize("example", CONVERTIBLE, ids=example_id)
def test_a_converted_example_runs_to_success_in_local_mode(
    example: KatibExample, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO_ROOT)  # the trainers' commands are relative to the repository
    converted, results = tmp_path / "experiment.yaml", tmp_path / "results"
    assert main(["convert", "katib", str(example.path), "-o", str(converted)]) == 0
    assert main(["run", str(converted), "--dir", str(results)]) == 0
    name = example.document["metadata"]["name"]
    status = json.loads((results / name / "status.json").read_text())["status"]
    assert status["phase"] == "Succeeded"
    assert status["trials"]["created"] == example.document["spec"]["maxTrialCount"]
    metric = example.document["spec"]["objective"]["objectiveMetricName"]
    for path in (results / name / "trials").glob("*.json"):
        trial = json.loads(path.read_text())
        assert metric in trial["status"]["metrics"], f"{path.name}: objective not reported"
