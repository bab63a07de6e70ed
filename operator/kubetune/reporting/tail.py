"""Follow the trainer's metrics file as it grows, like ``tail -F``, one report at a time.

The reporter cannot see the trainer's stdout (no shared process namespace, no command
rewriting), so the metrics file on the shared emptyDir is its only input. The file may
not exist yet when the reporter starts, may end in half a line while the trainer is
writing, and is truncated if a trainer recreates it; each case is handled here.
"""

from __future__ import annotations

import os
from collections import deque

from kubetune.reporting.protocol import MAX_LINE_CHARS, MetricReport, parse_json_line, parse_line

READ_CHUNK_BYTES = 64 * 1024


def parse_metrics_file_line(line: str) -> MetricReport | None:
    """A report from one line of the metrics file: JSON lines (what the SDK writes), or
    the stdout line protocol for trainers that simply echo it into the file."""
    text = line.strip()
    parsed = parse_line(text) if text.startswith("kubetune ") else parse_json_line(text)
    return parsed if isinstance(parsed, MetricReport) else None


class MetricsFileTail:
    """Reads complete new lines of one file; keeps the position between calls."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.offset = 0
        self.partial = b""
        self.lines: deque[str] = deque()
        self.skipped_lines = 0  # malformed lines are counted, never fatal

    def read_reports(self, limit: int) -> list[MetricReport]:
        """Up to `limit` reports from lines completed since the last call."""
        reports: list[MetricReport] = []
        while len(reports) < limit:
            if not self.lines and not self._read_more():
                break
            report = parse_metrics_file_line(self.lines.popleft())
            if report is None:
                self.skipped_lines += 1
            else:
                reports.append(report)
        return reports

    def _read_more(self) -> bool:
        """Reads one chunk into `lines`; False when the file has nothing new."""
        try:
            with open(self.path, "rb") as metrics_file:
                if os.fstat(metrics_file.fileno()).st_size < self.offset:
                    self.offset, self.partial = 0, b""  # truncated: start over
                metrics_file.seek(self.offset)
                chunk = metrics_file.read(READ_CHUNK_BYTES)
        except FileNotFoundError:  # the trainer has not reported yet
            return False
        if not chunk:
            return False
        self.offset += len(chunk)
        self._split(self.partial + chunk)
        return True

    def _split(self, data: bytes) -> None:
        *complete, self.partial = data.split(b"\n")
        if len(self.partial) > MAX_LINE_CHARS * 4:  # a runaway line: drop, don't hoard it
            self.partial = b""
            self.skipped_lines += 1
        self.lines.extend(line.decode("utf-8", "replace") for line in complete)
