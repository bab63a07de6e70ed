"""Child processes that cannot outlive the control plane that started them.

Each component runs in its own process group (so a component's own children die with
it), logs to a file, and is told by the kernel to terminate if the launcher dies without
cleaning up (PR_SET_PDEATHSIG), which covers a launcher killed with SIGKILL.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
from collections.abc import Sequence
from pathlib import Path

PR_SET_PDEATHSIG = 1
LOG_TAIL_LINES = 40


def free_loopback_ports(count: int) -> list[int]:
    """Distinct free loopback ports; sockets stay open until all are chosen so none repeat."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


def _die_with_parent() -> None:
    """Runs in the child before exec: deliver SIGTERM when the launching thread exits."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Component:
    """One running binary of the control plane, with its log file."""

    def __init__(self, name: str, argv: Sequence[str | Path], log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [str(arg) for arg in argv],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,  # noqa: PLW1509 - started from the main thread
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def exited(self) -> bool:
        return self.process.poll() is not None

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def describe_failure(self, problem: str) -> str:
        """A message naming the component, its exit status and its last log lines."""
        status = f"exit status {self.process.returncode}" if self.exited() else "still running"
        return (
            f"{self.name} {problem} ({status}); last lines of {self.log_path}:\n{self.log_tail()}"
        )

    def stop(self, grace_seconds: float = 10.0) -> None:
        """SIGTERM to the whole process group, then SIGKILL if it lingers."""
        if self.exited():
            return  # already reaped: its PID (and group ID) may belong to someone else now
        for sig, wait in ((signal.SIGTERM, grace_seconds), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=wait)
                return
