"""Katib's `spec.metricsCollectorSpec`: never carried over, always explained.

kubetune has one way in for metrics (`kubetune metric name=value` lines on stdout, or the
same reports appended to $KUBETUNE_METRICS_FILE by `kubetune.reporting.report`), so each
Katib collector becomes a note saying how its trainer must report instead.
"""

from __future__ import annotations

from typing import Any

from kubetune.convert.findings import Findings

WHERE = "spec.metricsCollectorSpec"
DEFAULT_COLLECTOR = "StdOut"  # Katib's collector when the spec names none
_PRINT_INSTEAD = "the trainer must print `kubetune metric {metric}=<value> step=<n>` lines"
_HOW_TO_REPORT = {
    "StdOut": "kubetune ignores Katib's `{metric}=<value>` lines: " + _PRINT_INSTEAD,
    "File": "kubetune reads $KUBETUNE_METRICS_FILE, not {path}: append `kubetune metric` lines",
    "TensorFlowEvent": "kubetune reads no TensorFlow event files: " + _PRINT_INSTEAD,
    "PrometheusMetric": "kubetune scrapes no Prometheus endpoint: " + _PRINT_INSTEAD,
    "Custom": "kubetune runs no custom collector: " + _PRINT_INSTEAD,
    "None": "kubetune always collects metrics: " + _PRINT_INSTEAD,
    "Push": "call kubetune.reporting.report(step=..., {metric}=...) in place of report_metrics",
}


def explain_metrics_collector(spec: dict[str, Any], metric: str, findings: Findings) -> None:
    """One note for the collector kind (Katib's default too) and one for a filter."""
    collector = spec.get("metricsCollectorSpec") or {}
    source = collector.get("source") or {}
    kind = (collector.get("collector") or {}).get("kind", DEFAULT_COLLECTOR)
    path = (source.get("fileSystemPath") or {}).get("path", "the file")
    how = _HOW_TO_REPORT.get(kind, "an unknown collector: " + _PRINT_INSTEAD)
    findings.drop(f"{WHERE}.collector.kind", f"{kind}: " + how.format(metric=metric, path=path))
    if (source.get("filter") or {}).get("metricsFormat"):
        findings.drop(f"{WHERE}.source.filter.metricsFormat", "kubetune's line format is fixed")
