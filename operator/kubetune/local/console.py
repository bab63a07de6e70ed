"""What the local runner prints while it works, and the closing summary.

Two views of the same events (a trial starts, reports a step, ends; the overall count
changes), chosen by where stdout goes:

- a terminal gets a live view (`LiveConsole`, drawn with rich): a table of the running
  trials with their step, last objective value and elapsed time, under it the overall
  progress (finished/max, best so far, an estimate of the time left); finished trials
  scroll above it, one line each;
- anything else (a file, a pipe, CI) gets plain timestamped lines (`PlainConsole`), one
  per start, per finish, per progress of a trial (at most every few seconds) and per
  change of the overall count, without escape codes, so logs stay readable and greppable.

When the reader of a pipe goes away (``kubetune run ... | head``), writing fails with
EPIPE. The console then stops writing, points the stream's descriptor at /dev/null (so
the interpreter's last flush at exit cannot fail either) and sets `reader_gone`; the
runner treats that as a request to stop in order (see interrupts.py). It never raises:
a failed print must not leave a trial settled in memory but not on disk.

The live view is in live_view.py; the words for a trial (describe.py) are shared with
``kubetune trials``, so the live view and the table say the same things.
"""

from __future__ import annotations

import contextlib
import errno
import os
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

from kubetune.api import ParetoFront, TrialCounts, TuningTrial
from kubetune.local.describe import (
    describe_params,
    describe_value,
    elapsed_text,
    front_summary,
    last_step,
    shown_metric,
    trial_elapsed,
)

if TYPE_CHECKING:  # types only: describing progress needs no search code (numpy)
    from kubetune.planning.progress import Finish
    from kubetune.planning.records import TrialRecord

PLAIN_PROGRESS_SECONDS = 5.0  # a log gets a trial's progress at most this often


@dataclass(frozen=True)
class Progress:
    """Where the run stands at a step: counts, the best trial, what runs, time used."""

    counts: TrialCounts
    best: TrialRecord | None
    running: Sequence[TuningTrial]
    run_seconds: float


def time_left(counts: TrialCounts, max_trials: int, run_seconds: float) -> float | None:
    """At the pace so far: the run's time per finished trial, times the trials to go."""
    done = counts.finished
    return run_seconds / done * (max_trials - done) if 0 < done < max_trials else None


class Console(ABC):
    """Writing that survives a closed pipe or terminal; the views build on it."""

    def __init__(self, out: TextIO, metric: str, max_trials: int) -> None:
        self.out = out
        self.metric = metric
        self.max_trials = max_trials
        self.reader_gone = False

    def write(self, text: str) -> None:
        """Write and flush, or nothing at all once the reader is gone."""
        self.guarded(lambda: (self.out.write(text), self.out.flush()))

    def guarded(self, action: Callable[[], Any]) -> None:
        if self.reader_gone:
            return
        try:
            action()
        except OSError as error:
            if error.errno not in (errno.EPIPE, errno.EIO):  # EIO: its terminal is gone
                raise
            self.reader_gone = True
            silence(self.out)

    def overall(self, now: Progress) -> str:
        counts, best = now.counts, now.best
        line = f"[{counts.finished}/{self.max_trials} done] {counts.running} running"
        if best is not None:
            line += f", best {describe_value(self.metric, best.value)} ({best.name})"
        left = time_left(counts, self.max_trials, now.run_seconds)
        return line + (f", about {elapsed_text(left)} left" if left is not None else "")

    def finish_line(self, trial: TuningTrial) -> str:
        status = trial.status
        value = describe_value(self.metric, status.metrics.get(self.metric))
        line = f"{trial.metadata['name']}  {status.phase:<12} {value}  "
        line += describe_params(trial.spec.parameters)
        if status.phase != "Succeeded" and status.message:
            line += "\n    " + status.message.replace("\n", "\n    ")
        return line

    @abstractmethod
    def say(self, text: str) -> None: ...

    @abstractmethod
    def trial_started(self, trial: TuningTrial) -> None: ...

    @abstractmethod
    def progress(self, now: Progress) -> None:
        """Called on every step of the runner; each view decides what is worth showing."""

    def trial_done(self, trial: TuningTrial) -> None:
        self.say(self.finish_line(trial))

    @abstractmethod
    def close(self) -> None:
        """Called once the run ends, before the summary."""

    def summary(
        self, name: str, finish: Finish, best: TuningTrial | None, root: str,
        pareto: ParetoFront | None = None,
    ) -> None:  # fmt: skip
        lines = ["", f"Experiment {name} {finish.phase.lower()}: {finish.message}."]
        if best is not None:
            value = describe_value(self.metric, best.status.metrics.get(self.metric))
            lines.append(f"Best trial {best.metadata['name']}: {value}")
            lines.append(f"  parameters: {describe_params(best.spec.parameters, exact=True)}")
        if pareto is not None:
            lines.append(f"Pareto front: {front_summary(pareto)}; kubetune best {name}")
        lines.append(f"Results in {root}/{name}/; plots: kubetune plot {name}")
        self.write("\n".join(lines) + "\n")


class PlainConsole(Console):
    """Timestamped lines, for a log."""

    def __init__(self, out: TextIO, metric: str, max_trials: int) -> None:
        super().__init__(out, metric, max_trials)
        self.shown_finished = -1
        self.shown_steps: dict[str, tuple[int, float]] = {}  # trial: (step, when shown)

    def say(self, text: str) -> None:
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.write(f"{stamp} {text}\n")

    def trial_started(self, trial: TuningTrial) -> None:
        self.say(f"{trial.metadata['name']}  started      {describe_params(trial.spec.parameters)}")

    def progress(self, now: Progress) -> None:
        for trial in now.running:
            self.trial_progress(trial)
        if now.counts.finished != self.shown_finished:  # one line per finished trial
            self.say(self.overall(now))
            self.shown_finished = now.counts.finished

    def trial_progress(self, trial: TuningTrial) -> None:
        """A line when the trial reached a new step, at most every few seconds."""
        name, step = str(trial.metadata["name"]), last_step(trial)
        shown_step, shown_at = self.shown_steps.get(name, (None, 0.0))
        if (
            step is None
            or step == shown_step
            or time.monotonic() - shown_at < PLAIN_PROGRESS_SECONDS
        ):
            return
        self.shown_steps[name] = (step, time.monotonic())
        value = shown_metric(trial, self.metric)
        elapsed = elapsed_text(trial_elapsed(trial))
        self.say(f"{name}  step {step:<7} {self.metric}={value}  ({elapsed})")

    def close(self) -> None:
        """Every line is already written."""


def open_console(out: TextIO, metric: str, max_trials: int) -> Console:
    """The live view for a person at a terminal, plain lines for everything else."""
    if not out.isatty() or os.environ.get("TERM") == "dumb":
        return PlainConsole(out, metric, max_trials)
    from kubetune.local.live_view import LiveConsole  # rich only when a person watches

    return LiveConsole(out, metric, max_trials)


def silence(stream: TextIO) -> None:
    """Send what `stream` still holds, and anything later, to /dev/null."""
    with contextlib.suppress(OSError, ValueError):  # no descriptor (a StringIO): nothing to do
        descriptor = stream.fileno()
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, descriptor)
        os.close(devnull)
