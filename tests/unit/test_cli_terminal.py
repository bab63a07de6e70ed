"""`kubetune` for the person at a terminal, and in a pipeline: a fast ``--help``, a live
view while a run works (driven through a real pseudo-terminal with pexpect), plain
timestamped lines in a log, and a quiet exit when the reader of a pipe goes away."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pexpect

from tests.unit.local_helpers import default_interrupt, experiment_file, run

HEAVY_MODULES = ("numpy", "scipy", "sklearn", "kubernetes", "kopf", "matplotlib")
ESCAPE = "\x1b"
STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"


def kubetune(*argv: str) -> list[str]:
    return [sys.executable, "-m", "kubetune.cli", *argv]


def test_help_loads_no_heavy_module() -> None:
    """What makes --help slow is importing numpy, scipy and the Kubernetes client."""
    probe = (
        "import sys\nfrom kubetune.cli import build_parser\n"
        "try:\n    build_parser().parse_args(['--help'])\nexcept SystemExit:\n    pass\n"
        f"print('loaded:', *sorted(m for m in {HEAVY_MODULES!r} if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert "usage: kubetune" in loaded.stdout
    assert loaded.stdout.splitlines()[-1] == "loaded:"


def test_reading_a_local_experiment_loads_no_heavy_module() -> None:
    """status, trials, best, list and logs need neither the search nor a cluster client."""
    probe = (
        "import sys\nimport kubetune.commands.reading\n"
        f"print('loaded:', *sorted(m for m in {HEAVY_MODULES!r} if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == "loaded:"


def test_a_closed_pipe_ends_a_command_quietly(tmp_path: Path) -> None:
    """As in `kubetune trials tiny | head -1`: the reader is gone before the answer is."""
    results = tmp_path / "results"
    assert run(experiment_file(tmp_path), results) == 0
    command = kubetune("trials", "tiny", "--dir", str(results))
    reader = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert reader.stdout is not None and reader.stderr is not None
    reader.stdout.close()  # what head does after its first line
    error = reader.stderr.read()
    assert reader.wait(timeout=30) == 141  # 128 + SIGPIPE, as a shell reports it
    assert error == b""
    shell = f"{' '.join(command)} | head -1"
    piped = subprocess.run(shell, shell=True, capture_output=True, text=True, check=True)
    assert piped.stdout.startswith("TRIAL") and piped.stderr == ""


def test_a_log_gets_timestamped_lines_and_a_true_running_count(tmp_path: Path) -> None:
    path = experiment_file(tmp_path, args=["--steps=2", "--pause=0.1"])
    command = kubetune("run", str(path), "--dir", str(tmp_path / "results"))
    log = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    assert ESCAPE not in log
    events = [line for line in log.splitlines() if re.match(STAMP, line)]
    started: set[str] = set()
    ended: set[str] = set()
    for line in events:
        words = line.split()
        if words[2] == "started":
            started.add(words[1])
        elif words[2] in ("Succeeded", "Failed", "EarlyStopped"):
            ended.add(words[1])
        elif overall := re.search(r"\[(\d+)/4 done\] (\d+) running", line):
            assert int(overall[1]) == len(ended)
            assert int(overall[2]) == len(started - ended), line
    assert len(started) == len(ended) == 4
    assert "Experiment tiny succeeded" in log


def terminal(program: str, argv: list[str]) -> pexpect.spawn:
    """`program` on a 30 x 120 pseudo-terminal, interruptible as at a real one."""
    return pexpect.spawn(program, argv, dimensions=(30, 120), encoding="utf-8", timeout=60,
                         preexec_fn=default_interrupt)  # fmt: skip


def test_the_live_view_follows_a_running_trial(tmp_path: Path) -> None:
    path = experiment_file(tmp_path, args=["--steps=5", "--pause=0.4"])
    program, *argv = kubetune("run", str(path), "--dir", str(tmp_path / "results"))
    screen = terminal(program, argv)
    steps: list[int] = []
    while not steps or steps[-1] < 5:  # the row of tiny-0000 as the table is redrawn
        screen.expect(r"tiny-0000 +(\d+) +0\.\d+ +\d+s")
        steps.append(int(screen.match[1]))
    assert len(set(steps)) >= 3 and steps == sorted(steps)
    screen.expect(r"\[\d/4 done\] \d running")
    screen.expect(r"Experiment tiny succeeded: all 4 trials finished\.")
    screen.expect(r"Best trial tiny-000\d: score=")
    screen.expect(pexpect.EOF)
    screen.close()
    assert screen.exitstatus == 0


def test_the_formats_parse_from_another_process(tmp_path: Path) -> None:
    """Nothing but the document on stdout: a program can read it from the pipe."""
    results = tmp_path / "results"
    assert run(experiment_file(tmp_path), results) == 0
    for output in ("json", "csv", "yaml"):
        command = kubetune("status", "tiny", "--dir", str(results), "-o", output)
        shown = subprocess.run(command, capture_output=True, text=True, check=True)
        assert ESCAPE not in shown.stdout and shown.stderr == ""
        assert "Succeeded" in shown.stdout


def test_ctrl_c_in_the_live_view_leaves_an_interrupted_experiment(tmp_path: Path) -> None:
    path = experiment_file(tmp_path, args=["--steps=50", "--pause=0.2"])
    results = str(tmp_path / "results")
    program, *argv = kubetune("run", str(path), "--dir", results)
    screen = terminal(program, argv)
    screen.expect(r"tiny-0000 +[1-9]\d* +0\.\d+")  # running, and reporting steps
    screen.sendintr()
    screen.expect(r"interrupted; run the same command again to resume")
    screen.expect(pexpect.EOF)
    screen.close()
    assert screen.exitstatus == 130
    status = subprocess.run(kubetune("status", "tiny", "--dir", results),
                            capture_output=True, text=True, check=True)  # fmt: skip
    assert status.stdout.splitlines()[1].split() == ["phase:", "Interrupted"]
    counts = status.stdout.splitlines()[2]  # nothing runs once the runner has stopped
    assert re.search(r"created, [12] interrupted, 0 succeeded", counts), counts
