"""Katib's `spec.metricsCollectorSpec` as kubetune's `spec.trial.metricsFormat`, or a note.

Katib's default collector, StdOut, reads a trainer's printed lines (stdout and stderr)
with regular expressions: Katib's default one reads `loss=0.3`, and a
`source.filter.metricsFormat` list replaces it. Katib takes the first group of each match
as the metric's name and the second as its value. kubetune's `spec.trial.metricsFormat`
reads the same lines, so such a trainer needs no change: each expression is carried over
with that reading made explicit (groups 1 and 2 named `name` and `value`, any other
group made non-capturing). The other collectors have no counterpart in kubetune and
become a note saying how the trainer must report instead.
"""

from __future__ import annotations

import re
from typing import Any

from kubetune.convert.findings import Findings
from kubetune.reporting.line_formats import (
    MAX_FORMAT_CHARS,
    MAX_FORMATS,
    NAMED_GROUPS,
    format_problem,
)

WHERE = "spec.metricsCollectorSpec"
FILTER_WHERE = f"{WHERE}.source.filter.metricsFormat"
DEFAULT_COLLECTOR = "StdOut"  # Katib's collector when the spec names none
# Katib's StdOut filter when the spec gives none (its metricscollector/v1beta1/common).
KATIB_DEFAULT_FORMAT = r"([\w|-]+)\s*=\s*([+-]?\d*(\.\d+)?([Ee][+-]?\d+)?)"
_PRINT_INSTEAD = "the trainer must print `kubetune metric {metric}=<value> step=<n>` lines"
_HOW_TO_REPORT = {
    "File": "kubetune reads $KUBETUNE_METRICS_FILE, not {path}: append `kubetune metric` lines",
    "TensorFlowEvent": "kubetune reads no TensorFlow event files: " + _PRINT_INSTEAD,
    "PrometheusMetric": "kubetune scrapes no Prometheus endpoint: " + _PRINT_INSTEAD,
    "Custom": "kubetune runs no custom collector: " + _PRINT_INSTEAD,
    "None": "kubetune always collects metrics: " + _PRINT_INSTEAD,
    "Push": "call kubetune.reporting.report(step=..., {metric}=...) in place of report_metrics",
}
# One token of a regular expression: an escape, a character class, a capturing group's
# opening (a parenthesis not followed by `?`), or any other character.
_TOKEN = re.compile(r"\\.|\[\^?\]?(?:\\.|[^\]\\])*\]|\((?!\?)|.", re.DOTALL)


def convert_metrics_collector(spec: dict[str, Any], metric: str, findings: Findings) -> list[str]:
    """kubetune's metricsFormat for Katib's StdOut collector; a note for any other."""
    collector = spec.get("metricsCollectorSpec") or {}
    source = collector.get("source") or {}
    kind = (collector.get("collector") or {}).get("kind", DEFAULT_COLLECTOR)
    formats = (source.get("filter") or {}).get("metricsFormat") or []
    if kind == DEFAULT_COLLECTOR:
        return convert_formats(formats or [KATIB_DEFAULT_FORMAT], findings)
    path = (source.get("fileSystemPath") or {}).get("path", "the file")
    how = _HOW_TO_REPORT.get(kind, "an unknown collector: " + _PRINT_INSTEAD)
    findings.drop(f"{WHERE}.collector.kind", f"{kind}: " + how.format(metric=metric, path=path))
    if formats:
        findings.drop(FILTER_WHERE, f"kubetune reads no lines of the {kind} collector")
    return []


def convert_formats(formats: list[Any], findings: Findings) -> list[str]:
    """The Katib filters kubetune can read the same way, at most MAX_FORMATS of them."""
    converted: list[str] = []
    for index, katib_format in enumerate(formats):
        where = f"{FILTER_WHERE}[{index}]"
        ours, problem = as_metrics_format(str(katib_format))
        if problem is None and len(converted) == MAX_FORMATS:
            problem = f"kubetune reads at most {MAX_FORMATS} formats"
        if problem is None:
            converted.append(ours)
        else:
            findings.drop(where, f"{katib_format!r}: {problem}, so its lines are not read")
    return converted


def as_metrics_format(katib_format: str) -> tuple[str, str | None]:
    """(the expression as kubetune's metricsFormat, why it cannot be one, or None)."""
    keep = _readable_as_is(katib_format)
    ours = katib_format if keep else name_first_two_groups(katib_format)
    if len(ours) > MAX_FORMAT_CHARS:
        return ours, f"kubetune reads formats of at most {MAX_FORMAT_CHARS} characters"
    return ours, format_problem(ours)


def _readable_as_is(pattern: str) -> bool:
    """Two groups or the named ones already; or groups of its own names, which a rewrite
    would count wrong; or no valid expression at all (the note says why)."""
    try:
        return format_problem(pattern) is None or bool(re.compile(pattern).groupindex)
    except re.error:
        return True


def name_first_two_groups(pattern: str) -> str:
    """`pattern` with its first two capturing groups named `name` and `value` and the
    later ones non-capturing."""
    openings = iter(f"(?P<{group}>" for group in NAMED_GROUPS)
    tokens = (match.group(0) for match in _TOKEN.finditer(pattern))
    return "".join(next(openings, "(?:") if token == "(" else token for token in tokens)
