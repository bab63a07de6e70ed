"""The live view of `kubetune run` on a terminal, drawn with rich: a table of the running
trials (step, last objective value, elapsed time) with the overall progress under it,
redrawn a few times a second; finished trials scroll above it. rich is imported only
here, so a run into a log file or a pipe never loads it.
"""

from __future__ import annotations

import time
from typing import Any, TextIO

from rich import box
from rich.console import Console as RichConsole
from rich.console import Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from kubetune.api import TuningTrial
from kubetune.local.console import Console, Progress
from kubetune.local.describe import (
    describe_params,
    elapsed_text,
    last_step,
    shown_metric,
    trial_elapsed,
)

LIVE_REFRESH_SECONDS = 0.25  # redraws per second a person can follow, at little CPU


class LiveConsole(Console):
    """A live table on a terminal, redrawn a few times a second."""

    def __init__(self, out: TextIO, metric: str, max_trials: int) -> None:
        super().__init__(out, metric, max_trials)
        self.screen = RichConsole(file=out, highlight=False)
        # transient: at the end the table goes; the finished trials stay above it
        self.live: Live = Live(console=self.screen, auto_refresh=False, transient=True)
        self.drawn_at = 0.0
        self.guarded(self.live.start)

    def say(self, text: str) -> None:
        self.guarded(lambda: self.screen.print(Text(text)))  # Text: "[" is not markup

    def trial_started(self, trial: TuningTrial) -> None:
        """Shown by the table at the next redraw."""

    def progress(self, now: Progress) -> None:
        if time.monotonic() - self.drawn_at < LIVE_REFRESH_SECONDS:
            return
        self.drawn_at = time.monotonic()
        view = self.view(now)
        self.guarded(lambda: self.live.update(view, refresh=True))

    def view(self, now: Progress) -> Any:
        table = Table("RUNNING", "STEP", self.metric, "ELAPSED", "PARAMETERS", box=box.SIMPLE_HEAD)
        for trial in now.running:
            step = last_step(trial)
            table.add_row(
                str(trial.metadata["name"]),
                "-" if step is None else str(step),
                shown_metric(trial, self.metric),
                elapsed_text(trial_elapsed(trial)),
                describe_params(trial.spec.parameters),
            )
        return Group(table, Text(self.overall(now)))

    def close(self) -> None:
        """The live view stops redrawing; what it showed last stays on the screen."""
        self.guarded(self.live.stop)
