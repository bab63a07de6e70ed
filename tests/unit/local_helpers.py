"""Shared helpers of the local-mode tests: tiny stdlib trainers and experiment files."""

from __future__ import annotations

import json
import signal
import textwrap
from pathlib import Path
from typing import Any

import yaml

from kubetune.cli import main

# Reports score = x (or x at every step); crashes, hangs or stays silent on request.
TRAINER = textwrap.dedent(
    """
    import os, sys, time
    args = dict(arg.lstrip("-").split("=", 1) for arg in sys.argv[1:])
    x = float(args["x"])
    steps, pause = int(args.get("steps", 0)), float(args.get("pause", 0))
    mode = os.environ.get("MODE", "ok")
    if mode == "crash":
        print("loading data", flush=True)
        print("RuntimeError: CUDA out of memory (pretend)", file=sys.stderr)
        sys.exit(3)
    if mode == "silent":
        print("training... done, but forgot to report")
        sys.exit(0)
    for step in range(1, steps + 1):
        time.sleep(pause)
        print(f"kubetune metric score={x!r} step={step}", flush=True)
    time.sleep(pause)
    devices = os.environ.get("CUDA_VISIBLE_DEVICES", "")
    gpus = len(devices.split(",")) if devices else 0
    print(f"kubetune metric score={x!r} gpus={gpus} param_env={os.environ['KUBETUNE_PARAM_X']}")
    """
)


def experiment_file(tmp_path: Path, name: str = "tiny", **spec: Any) -> Path:
    """A TuningExperiment running TRAINER; `spec` entries override the defaults."""
    trainer = tmp_path / "trainer.py"
    trainer.write_text(TRAINER)
    args = spec.pop("args", [])
    env = spec.pop("env", [])
    container = {"name": "trainer", "image": "unused", "env": env,
                 "command": ["python", str(trainer), "--x=${x}", *args]}  # fmt: skip
    document = {
        "apiVersion": "kubetune.dev/v1alpha1",
        "kind": "TuningExperiment",
        "metadata": {"name": name},
        "spec": {
            "objective": {"metric": "score", "goal": "maximize"},
            "parameters": [{"name": "x", "type": "float", "min": 0.0, "max": 1.0}],
            "algorithm": {"name": "random", "seed": 11},
            "limits": {"maxTrials": 4, "parallelTrials": 2},
            "trial": {"template": {"spec": {"containers": [container]}}},
            **spec,
        },
    }
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def run(path: Path, results: Path) -> int:
    return main(["run", str(path), "--dir", str(results)])


def stored_trials(results: Path, name: str = "tiny") -> list[dict[str, Any]]:
    files = sorted((results / name / "trials").glob("*.json"))
    return [json.loads(file.read_text()) for file in files]


def default_interrupt() -> None:
    """A suite started in the background (`cmd &`) hands its children SIGINT ignored, as
    a shell does for background jobs, and the runner rightly keeps ignoring it then; these
    tests stand for a run started at a terminal."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
