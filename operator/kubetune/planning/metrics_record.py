"""Fold accepted reports into a trial's status: latest values and the capped curve.

Delivery is at-least-once: a reporter resends a batch whose answer it never got. So
recording must be idempotent: a report at a step the curve already has (or an earlier
one) rewinds the curve to that step before appending. Resending a batch therefore
rewrites the same points, and a retried trainer that starts again at step 0 replaces the
old attempt's curve instead of breaking its strictly increasing steps.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kubetune.api.base import dump_resource
from kubetune.api.trial import CurvePoint, TuningTrialStatus, append_curve_point
from kubetune.reporting.protocol import MetricReport


def record_reports(status: TuningTrialStatus, reports: Iterable[MetricReport]) -> None:
    """Record reports in the order the trainer made them. Reports without a step only
    update the latest values: a curve point needs a position."""
    for report in reports:
        status.metrics = {**status.metrics, **report.metrics}
        if report.step is not None:
            kept = rewind_curve(status.curve, report.step)
            status.curve = append_curve_point(kept, report.step, report.metrics)


def rewind_curve(curve: list[CurvePoint], step: int) -> list[CurvePoint]:
    """The curve without the points at or after `step` (usually all of it)."""
    if not curve or curve[-1].step < step:
        return curve
    return [point for point in curve if point.step < step]


def metrics_status_patch(status: TuningTrialStatus) -> dict[str, Any]:
    """The merge patch for the trial's status subresource. Only the fields the ingest
    path owns, so it never overwrites the phase that the handlers write."""
    document = dump_resource(status)
    return {"metrics": document.get("metrics", {}), "curve": document.get("curve", [])}
