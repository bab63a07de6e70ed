"""Start a trainer that dies with its runner: ``python trampoline.py RUNNER_PID COMMAND...``.

Run as a script (by path, so importing it loads nothing of kubetune): it asks the kernel
to SIGKILL this process when its parent dies (``PR_SET_PDEATHSIG``), then replaces itself
with the trainer. The flag survives exec, and exec keeps the pid, so the trainer the
runner watches (its exit code, its signals, its process group) is exactly the trainer; a
trampoline relays nothing and costs one short interpreter start per trial.

Why not ``preexec_fn``: that runs Python in the forked child of a runner with reader
threads, which CPython documents as unsafe (the child may deadlock on a lock some other
thread held at fork). Here the child execs at once.

If the runner died before the flag was set, no signal will ever come: the parent is
then no longer the runner, and the trampoline exits instead of starting an orphan.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
RUNNER_GONE = 125


def die_with_parent() -> None:
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # no prctl: the next run still ends leftovers
        return
    prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)


def main(argv: list[str]) -> None:
    runner, command = int(argv[1]), argv[2:]
    die_with_parent()
    if os.getppid() != runner:
        os._exit(RUNNER_GONE)
    os.execvp(command[0], command)


if __name__ == "__main__":
    main(sys.argv)
