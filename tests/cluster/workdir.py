"""Temporary work directories of test control planes, and the sweeping of stale ones.

Components die with a SIGKILLed launcher (PR_SET_PDEATHSIG), but its directory of etcd
data and logs stays behind; each directory records its owner's PID so the next launcher
can remove the ones whose owner is gone, without touching a concurrent session's.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

PREFIX = "kubetune-cluster-"
OWNER_FILE = "owner.pid"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def sweep_stale_work_dirs() -> None:
    """Removes work directories whose recorded owner process no longer exists."""
    for directory in Path(tempfile.gettempdir()).glob(f"{PREFIX}*"):
        try:
            owner = int((directory / OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue  # not ours to judge, or still being created
        if not _alive(owner):
            shutil.rmtree(directory, ignore_errors=True)


def new_work_dir() -> Path:
    sweep_stale_work_dirs()
    directory = Path(tempfile.mkdtemp(prefix=PREFIX))
    (directory / OWNER_FILE).write_text(str(os.getpid()))
    return directory
