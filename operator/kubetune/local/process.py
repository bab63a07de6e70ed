"""One trial as a child process: start it, collect its reports, stop it.

The trainer's stdout and stderr are read line by line on two threads, through one
`LineReader` (our protocol lines and the experiment's own formats, as the operator reads
a container log that holds both streams), its metrics file is tailed (what the SDK
writes), and all end up in one queue of reports; the same report arriving twice is
harmless because recording a step is idempotent.

Trainers die with the runner. Three layers, because no one of them covers every way a
runner ends:

- Each trial is its own session and process group, and stopping a trial signals the whole
  group (SIGTERM, a grace period, then SIGKILL for whatever lingers), so the data-loader
  workers a trainer spawned end with it. An orderly stop (end of the search, Ctrl-C,
  SIGTERM) uses this for every running trial at once.
- The trainer itself is started through trampoline.py, which sets ``PR_SET_PDEATHSIG``
  = SIGKILL (Linux) and execs it, so the kernel kills it the moment the runner dies, even
  by ``kill -9`` or the OOM killer. SIGKILL rather than SIGTERM: the trial is re-run from
  the start on resume, so a trainer that catches SIGTERM to save a checkpoint or keep
  going gains nothing and only delays freeing its GPU. The kernel sends it when the
  *thread* that forked the child ends: trials are started from the runner's main thread.
- The death signal reaches only that one process. Its own children live on in the group,
  so the runner records each running group (orphans.py) and the next runner of the
  experiment kills what is left before it re-runs those trials.

A supervisor process per trial (one that outlives the trainer and kills its group when
the runner goes) would also cover grandchildren without a later run, but costs a process
per trial and must relay exit codes and signals faithfully. The remaining gap here,
grandchildren of a ``kill -9``-ed runner living until the next run of the experiment, is
documented in docs/local-mode.md.
"""

from __future__ import annotations

import contextlib
import errno
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

from kubetune.local.orphans import TrainerRecord, save_record, start_marker
from kubetune.reporting import env as trial_env
from kubetune.reporting.line_formats import LineReader
from kubetune.reporting.protocol import MetricReport, ParseError
from kubetune.reporting.tail import MetricsFileTail

STDERR_TAIL_LINES = 20
METRICS_FILE_MARKER = trial_env.METRICS_FILE  # unique to one attempt of one trial
STOP_GRACE_SECONDS = 3.0
EXIT_POLL_SECONDS = 0.02
WAIT_EXIT_KEEP_ZOMBIE = os.WEXITED | os.WNOHANG | os.WNOWAIT
TRAMPOLINE = str(Path(__file__).with_name("trampoline.py"))


def dying_with_runner(command: Sequence[str], env: Mapping[str, str]) -> list[str]:
    """`command` started through the trampoline (Linux only: it needs prctl). The program
    is looked up here, so a missing one fails at start as it would without a trampoline."""
    program = shutil.which(command[0], path=env.get("PATH"))
    if program is None:  # absent, or not executable
        raise FileNotFoundError(errno.ENOENT, "no executable program", command[0])
    if not sys.platform.startswith("linux"):
        return list(command)
    runner = str(os.getpid())
    return [sys.executable, "-I", "-S", TRAMPOLINE, runner, program, *command[1:]]


class TrialProcess:
    def __init__(
        self,
        command: Sequence[str],
        env: Mapping[str, str],
        log_path: Path,
        metrics_path: Path,
        record_path: Path | None = None,
        *,
        line_reader: LineReader | None = None,
    ) -> None:
        argv = dying_with_runner(command, env)  # a missing program raises before any file opens
        self.started = time.monotonic()
        self.line_reader = line_reader or LineReader()
        self.reports: queue.Queue[MetricReport | ParseError] = queue.Queue()
        self.stderr_tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
        self.metrics_tail = MetricsFileTail(str(metrics_path))
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log = log_path.open("a", encoding="utf-8", errors="replace")
        self.popen = subprocess.Popen(
            argv,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            start_new_session=True,
        )
        self.record_path = record_path
        if record_path is not None:  # so a later run can end what a killed runner left
            marker = f"{METRICS_FILE_MARKER}={env[METRICS_FILE_MARKER]}"
            record = TrainerRecord(self.popen.pid, start_marker(self.popen.pid), marker)
            save_record(record_path, record)
        self.readers = [
            threading.Thread(target=self._read_stdout, args=(self.popen.stdout,), daemon=True),
            threading.Thread(target=self._read_stderr, args=(self.popen.stderr,), daemon=True),
        ]
        for reader in self.readers:
            reader.start()

    def _read_stdout(self, stream: IO[str]) -> None:
        for line in stream:
            self.log.write(line)
            self._read_report(line)

    def _read_stderr(self, stream: IO[str]) -> None:
        for line in stream:
            self.log.write(line)
            self.stderr_tail.append(line.rstrip("\n"))
            self._read_report(line)

    def _read_report(self, line: str) -> None:
        parsed = self.line_reader.read(line)
        if parsed is not None:
            self.reports.put(parsed)

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def poll(self) -> int | None:
        """The exit code once the trainer has ended and all its output has been read.
        Whatever it left running in its group is killed first, as a finished pod would."""
        if not self.leader_exited():
            return None
        self.signal_group(signal.SIGKILL)
        code = self.popen.wait()
        for reader in self.readers:
            reader.join(timeout=5)
        return code

    def leader_exited(self) -> bool:
        """Exited, but not yet reaped: until it is, its pid (the group's id) cannot be
        given to another process, so signalling the group cannot reach a stranger."""
        if self.popen.returncode is not None:
            return True
        try:
            return os.waitid(os.P_PID, self.popen.pid, WAIT_EXIT_KEEP_ZOMBIE) is not None
        except ChildProcessError:  # already reaped
            return True

    def drain(self) -> list[MetricReport | ParseError]:
        """Reports that arrived since the last call, from stdout and the metrics file."""
        arrived: list[MetricReport | ParseError] = []
        while not self.reports.empty():
            arrived.append(self.reports.get_nowait())
        arrived.extend(self.metrics_tail.read_reports(limit=10_000))
        return arrived

    def signal_group(self, sent: signal.Signals) -> None:
        """`sent` to every process of the trial, including what the trainer spawned."""
        with contextlib.suppress(ProcessLookupError):  # the whole group has ended
            os.killpg(self.popen.pid, sent)

    def wait(self, deadline: float) -> None:
        """Until the trainer exits or `deadline` (monotonic) passes; it stays unreaped."""
        while not self.leader_exited() and time.monotonic() < deadline:
            time.sleep(EXIT_POLL_SECONDS)

    def stop(self) -> None:
        stop_all([self])

    def close(self) -> None:
        for reader in self.readers:
            reader.join(timeout=1)
        self.log.close()
        if self.record_path is not None:
            self.record_path.unlink(missing_ok=True)

    def stderr_summary(self) -> str:
        return "\n".join(self.stderr_tail)


def stop_all(processes: Sequence[TrialProcess]) -> None:
    """SIGTERM to every group at once, one shared grace period, then SIGKILL to every group:
    that also ends members that outlived their leader. Stopping eight trials takes one
    grace period, not eight."""
    for process in processes:
        process.signal_group(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for process in processes:
        process.wait(deadline)
    for process in processes:
        process.signal_group(signal.SIGKILL)  # before reaping: see leader_exited
        process.popen.wait()
        process.close()
