"""`python -m tests.cluster up`: run the test control plane in the foreground for a person.

hack/dev-cluster.sh starts this in the background. With --state-dir, the work files go
to STATE_DIR/run and STATE_DIR/state.json records the kubeconfig and every PID once the
cluster is ready; the file is removed again on SIGTERM/SIGINT, or when a component dies,
after teardown.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import time
from pathlib import Path
from types import FrameType

from tests.cluster.binaries import find_bin_dir
from tests.cluster.controlplane import ControlPlane


def _exit_on_signal(signum: int, _frame: FrameType | None) -> None:
    sys.exit(128 + signum)  # unwinds through `finally`, so teardown runs


def _fresh_run_dir(state_dir: Path | None) -> Path | None:
    if state_dir is None:
        return None
    run_dir = state_dir / "run"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    return run_dir


def _write_state(state_file: Path, plane: ControlPlane, seconds: float) -> None:
    state = {
        "pid": os.getpid(),
        "kubeconfig": str(plane.kubeconfig),
        "server": plane.server_url,
        "bin_dir": str(plane.bin_dir),
        "log_dir": str(plane.log_dir),
        "startup_seconds": round(seconds, 1),
        "components": {name: c.pid for name, c in plane.components.items()},
    }
    partial = state_file.with_suffix(".tmp")
    partial.write_text(json.dumps(state, indent=2) + "\n")
    partial.replace(state_file)  # readers never see a half-written file


def _watch(plane: ControlPlane) -> None:
    """Returns (ending the launcher) when a component dies, so `env` stops pointing at it."""
    while True:
        time.sleep(1)
        for component in plane.components.values():
            if component.exited():
                print(component.describe_failure("died"), file=sys.stderr, flush=True)
                return


def up(state_dir: Path | None) -> None:
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, _exit_on_signal)
    plane = ControlPlane(find_bin_dir(), _fresh_run_dir(state_dir))
    state_file = (state_dir or plane.work_dir) / "state.json"
    try:
        began = time.monotonic()
        plane.start()
        _write_state(state_file, plane, time.monotonic() - began)
        print(f"control plane ready in {time.monotonic() - began:.1f}s", flush=True)
        print(f"export KUBECONFIG={plane.kubeconfig}", flush=True)
        _watch(plane)
    finally:
        state_file.unlink(missing_ok=True)
        plane.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.cluster")
    parser.add_argument("command", choices=["up"])
    parser.add_argument("--state-dir", type=Path, help="keep kubeconfig, logs and state here")
    args = parser.parse_args(argv)
    up(args.state_dir)


if __name__ == "__main__":
    main()
