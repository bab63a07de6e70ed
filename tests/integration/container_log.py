"""A container's log file as a container runtime writes it, for processes that play
containers (process_pods).

The kubelet (and kwok, which plays it) serves `pods/log` from files in the CRI log
format, one record per line: ``<RFC 3339 nano time> <stdout|stderr> F <text>``, where
``F`` marks a full line (``P`` would be a part of a longer one; we never split). kwok finds
the file through a `Logs` object (tests/cluster/kwok.py).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import IO


class ContainerLogWriter:
    """Copies a process's stdout and stderr, line by line as they come, into one file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = path.open("ab", buffering=0)
        self._lock = threading.Lock()  # two streams, one file: records must not interleave
        self._pumps: list[threading.Thread] = []

    def follow(self, stream: IO[bytes], name: str) -> None:
        pump = threading.Thread(target=self._copy, args=(stream, name), daemon=True)
        pump.start()
        self._pumps.append(pump)

    def _copy(self, stream: IO[bytes], name: str) -> None:
        for line in stream:
            stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            record = f"{stamp} {name} F ".encode() + line.rstrip(b"\n") + b"\n"
            with self._lock:
                self._file.write(record)

    def close(self, timeout: float = 10.0) -> None:
        """Waits until both streams ended (the process exited and its output is all in)."""
        for pump in self._pumps:
            pump.join(timeout)
        self._file.close()
