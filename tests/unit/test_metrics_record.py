"""Recording reports on a trial's status: idempotent under resends, rewinds for a
restarted trainer, keeps the curve capped, and patches only the fields it owns."""

from __future__ import annotations

from kubetune.api.trial import MAX_CURVE_POINTS, TuningTrialStatus
from kubetune.planning.metrics_record import metrics_status_patch, record_reports
from kubetune.reporting.protocol import MetricReport


def steps(status: TuningTrialStatus) -> list[int]:
    return [point.step for point in status.curve]


def test_records_latest_values_and_the_curve() -> None:
    status = TuningTrialStatus(phase="Running")
    record_reports(
        status, [MetricReport(1, {"acc": 0.5, "loss": 2.0}), MetricReport(2, {"acc": 0.6})]
    )
    assert status.metrics == {"acc": 0.6, "loss": 2.0}
    assert steps(status) == [1, 2] and status.curve[1].values == {"acc": 0.6}


def test_a_resent_batch_changes_nothing() -> None:
    batch = [MetricReport(step, {"acc": step / 10}) for step in range(1, 4)]
    status = TuningTrialStatus()
    record_reports(status, batch)
    once = status.model_copy(deep=True)
    record_reports(status, batch)
    assert status == once


def test_a_restarted_trainer_replaces_the_old_attempt() -> None:
    status = TuningTrialStatus()
    record_reports(status, [MetricReport(step, {"acc": 0.9}) for step in range(5)])
    record_reports(status, [MetricReport(0, {"acc": 0.1}), MetricReport(1, {"acc": 0.2})])
    assert steps(status) == [0, 1]
    assert status.metrics == {"acc": 0.2}


def test_reports_without_a_step_update_only_the_latest_values() -> None:
    status = TuningTrialStatus()
    record_reports(status, [MetricReport(None, {"acc": 0.7})])
    assert status.metrics == {"acc": 0.7} and status.curve == []


def test_the_curve_stays_capped() -> None:
    status = TuningTrialStatus()
    record_reports(status, [MetricReport(step, {"acc": 0.5}) for step in range(1000)])
    assert len(status.curve) <= MAX_CURVE_POINTS
    assert steps(status)[0] == 0 and steps(status)[-1] == 999
    assert steps(status) == sorted(set(steps(status)))


def test_the_patch_holds_only_metrics_and_curve() -> None:
    status = TuningTrialStatus(phase="Running", job_name="j")
    record_reports(status, [MetricReport(3, {"acc": 0.5})])
    assert metrics_status_patch(status) == {
        "metrics": {"acc": 0.5},
        "curve": [{"step": 3, "values": {"acc": 0.5}}],
    }
