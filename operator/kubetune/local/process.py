"""One trial as a child process: start it, collect its reports, stop it.

The trainer's stdout is read line by line on a thread (the line protocol), its metrics
file is tailed (what the SDK writes), and both end up in one queue of reports; the same
report arriving twice is harmless because recording a step is idempotent. Each trial runs
in its own process group, so stopping it also stops the data-loader workers it spawned.
If the runner itself dies, the trainer's next print fails on the closed pipe and it ends.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

from kubetune.reporting.protocol import MetricReport, ParseError, parse_line
from kubetune.reporting.tail import MetricsFileTail

STDERR_TAIL_LINES = 20
STOP_GRACE_SECONDS = 3.0


class TrialProcess:
    def __init__(
        self,
        command: Sequence[str],
        env: Mapping[str, str],
        log_path: Path,
        metrics_path: Path,
    ) -> None:
        self.started = time.monotonic()
        self.reports: queue.Queue[MetricReport | ParseError] = queue.Queue()
        self.stderr_tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
        self.metrics_tail = MetricsFileTail(str(metrics_path))
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log = log_path.open("a", encoding="utf-8", errors="replace")
        self.popen = subprocess.Popen(
            list(command),
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            start_new_session=True,
        )
        self.readers = [
            threading.Thread(target=self._read_stdout, args=(self.popen.stdout,), daemon=True),
            threading.Thread(target=self._read_stderr, args=(self.popen.stderr,), daemon=True),
        ]
        for reader in self.readers:
            reader.start()

    def _read_stdout(self, stream: IO[str]) -> None:
        for line in stream:
            self.log.write(line)
            parsed = parse_line(line)
            if parsed is not None:
                self.reports.put(parsed)

    def _read_stderr(self, stream: IO[str]) -> None:
        for line in stream:
            self.log.write(line)
            self.stderr_tail.append(line.rstrip("\n"))

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def poll(self) -> int | None:
        """The exit code once the trainer has ended and all its output has been read."""
        code = self.popen.poll()
        if code is None:
            return None
        for reader in self.readers:
            reader.join(timeout=5)
        return code

    def drain(self) -> list[MetricReport | ParseError]:
        """Reports that arrived since the last call, from stdout and the metrics file."""
        arrived: list[MetricReport | ParseError] = []
        while not self.reports.empty():
            arrived.append(self.reports.get_nowait())
        arrived.extend(self.metrics_tail.read_reports(limit=10_000))
        return arrived

    def stop(self) -> None:
        """SIGTERM to the whole process group, SIGKILL if it lingers."""
        for sent in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.popen.pid, sent)
            except ProcessLookupError:
                break
            try:
                self.popen.wait(timeout=STOP_GRACE_SECONDS)
                break
            except subprocess.TimeoutExpired:
                continue
        self.close()

    def close(self) -> None:
        for reader in self.readers:
            reader.join(timeout=1)
        self.log.close()

    def stderr_summary(self) -> str:
        return "\n".join(self.stderr_tail)
