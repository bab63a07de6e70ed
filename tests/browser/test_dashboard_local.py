"""`kubetune dashboard` over a local experiment while `kubetune run` runs it, seen in a
real headless Chromium: the experiment appears, its trial count grows as trials are
created, and the optimization history and parallel coordinates are drawn."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import yaml
from selenium.webdriver.remote.webdriver import WebDriver

from tests.browser.dashboard_page import DashboardPage, dashboard_serving

# Reports a curve, then waits for the test's gate before its final report, so the test
# decides when trials beyond the first parallel ones exist.
TRAINER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    x, kind, gate = float(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
    for step in (1, 2, 3):
        print(f"kubetune metric score={x * step / 3} step={step}", flush=True)
    while not gate.exists():
        time.sleep(0.05)
    print(f"kubetune metric score={x + (kind == 'wide')}", flush=True)
    """
)
TRIALS = 6


def experiment_file(tmp_path: Path, gate: Path) -> Path:
    trainer = tmp_path / "trainer.py"
    trainer.write_text(TRAINER)
    command = [sys.executable, str(trainer), "${x}", "${kind}", str(gate)]
    document = {
        "apiVersion": "kubetune.dev/v1alpha1",
        "kind": "TuningExperiment",
        "metadata": {"name": "live"},
        "spec": {
            "objective": {"metric": "score", "goal": "maximize"},
            "parameters": [{"name": "x", "type": "float", "min": 0.0, "max": 1.0},
                           {"name": "kind", "type": "categorical", "values": ["narrow", "wide"]}],
            "algorithm": {"name": "random", "seed": 5},
            "limits": {"maxTrials": TRIALS, "parallelTrials": 2},
            "trial": {"template": {"spec": {"containers": [
                {"name": "trainer", "image": "unused", "command": command}]}}},
        },
    }  # fmt: skip
    path = tmp_path / "live.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def test_a_running_local_experiment_is_seen_live(browser: WebDriver, tmp_path: Path) -> None:
    gate, runs = tmp_path / "gate", tmp_path / "runs"
    run = subprocess.Popen(
        [sys.executable, "-m", "kubetune.cli", "run", str(experiment_file(tmp_path, gate)),
         "--dir", str(runs)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        with dashboard_serving("--dir", str(runs)) as url:
            page = DashboardPage(browser, url)
            page.open_experiment("live")
            first = page.wait_for_trials(more_than=0)
            assert first <= 2  # the gate holds the first parallel trials
            gate.touch()
            page.wait_for_trials(more_than=first)
            _, errors = run.communicate(timeout=120)
            assert run.returncode == 0, errors
            page.until(lambda: page.trial_count() == TRIALS, f"all {TRIALS} trials")
            page.wait_for_history_points(TRIALS)
            assert {"score", "x", "kind"} <= set(page.parallel_coordinate_axes())
    finally:
        run.kill()
        run.wait()
