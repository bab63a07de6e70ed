"""What the local runner prints: one line per finished trial, a live progress line, and
a closing summary with the best trial and how to look at the results.

On a terminal the progress line rewrites itself in place; in a log file (or under
pytest) it is printed only when it changes, so logs stay readable.

When the reader of a pipe goes away (``kubetune run ... | head``), writing fails with
EPIPE. The console then stops writing, points the stream's descriptor at /dev/null (so
the interpreter's last flush at exit cannot fail either) and sets `reader_gone`; the
runner treats that as a request to stop in order (see interrupts.py). It never raises:
a failed print must not leave a trial settled in memory but not on disk.
"""

from __future__ import annotations

import contextlib
import errno
import os
from typing import TextIO

from kubetune.api import TrialCounts, TuningTrial
from kubetune.planning.placeholders import format_value
from kubetune.planning.progress import Finish
from kubetune.planning.records import TrialRecord


def describe_params(params: dict[str, float | int | str], exact: bool = False) -> str:
    """Four significant digits keep a line readable; `exact` gives what the trial got."""

    def shown(value: float | int | str) -> str:
        return f"{value:.4g}" if isinstance(value, float) and not exact else format_value(value)

    return " ".join(f"{name}={shown(value)}" for name, value in params.items())


def describe_value(metric: str, value: float | None) -> str:
    return f"{metric}={value:.6g}" if value is not None else f"{metric}=-"


class Console:
    def __init__(self, out: TextIO, metric: str, max_trials: int) -> None:
        self.out = out
        self.metric = metric
        self.max_trials = max_trials
        self.live = out.isatty()
        self.shown = ""
        self.done = -1
        self.reader_gone = False

    def write(self, text: str) -> None:
        """Write and flush, or nothing at all once the reader is gone."""
        if self.reader_gone:
            return
        try:
            self.out.write(text)
            self.out.flush()
        except OSError as error:
            if error.errno not in (errno.EPIPE, errno.EIO):  # EIO: its terminal is gone
                raise
            self.reader_gone = True
            silence(self.out)

    def say(self, text: str) -> None:
        if self.live and self.shown:
            self.write("\r" + " " * len(self.shown) + "\r")
        self.write(text + "\n")
        if self.live and self.shown:
            self.write(self.shown)

    def progress(self, counts: TrialCounts, best: TrialRecord | None) -> None:
        done = counts.finished
        line = f"[{done}/{self.max_trials} done] {counts.running} running"
        if best is not None:
            line += f", best {describe_value(self.metric, best.value)} ({best.name})"
        if line == self.shown:
            return
        if self.live:
            self.write("\r" + line.ljust(len(self.shown)))
        elif done != self.done:  # a log gets one line per finished trial, not per start
            self.write(line + "\n")
        self.done = done
        self.shown = line

    def trial_done(self, trial: TuningTrial) -> None:
        status = trial.status
        value = describe_value(self.metric, status.metrics.get(self.metric))
        line = f"{trial.metadata['name']}  {status.phase:<12} {value}  "
        line += describe_params(trial.spec.parameters)
        if status.phase != "Succeeded" and status.message:
            line += "\n    " + status.message.replace("\n", "\n    ")
        self.say(line)

    def summary(self, name: str, finish: Finish, best: TuningTrial | None, root: str) -> None:
        lines = ["", f"Experiment {name} {finish.phase.lower()}: {finish.message}."]
        if best is not None:
            value = describe_value(self.metric, best.status.metrics.get(self.metric))
            lines.append(f"Best trial {best.metadata['name']}: {value}")
            lines.append(f"  parameters: {describe_params(best.spec.parameters, exact=True)}")
        lines.append(f"Results in {root}/{name}/; plots: kubetune plot {name}")
        self.write(("\n" if self.live else "") + "\n".join(lines) + "\n")


def silence(stream: TextIO) -> None:
    """Send what `stream` still holds, and anything later, to /dev/null."""
    with contextlib.suppress(OSError, ValueError):  # no descriptor (a StringIO): nothing to do
        descriptor = stream.fileno()
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, descriptor)
        os.close(devnull)
