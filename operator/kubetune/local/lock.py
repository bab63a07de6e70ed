"""One runner per experiment directory: an advisory lock on ``<dir>/runner.lock``.

Two ``kubetune run`` on one directory would both start the pending trials and write the
same files, so every trial would run twice. The first runner takes ``flock(LOCK_EX)`` on
the lock file and writes its pid there; a second one is refused with that pid.

Why flock and not a pid file: the kernel drops the lock when the descriptor closes, which
includes the holder dying by ``kill -9``, so a stale lock never needs cleaning up and a
recycled pid can never make a dead runner look alive. The descriptor is not inherited by
trainers (Python opens files close-on-exec), so an orphaned trainer never holds it.

``kubetune status`` probes the lock with a shared, non-blocking flock: that tells "a
runner is driving this experiment" from "the last runner was killed". A probe holds the
lock for microseconds, so a runner starting at that instant retries briefly before it
gives up.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

ACQUIRE_ATTEMPTS = 20
ACQUIRE_PAUSE_SECONDS = 0.05


class DirectoryInUseError(RuntimeError):
    """Another live `kubetune run` holds the experiment's directory."""


def _try_flock(descriptor: int, mode: int) -> bool:
    try:
        fcntl.flock(descriptor, mode | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _recorded_pid(descriptor: int) -> str:
    text = os.pread(descriptor, 32, 0).decode(errors="replace").strip()
    return text or "unknown"


class RunnerLock:
    """Held from `acquire` to `release` (or the runner's death, whichever comes first)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.descriptor: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        for _ in range(ACQUIRE_ATTEMPTS):  # a status probe may hold it for an instant
            if _try_flock(descriptor, fcntl.LOCK_EX):
                break
            time.sleep(ACQUIRE_PAUSE_SECONDS)
        else:
            holder = _recorded_pid(descriptor)
            os.close(descriptor)
            raise DirectoryInUseError(
                f"{self.path.parent} is in use by another kubetune run (pid {holder}); "
                "wait for it to finish, or stop it (Ctrl-C or kill) and run again to resume"
            )
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"{os.getpid()}\n".encode(), 0)
        self.descriptor = descriptor

    def release(self) -> None:
        """The file stays: deleting it would let a third runner lock a fresh inode while a
        second one still waits on the old one."""
        if self.descriptor is not None:
            os.close(self.descriptor)
            self.descriptor = None


def runner_is_active(path: Path) -> bool:
    """Whether a live runner holds the lock at `path` (a missing file: none ever did)."""
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        free = _try_flock(descriptor, fcntl.LOCK_SH)
    finally:
        os.close(descriptor)  # also drops the shared lock the probe may have taken
    return not free
