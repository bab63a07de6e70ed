"""Local runs a person can trust: trainers end with their runner, one runner per
directory, signals and a closed stdout stop in order, the status says what happened, and
`spec.suspend` is honoured. Real runner and trainer subprocesses throughout."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubetune.cli import main
from kubetune.local.interrupts import StopRequest, signals_ask_to_stop
from kubetune.local.launch import fresh_metrics_file
from kubetune.local.orphans import TrainerRecord, end_leftover_trainers, save_record, start_marker
from kubetune.local.process import TrialProcess
from kubetune.reporting.protocol import MetricReport
from tests.unit.local_helpers import default_interrupt, experiment_file, run, stored_trials

# Starts a child of its own (a data-loader worker, say), notes both pids, reports, then
# waits while the hold file exists.
FAMILY_TRAINER = textwrap.dedent(
    """
    import os, subprocess, sys, time
    x = float(sys.argv[1].split("=", 1)[1])
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    open(os.path.join(os.environ["PIDS_DIR"], f"{os.getpid()}-{child.pid}"), "w").close()
    print(f"kubetune metric score={x!r} step=1", flush=True)
    while os.path.exists(os.environ["HOLD_FILE"]):
        time.sleep(0.05)
    child.kill()
    print(f"kubetune metric score={x!r}", flush=True)
    """
)


def alive(pid: int) -> bool:
    """Running, not a zombie waiting to be reaped by whoever inherited it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def wait_for(condition: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


class Family:
    """An experiment of FAMILY_TRAINER trials, and the pids they wrote down."""

    def __init__(self, tmp_path: Path, trials: int = 2) -> None:
        self.pids_dir = tmp_path / "pids"
        self.pids_dir.mkdir()
        self.hold = tmp_path / "hold"
        self.hold.touch()
        env = [{"name": "PIDS_DIR", "value": str(self.pids_dir)},
               {"name": "HOLD_FILE", "value": str(self.hold)}]  # fmt: skip
        limits = {"maxTrials": trials, "parallelTrials": trials}
        self.path = experiment_file(tmp_path, env=env, limits=limits)
        (tmp_path / "trainer.py").write_text(FAMILY_TRAINER)
        self.results = tmp_path / "r"

    def pids(self) -> list[tuple[int, int]]:
        """(trainer, its child) per started trainer."""
        pairs = (name.split("-") for name in sorted(p.name for p in self.pids_dir.iterdir()))
        return [(int(trainer), int(child)) for trainer, child in pairs]

    def status(self) -> dict[str, Any]:
        saved = json.loads((self.results / "tiny" / "status.json").read_text())
        status: dict[str, Any] = saved["status"]
        return status


@pytest.fixture
def runners() -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Start `kubetune run` subprocesses; whatever a failed test left running is killed."""
    started: list[subprocess.Popen[str]] = []

    def start(path: Path, results: Path, **options: Any) -> subprocess.Popen[str]:
        command = [sys.executable, "-m", "kubetune.cli", "run", str(path), "--dir", str(results)]
        # The child only resets one signal disposition before exec: no lock is taken.
        runner = subprocess.Popen(command, text=True, start_new_session=True,
                                  preexec_fn=default_interrupt,  # noqa: PLW1509
                                  **options)  # fmt: skip
        started.append(runner)
        return runner

    yield start
    for runner in started:
        if runner.poll() is None:
            os.killpg(runner.pid, signal.SIGKILL)
            runner.wait()


def shown_phase(results: Path, capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    assert main(["status", "tiny", "--dir", str(results)]) == 0
    phase_line = capsys.readouterr().out.splitlines()[1]
    return phase_line.split(":", 1)[1].strip()


def test_kill_9_takes_the_trainers_along_and_the_resume_ends_their_children(
    tmp_path: Path, runners: Callable[..., subprocess.Popen[str]], capsys: Any
) -> None:
    family = Family(tmp_path)
    runner = runners(family.path, family.results, stdout=subprocess.DEVNULL)
    wait_for(lambda: len(family.pids()) == 2)
    runner.send_signal(signal.SIGKILL)
    runner.wait()
    wait_for(lambda: not any(alive(trainer) for trainer, _ in family.pids()), seconds=5)
    children = [child for _, child in family.pids()]
    assert all(alive(child) for child in children)  # only the next run can end these
    assert shown_phase(family.results, capsys) == "Interrupted"  # nobody holds the lock
    family.hold.unlink()
    assert run(family.path, family.results) == 0  # the dead runner's lock is free
    assert not any(alive(child) for child in children)
    assert "ended trainers left running by an earlier run" in capsys.readouterr().out
    assert {t["status"]["phase"] for t in stored_trials(family.results)} == {"Succeeded"}


def test_a_resume_kills_only_processes_proven_to_be_its_trainers(tmp_path: Path) -> None:
    def sleeper(**env: str) -> subprocess.Popen[bytes]:
        command = ["sleep", "30"]
        return subprocess.Popen(command, env={**os.environ, **env}, start_new_session=True)

    stranger, by_marker, by_start = sleeper(), sleeper(KUBETUNE_METRICS_FILE="/m"), sleeper()
    records = {  # the stranger has a recorded pid, but another start and no marker
        "stranger": TrainerRecord(stranger.pid, "another-boot:1", "KUBETUNE_METRICS_FILE=/m"),
        "by-marker": TrainerRecord(by_marker.pid, None, "KUBETUNE_METRICS_FILE=/m"),
        "by-start": TrainerRecord(by_start.pid, start_marker(by_start.pid), "X=never"),
    }
    for name, record in records.items():
        save_record(tmp_path / f"{name}.json", record)
    try:
        assert end_leftover_trainers(tmp_path) == ["by-marker", "by-start"]
        assert by_marker.wait(timeout=5) == by_start.wait(timeout=5) == -signal.SIGKILL
        assert stranger.poll() is None
        assert not list(tmp_path.glob("*.json"))  # handled: the next run starts clean
    finally:
        stranger.kill()
        stranger.wait()


@pytest.mark.parametrize(("sent", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_stops_trainers_and_the_status_says_interrupted(
    tmp_path: Path,
    runners: Callable[..., subprocess.Popen[str]],
    capsys: pytest.CaptureFixture[str],
    sent: signal.Signals,
    code: int,
) -> None:
    family = Family(tmp_path)
    runner = runners(family.path, family.results, stdout=subprocess.DEVNULL)
    wait_for(lambda: len(family.pids()) == 2)
    runner.send_signal(sent)
    assert runner.wait(timeout=30) == code
    assert not any(alive(pid) for pair in family.pids() for pid in pair)
    interrupted = [c for c in family.status()["conditions"] if c["type"] == "Interrupted"]
    assert interrupted[0]["status"] == "True" and interrupted[0]["reason"] == "RunnerStopped"
    assert "run the same kubetune run command again to resume" in interrupted[0]["message"]
    assert shown_phase(family.results, capsys) == "Interrupted"
    family.hold.unlink()
    assert run(family.path, family.results) == 0
    assert family.status()["phase"] == "Succeeded"
    assert "Interrupted" not in {c["type"] for c in family.status()["conditions"]}


def test_a_second_runner_is_refused_with_the_holders_pid(
    tmp_path: Path, runners: Callable[..., subprocess.Popen[str]]
) -> None:
    family = Family(tmp_path)
    first = runners(family.path, family.results, stdout=subprocess.DEVNULL)
    wait_for(lambda: len(family.pids()) == 2)
    second = runners(family.path, family.results, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, error = second.communicate(timeout=60)
    assert second.returncode == 2
    assert f"in use by another kubetune run (pid {first.pid})" in error
    assert len(family.pids()) == 2  # the second runner started nothing
    family.hold.unlink()
    assert first.wait(timeout=60) == 0


def test_a_closed_stdout_stops_the_run_quietly_and_it_resumes(
    tmp_path: Path, runners: Callable[..., subprocess.Popen[str]]
) -> None:
    path = experiment_file(tmp_path, args=["--pause=0.3"], limits={"maxTrials": 6})
    results = tmp_path / "r"
    runner = runners(path, results, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert runner.stdout is not None and runner.stderr is not None
    runner.stdout.readline()
    runner.stdout.close()  # `| head -1`
    assert runner.wait(timeout=60) == 128 + signal.SIGPIPE
    error = runner.stderr.read()
    assert "Traceback" not in error and "BrokenPipe" not in error, error
    status = json.loads((results / "tiny" / "status.json").read_text())["status"]
    assert "its output was closed" in status["conditions"][-1]["message"]
    assert run(path, results) == 0
    trials = stored_trials(results)
    assert [t["spec"]["index"] for t in trials] == list(range(6))
    assert {t["status"]["phase"] for t in trials} == {"Succeeded"}


def test_suspend_runs_nothing_and_setting_it_false_resumes(
    tmp_path: Path,
    runners: Callable[..., subprocess.Popen[str]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = experiment_file(tmp_path, suspend=True)
    results = tmp_path / "r"
    runner = runners(path, results, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, error = runner.communicate(timeout=60)
    assert runner.returncode == 3
    assert "tiny is suspended (spec.suspend: true), so no trial was started" in error
    assert stored_trials(results) == []
    status = json.loads((results / "tiny" / "status.json").read_text())["status"]
    assert [(c["type"], c["status"]) for c in status["conditions"]] == [("Suspended", "True")]
    assert shown_phase(results, capsys) == "Suspended"
    document = yaml.safe_load(path.read_text())
    document["spec"]["suspend"] = False
    path.write_text(yaml.safe_dump(document))
    assert run(path, results) == 0
    assert len(stored_trials(results)) == 4
    assert shown_phase(results, capsys) == "Succeeded"


def test_an_sdk_trainer_reports_each_step_once(tmp_path: Path) -> None:
    script = tmp_path / "sdk_trainer.py"
    script.write_text(
        "import time\nfrom kubetune.reporting import report\n"
        "for step in (1, 2, 3):\n    report(step=step, score=step / 10)\n    time.sleep(0.05)\n"
    )
    metrics = tmp_path / "metrics.jsonl"
    env = {**os.environ, "KUBETUNE_METRICS_FILE": str(metrics)}
    process = TrialProcess([sys.executable, str(script)], env, tmp_path / "log", metrics)
    wait_for(lambda: process.poll() is not None)
    reports = process.drain()
    process.close()
    assert [r.step for r in reports if isinstance(r, MetricReport)] == [1, 2, 3]
    assert len(reports) == 3


def test_every_start_of_a_trial_gets_its_own_metrics_file(tmp_path: Path) -> None:
    first = fresh_metrics_file(tmp_path, "tiny-0000", "run")
    first.parent.mkdir()
    first.touch()
    assert fresh_metrics_file(tmp_path, "tiny-0000", "run") not in (first, None)


def test_an_ignored_signal_stays_ignored_under_nohup() -> None:
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    before = signal.getsignal(signal.SIGTERM)  # pytest's own handler in some sessions
    try:
        with signals_ask_to_stop(StopRequest()):
            assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
            assert signal.getsignal(signal.SIGTERM) not in (signal.SIG_IGN, signal.SIG_DFL, before)
        assert signal.getsignal(signal.SIGTERM) == before  # given back as it was
    finally:
        signal.signal(signal.SIGHUP, previous)


def test_a_missing_trainer_program_fails_at_start(tmp_path: Path) -> None:
    path = experiment_file(tmp_path, limits={"maxTrials": 1})
    document = yaml.safe_load(path.read_text())
    document["spec"]["trial"]["template"]["spec"]["containers"][0]["command"] = ["no-such-x"]
    path.write_text(yaml.safe_dump(document))
    assert run(path, tmp_path / "r") == 1
    trial = stored_trials(tmp_path / "r")[0]["status"]
    assert trial["reason"] == "StartError" and "no-such-x" in trial["message"]
