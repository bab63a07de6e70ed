"""What the local runner prints: one line per finished trial, a live progress line, and
a closing summary with the best trial and how to look at the results.

On a terminal the progress line rewrites itself in place; in a log file (or under
pytest) it is printed only when it changes, so logs stay readable.
"""

from __future__ import annotations

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

    def say(self, text: str) -> None:
        if self.live and self.shown:
            self.out.write("\r" + " " * len(self.shown) + "\r")
        self.out.write(text + "\n")
        self.out.flush()
        if self.live and self.shown:
            self.out.write(self.shown)

    def progress(self, counts: TrialCounts, best: TrialRecord | None) -> None:
        done = counts.succeeded + counts.failed + counts.stopped
        line = f"[{done}/{self.max_trials} done] {counts.running} running"
        if best is not None:
            line += f", best {describe_value(self.metric, best.value)} ({best.name})"
        if line == self.shown:
            return
        if self.live:
            self.out.write("\r" + line.ljust(len(self.shown)))
        elif done != self.done:  # a log gets one line per finished trial, not per start
            self.out.write(line + "\n")
        self.done = done
        self.out.flush()
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
        if self.live:
            self.out.write("\n")
        self.out.write(f"\nExperiment {name} {finish.phase.lower()}: {finish.message}.\n")
        if best is not None:
            value = describe_value(self.metric, best.status.metrics.get(self.metric))
            self.out.write(f"Best trial {best.metadata['name']}: {value}\n")
            self.out.write(f"  parameters: {describe_params(best.spec.parameters, exact=True)}\n")
        self.out.write(f"Results in {root}/{name}/; plots: kubetune plot {name}\n")
        self.out.flush()
