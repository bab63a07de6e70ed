"""The local runner end to end, with real trainer subprocesses."""

from __future__ import annotations

import itertools
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kubetune.cli import main
from tests.unit.local_helpers import experiment_file, run, stored_trials


def test_runs_every_trial_and_reports_the_best(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = tmp_path / "results"
    assert run(experiment_file(tmp_path), results) == 0
    trials = stored_trials(results)
    assert [t["spec"]["index"] for t in trials] == [0, 1, 2, 3]
    assert {t["status"]["phase"] for t in trials} == {"Succeeded"}
    for trial in trials:  # parameters arrive as args and as KUBETUNE_PARAM_X alike
        assert trial["status"]["metrics"]["score"] == trial["status"]["metrics"]["param_env"]
    best = max(trials, key=lambda t: t["status"]["metrics"]["score"])
    output = capsys.readouterr().out
    assert f"Best trial {best['metadata']['name']}" in output
    assert main(["best", "tiny", "--dir", str(results)]) == 0
    assert capsys.readouterr().out.startswith(best["metadata"]["name"])
    assert main(["status", "tiny", "--dir", str(results)]) == 0
    assert "MaxTrialsReached" in capsys.readouterr().out


def test_a_crashing_trainer_fails_with_its_exit_code_and_stderr(tmp_path: Path) -> None:
    path = experiment_file(tmp_path, env=[{"name": "MODE", "value": "crash"}])
    assert run(path, tmp_path / "results") == 1  # no trial succeeded: the experiment failed
    trial = stored_trials(tmp_path / "results")[0]["status"]
    assert trial["phase"] == "Failed" and trial["reason"] == "ExitCode"
    assert "exited with code 3" in trial["message"]
    assert "CUDA out of memory (pretend)" in trial["message"]


def test_a_trainer_that_never_reports_fails(tmp_path: Path) -> None:
    path = experiment_file(tmp_path, env=[{"name": "MODE", "value": "silent"}])
    assert run(path, tmp_path / "results") == 1
    status = json.loads((tmp_path / "results" / "tiny" / "status.json").read_text())["status"]
    assert status["phase"] == "Failed"
    failed = next(c for c in status["conditions"] if c["type"] == "Failed")
    assert failed["reason"] == "MaxFailedTrialsExceeded"
    trial = stored_trials(tmp_path / "results")[0]["status"]
    assert trial["reason"] == "MissingObjectiveMetric"
    assert trial["message"] == "the trainer finished without reporting the objective metric 'score'"


def test_target_reached_finishes_early(tmp_path: Path) -> None:
    objective = {"metric": "score", "goal": "maximize", "target": 0.5}
    limits = {"maxTrials": 30, "parallelTrials": 1}
    assert run(experiment_file(tmp_path, objective=objective, limits=limits), tmp_path / "r") == 0
    trials = stored_trials(tmp_path / "r")
    assert len(trials) < 30
    assert trials[-1]["status"]["metrics"]["score"] >= 0.5
    assert all(t["status"]["metrics"]["score"] < 0.5 for t in trials[:-1])


def test_early_stopping_stops_a_losing_trial(tmp_path: Path) -> None:
    path = experiment_file(
        tmp_path,
        args=["--steps=6", "--pause=0.15"],
        earlyStopping={"rule": "median", "minTrials": 1, "warmupSteps": 1},
        limits={"maxTrials": 5, "parallelTrials": 1},
    )
    run(path, tmp_path / "r")
    trials = stored_trials(tmp_path / "r")
    stopped = [t for t in trials if t["status"]["phase"] == "EarlyStopped"]
    assert stopped, [t["status"]["metrics"] for t in trials]
    for trial in stopped:
        earlier = trials[: trial["spec"]["index"]]
        median = statistics.median(t["status"]["metrics"]["score"] for t in earlier)
        assert trial["status"]["metrics"]["score"] < median
        assert len(trial["status"]["curve"]) < 6  # killed before it finished
        assert trial["status"]["message"].startswith("median rule")


def test_a_trial_past_its_timeout_fails(tmp_path: Path) -> None:
    path = experiment_file(
        tmp_path, args=["--pause=30"], limits={"maxTrials": 1, "trialTimeout": "1s"}
    )
    started = time.monotonic()
    assert run(path, tmp_path / "r") == 1
    assert time.monotonic() - started < 15
    status = stored_trials(tmp_path / "r")[0]["status"]
    # the words a trial Job's DeadlineExceeded gets too (test_planning_outcome)
    assert (status["reason"], status["message"]) == (
        "TrialTimeout",
        "ran longer than limits.trialTimeout (1 s)",
    )


def test_trials_are_packed_on_gpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBETUNE_GPUS", "2")
    path = experiment_file(tmp_path, args=["--pause=0.3"], trial={
        "gpus": 2, "template": yaml_template(tmp_path)})  # fmt: skip
    assert run(path, tmp_path / "r") == 0
    trials = stored_trials(tmp_path / "r")
    assert {t["status"]["metrics"]["gpus"] for t in trials} == {2.0}
    spans = sorted((t["status"]["startTime"], t["status"]["completionTime"]) for t in trials)
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert start >= end  # two GPUs, two per trial: never two trials at once


def yaml_template(tmp_path: Path) -> dict[str, object]:
    container = {"name": "trainer", "command": ["python", str(tmp_path / "trainer.py"),
                 "--x=${x}", "--pause=0.3"]}  # fmt: skip
    return {"spec": {"containers": [container]}}


def test_resume_after_a_kill_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    path = experiment_file(
        tmp_path, args=["--pause=0.4"], limits={"maxTrials": 8, "parallelTrials": 2}
    )
    results = tmp_path / "r"
    command = [sys.executable, "-m", "kubetune.cli", "run", str(path), "--dir", str(results)]
    runner = subprocess.Popen(command, stdout=subprocess.DEVNULL, env=dict(os.environ))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        phases = [t["status"].get("phase") for t in stored_trials(results)]
        if phases.count("Succeeded") >= 2 and "Running" in phases:
            break
        time.sleep(0.05)
    runner.send_signal(signal.SIGKILL)
    runner.wait()
    before = {t["metadata"]["name"]: t for t in stored_trials(results)}
    assert run(path, results) == 0
    after = stored_trials(results)
    assert [t["spec"]["index"] for t in after] == list(range(8))
    assert {t["status"]["phase"] for t in after} == {"Succeeded"}
    for trial in after:
        earlier = before.get(trial["metadata"]["name"])
        if earlier is not None:  # the same trial, never a second one with a new index
            assert earlier["spec"] == trial["spec"]
            if earlier["status"]["phase"] == "Succeeded":
                assert earlier["status"] == trial["status"]
