"""Metric lines in a trainer's own format: the experiment's `spec.trial.metricsFormat`.

Why: a trainer written for Katib prints ``loss=0.3``, often through `logging`
(``INFO:root:loss=0.3``) and often on stderr. Rewriting every print as a
``kubetune metric`` line is a migration cost for nothing, so an experiment may list
regular expressions (Python `re` syntax) that are *searched* in every printed line, so
prefixes do not matter. Our own lines are always understood, and never through a format.

A format names its groups ``name`` and ``value``, or has exactly two groups (name, then
value). Every match in a line counts, but only for the metrics the experiment records
(its objective and additional metrics) and for ``step``: a loose pattern also matches
``epoch=3`` or ``lr=0.1``, which must not crowd out the metric names a trial may record.

Steps: a line with a ``step=N`` match is at step N. Otherwise the line joins the current
step, and a new step begins when a metric already reported at the current step repeats
(the first step is 1): a trainer printing ``loss=...`` and ``accuracy=...`` once per epoch,
on one line or two, gets the epoch's number as its step. Each report carries every value
of its step so far, because a report at the step the curve ends at replaces that point
(planning.lifecycle.rewind_curve).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence

from kubetune.reporting.protocol import (
    MAX_LINE_CHARS,
    MAX_STEP,
    STEP_KEY,
    MetricReport,
    ParseError,
    number_of,
    parse_line,
)

# A few patterns of bounded size: each one is searched in every line a trainer prints.
MAX_FORMATS = 4
MAX_FORMAT_CHARS = 256
NAMED_GROUPS = ("name", "value")
Groups = tuple[str, str] | tuple[int, int]


def format_problem(pattern: str) -> str | None:
    """Why `pattern` cannot be a metrics format; None when it can."""
    try:
        compiled = re.compile(pattern)
    except re.error as error:
        return f"must be a valid regular expression ({error})"
    if _groups(compiled) is None:
        return "must have the named groups name and value, or exactly two groups"
    return None


def _groups(compiled: re.Pattern[str]) -> Groups | None:
    """Which groups hold a match's name and value: the named ones, else the only two."""
    if set(NAMED_GROUPS) <= compiled.groupindex.keys():
        return NAMED_GROUPS
    return (1, 2) if compiled.groups == 2 else None


class LineReader:
    """A trainer's printed lines, read in order into reports: our own lines, and lines
    in the experiment's formats for the metrics it records. Shared by the two streams of
    a local trial (stdout and stderr, read on two threads), as one container log holds
    both on a cluster."""

    def __init__(self, formats: Sequence[str] = (), metrics: Iterable[str] = ()) -> None:
        compiled = (re.compile(pattern) for pattern in formats if not format_problem(pattern))
        self.formats = [(pattern, _groups(pattern) or NAMED_GROUPS) for pattern in compiled]
        self.metrics = frozenset(metrics)
        self.step = 0
        self.at_step: dict[str, float] = {}
        self.lock = threading.Lock()

    def read(self, line: str) -> MetricReport | ParseError | None:
        """The report a line makes; None for ordinary output."""
        ours = parse_line(line)
        if ours is not None or not self.formats or len(line) > MAX_LINE_CHARS:
            return ours
        found = self._matches(line)
        if not found.keys() - {STEP_KEY}:
            return None
        with self.lock:
            return self._at_step(found)

    def _matches(self, line: str) -> dict[str, float]:
        """The first value of each recorded metric (and step) that the formats find."""
        found: dict[str, float] = {}
        for pattern, (name_group, value_group) in self.formats:
            for match in pattern.finditer(line):
                name, text = match.group(name_group), match.group(value_group)
                value = number_of(text) if name and text else None
                if value is not None and (name in self.metrics or name == STEP_KEY):
                    found.setdefault(name, value)
        return found

    def _at_step(self, found: dict[str, float]) -> MetricReport:
        given = found.pop(STEP_KEY, None)
        step = _step(given) if given is not None else None
        if step is None:
            repeats = not self.at_step.keys().isdisjoint(found)
            step = self.step + 1 if repeats or self.step == 0 else self.step
        if step != self.step:
            self.step, self.at_step = step, {}
        self.at_step.update(found)
        return MetricReport(step, dict(self.at_step))


def _step(value: float) -> int | None:
    """A printed step, when it is one: a whole number in the protocol's range."""
    return int(value) if value.is_integer() and 0 <= value <= MAX_STEP else None
