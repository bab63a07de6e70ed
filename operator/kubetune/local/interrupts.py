"""Stopping ``kubetune run`` in order, whatever asks for it.

Ctrl-C (SIGINT), SIGTERM (what ``kill``, systemd, Docker and CI runners send) and SIGHUP
(the terminal closed) all mean "stop now, resume later": the runner finishes the step it
is in, stops its trainers, saves the store with an ``Interrupted`` condition and exits
with 128 + the signal's number. A closed stdout (``kubetune run ... | head``) is the same
request under SIGPIPE's number: the Unix convention that a writer ends when its reader
goes, so the shell gets its prompt back instead of waiting, silent, for the whole search.

A signal handler only records the request; the runner acts on it between steps. Raising
in the middle of a step could leave a trial settled in memory and not on disk. A second
signal raises at once, the way out should a step ever hang; once the runner is winding
down (stopping trainers, saving), further signals are ignored so that the save completes.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
CAUSES = {
    signal.SIGINT: "Ctrl-C",
    signal.SIGTERM: "SIGTERM",
    signal.SIGHUP: "SIGHUP: its terminal closed",
    signal.SIGPIPE: "its output was closed",
}


class Interrupted(KeyboardInterrupt):
    """The run stopped on request; it resumes when run again."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class StopRequest:
    """Whether (and why) the runner should stop at its next safe point."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.winding_down = False

    def ask(self, signum: int) -> None:
        if self.winding_down:
            return
        if self.signum is not None:
            raise Interrupted(signum)
        self.signum = signum

    def raise_if_asked(self) -> None:
        if self.signum is not None:
            raise Interrupted(self.signum)

    def cause(self) -> str:
        """Why the run stopped, in words; no request means an error stopped it."""
        if self.signum is None:
            return "an error"
        return CAUSES.get(signal.Signals(self.signum), f"signal {self.signum}")


@contextmanager
def signals_ask_to_stop(request: StopRequest) -> Iterator[None]:
    """While inside, STOP_SIGNALS call `request.ask`. A signal already ignored stays
    ignored: under ``nohup`` (SIGHUP) or as a background job of a script (SIGINT) the
    user asked for the run to outlive them. Python allows handlers only in the main
    thread; elsewhere (a runner embedded in a program's thread) nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(signum: int, _frame: FrameType | None) -> None:
        request.ask(signum)

    listened = [number for number in STOP_SIGNALS if signal.getsignal(number) != signal.SIG_IGN]
    previous = {number: signal.signal(number, handle) for number in listened}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler if handler is not None else signal.SIG_DFL)
