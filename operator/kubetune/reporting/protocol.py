"""The metrics protocol between a trainer and whoever watches it (the reporter sidecar, the
local runner).

Two encodings of one `MetricReport`:

- a line on stdout: ``kubetune metric val_accuracy=0.93 loss=0.2 step=5``, so any trainer
  in any language can report with a print statement;
- a JSON line in a metrics file: ``{"step": 5, "metrics": {"val_accuracy": 0.93}}``.

Parsing never raises: trainer output is untrusted text, and one bad line must not take
down the process that reads it. A diverged value (``nan``, ``inf``) is a measurement, not
a typo: it is parsed, and the trial lifecycle (planning/lifecycle.py) decides what it
means, so a trainer that diverges is never judged by its last finite value. Ordinary
output gives ``None``; a line that is meant for us but is malformed gives a `ParseError`
whose reason can be shown to the user.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

LINE_PREFIX = ("kubetune", "metric")
STEP_KEY = "step"
MAX_LINE_CHARS = 8192  # bounds the work per line; a real report is far shorter
# Steps are stored as JSON integers; beyond 10^12 no training run counts, and larger
# numbers lose precision in JSON readers that use doubles.
MAX_STEP = 10**12

# The one definition of a metric name; the CRD's rule for spec.objective.metric uses it too,
# so an experiment can only name a metric its trainers are able to report.
METRIC_NAME_PATTERN = r"[A-Za-z_][A-Za-z0-9_./-]*"
_METRIC_NAME = re.compile(METRIC_NAME_PATTERN)
# Plain decimal notation, or the non-finite words Python and C print for a diverged value
# (Python's float() alone would also take "1_0" or "infinity").
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?:nan|inf)", re.I)
_STEP = re.compile(r"\d+")


@dataclass(frozen=True)
class MetricReport:
    """One report from a trainer: metric values, optionally at a training step (epoch)."""

    step: int | None
    metrics: dict[str, float]


@dataclass(frozen=True)
class ParseError:
    """A line addressed to kubetune that could not be understood, and why."""

    reason: str
    line: str


def is_metric_name(name: str) -> bool:
    return _METRIC_NAME.fullmatch(name) is not None and name != STEP_KEY


def parse_line(line: str) -> MetricReport | ParseError | None:
    """Parse one stdout line; `None` when the line is ordinary trainer output."""
    tokens = line.split()
    if tuple(tokens[:2]) != LINE_PREFIX:
        return None
    if len(line) > MAX_LINE_CHARS:
        return ParseError(f"line longer than {MAX_LINE_CHARS} characters", line[:200])
    parsed = _parse_pairs(tokens[len(LINE_PREFIX) :])
    if isinstance(parsed, str):
        return ParseError(parsed, line)
    return _finish(*parsed, line)


def _parse_pairs(pairs: list[str]) -> tuple[int | None, dict[str, float]] | str:
    """The step and metrics of ``name=value`` tokens, or the reason they are rejected."""
    step: int | None = None
    metrics: dict[str, float] = {}
    for token in pairs:
        name, equals, text = token.partition("=")
        if not equals:
            return f"expected name=value, got {token!r}"
        if name == STEP_KEY and step is not None:
            return "step given twice"
        parsed = _parse_step(text) if name == STEP_KEY else _parse_metric(name, text, metrics)
        if isinstance(parsed, str):
            return parsed
        if name == STEP_KEY:
            step = int(parsed)
        else:
            metrics[name] = parsed
    return step, metrics


def _parse_metric(name: str, text: str, seen: dict[str, float]) -> float | str:
    """The value of one ``name=value`` pair, or the reason it is rejected."""
    if not is_metric_name(name):
        return f"invalid metric name {name!r} (want {METRIC_NAME_PATTERN})"
    if name in seen:
        return f"metric {name!r} given twice"
    if not _NUMBER.fullmatch(text):
        return f"metric {name!r}: {text!r} is not a number"
    return float(text)


def number_of(text: str) -> float | None:
    """The value a trainer printed, in the protocol's number syntax; None for anything else."""
    return float(text) if _NUMBER.fullmatch(text) else None


def _parse_step(text: str) -> int | str:
    if not _STEP.fullmatch(text) or int(text) > MAX_STEP:
        return f"step must be an integer from 0 to {MAX_STEP}, got {text[:40]!r}"
    return int(text)


def _finish(step: int | None, metrics: dict[str, float], line: str) -> MetricReport | ParseError:
    if not metrics:
        return ParseError("no metrics in the line", line)
    return MetricReport(step=step, metrics=metrics)


def parse_json_line(line: str) -> MetricReport | ParseError | None:
    """Parse one line of a metrics file; `None` for a blank line. Unknown keys are ignored,
    so newer trainers can add fields that older readers skip."""
    if not line.strip():
        return None
    if len(line) > MAX_LINE_CHARS:
        return ParseError(f"line longer than {MAX_LINE_CHARS} characters", line[:200])
    try:
        document = json.loads(line)
    except (ValueError, RecursionError) as error:  # ValueError: also over-long integers
        return ParseError(f"invalid JSON: {error}", line)
    if not isinstance(document, dict):
        return ParseError("expected a JSON object", line)
    step = document.get(STEP_KEY)
    if step is not None and (type(step) is not int or not 0 <= step <= MAX_STEP):
        return ParseError(f"step must be an integer from 0 to {MAX_STEP}, got {step!r}", line)
    raw_metrics = document.get("metrics")
    if not isinstance(raw_metrics, dict):
        return ParseError('expected "metrics" to be an object of name: number', line)
    metrics_or_error = _json_metrics(raw_metrics)
    if isinstance(metrics_or_error, str):
        return ParseError(metrics_or_error, line)
    return _finish(step, metrics_or_error, line)


def _json_metrics(raw: dict[object, object]) -> dict[str, float] | str:
    metrics: dict[str, float] = {}
    for name, value in raw.items():
        if not isinstance(name, str) or not is_metric_name(name):
            return f"invalid metric name {name!r} (want {METRIC_NAME_PATTERN})"
        number = _number(value)
        if number is None:
            return f"metric {name!r}: {str(value)[:40]!r} is not a number"
        metrics[name] = number
    return metrics


def _number(value: object) -> float | None:
    """json.loads reads NaN and Infinity as floats: kept, like ``nan`` on a line."""
    # bool is an int subclass, but `true` is no measurement
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return float(value)
    except OverflowError:  # an integer beyond the float range
        return None


def format_line(report: MetricReport) -> str:
    """The stdout encoding; `repr` of a float is the shortest text that reads back exactly."""
    pairs = [f"{name}={value!r}" for name, value in report.metrics.items()]
    if report.step is not None:
        pairs.append(f"{STEP_KEY}={report.step}")
    return " ".join([*LINE_PREFIX, *pairs])


def format_json_line(report: MetricReport) -> str:
    """The metrics-file encoding; a non-finite value is written as NaN or Infinity, which
    every JSON reader of this project (json.loads) accepts."""
    return json.dumps({STEP_KEY: report.step, "metrics": report.metrics})
