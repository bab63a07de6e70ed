"""The trial lifecycle both runtimes share: recording reports (idempotent, capped,
refused once the trial is finished), non-finite objectives, and settling with a reason."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from kubetune.api.trial import MAX_CURVE_POINTS, TuningTrialStatus
from kubetune.planning.lifecycle import (
    MAX_METRIC_NAMES,
    Outcome,
    Refusal,
    TrialReason,
    conclude,
    exit_outcome,
    record_reports,
    settle,
)
from kubetune.planning.status import lifecycle_document
from kubetune.reporting.protocol import MetricReport

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
RUNNING = TuningTrialStatus(phase="Running")


def record(status: TuningTrialStatus, *reports: MetricReport) -> TuningTrialStatus:
    recorded = record_reports(status, reports, ("acc",), NOW)
    assert isinstance(recorded, TuningTrialStatus), recorded
    return recorded


def steps(status: TuningTrialStatus) -> list[int]:
    return [point.step for point in status.curve]


def test_records_latest_values_and_the_curve() -> None:
    status = record(
        RUNNING, MetricReport(1, {"acc": 0.5, "loss": 2.0}), MetricReport(2, {"acc": 0.6})
    )
    assert status.metrics == {"acc": 0.6, "loss": 2.0}
    assert steps(status) == [1, 2] and status.curve[1].values == {"acc": 0.6}
    assert RUNNING.metrics == {}, "recording returns a new status"


def test_the_objective_value_is_kept_apart_for_the_value_column() -> None:
    status = record(RUNNING, MetricReport(1, {"loss": 2.0}))
    assert status.value is None, "no objective reported yet"
    status = record(status, MetricReport(2, {"acc": 0.5}), MetricReport(3, {"loss": 1.0}))
    assert status.value == 0.5, "a later report without the objective keeps its value"
    status = record(status, MetricReport(None, {"acc": 0.0}))
    assert status.value == 0.0 and lifecycle_document(status)["value"] == 0.0


def test_a_resent_batch_changes_nothing() -> None:
    batch = [MetricReport(step, {"acc": step / 10}) for step in range(1, 4)]
    once = record(RUNNING, *batch)
    assert record(once, *batch) == once


def test_each_step_keeps_the_time_it_was_first_recorded() -> None:
    first = record(RUNNING, MetricReport(1, {"acc": 0.1}))
    later = NOW + timedelta(seconds=1.25)
    resent_and_grown = [MetricReport(1, {"acc": 0.1}), MetricReport(2, {"acc": 0.2})]
    grown = record_reports(first, resent_and_grown, "acc", later)
    assert isinstance(grown, TuningTrialStatus)
    assert [point.at for point in grown.curve] == [NOW, later]
    assert lifecycle_document(grown)["curve"][1]["at"] == "2026-01-02T03:04:06.250000Z"


def test_a_restarted_trainer_replaces_the_old_attempt() -> None:
    status = record(RUNNING, *(MetricReport(step, {"acc": 0.9}) for step in range(5)))
    status = record(status, MetricReport(0, {"acc": 0.1}), MetricReport(1, {"acc": 0.2}))
    assert steps(status) == [0, 1] and status.metrics == {"acc": 0.2}


def test_reports_without_a_step_update_only_the_latest_values() -> None:
    status = record(RUNNING, MetricReport(None, {"acc": 0.7}))
    assert status.metrics == {"acc": 0.7} and status.curve == []


def test_the_curve_stays_capped() -> None:
    status = record(RUNNING, *(MetricReport(step, {"acc": 0.5}) for step in range(1000)))
    assert len(status.curve) <= MAX_CURVE_POINTS
    assert steps(status)[0] == 0 and steps(status)[-1] == 999
    assert steps(status) == sorted(set(steps(status)))


def test_min_and_max_strategies_record_the_extremes_and_keep_the_curve_per_step() -> None:
    reports = [MetricReport(step, {"acc": acc, "loss": loss}) for step, acc, loss in
               [(1, 0.5, 2.0), (2, 0.8, 0.9), (3, 0.7, 1.2)]]  # fmt: skip
    status = record_reports(RUNNING, reports, ("acc",), NOW, {"acc": "max", "loss": "min"})
    assert isinstance(status, TuningTrialStatus)
    assert status.metrics == {"acc": 0.8, "loss": 0.9}
    assert [point.values["acc"] for point in status.curve] == [0.5, 0.8, 0.7]
    latest = record(RUNNING, *reports)
    assert latest.metrics == {"acc": 0.7, "loss": 1.2}, "latest stays the default"


def test_a_strategy_spans_reports_without_a_step_and_resends() -> None:
    strategies = {"acc": "max"}
    once = record_reports(RUNNING, [MetricReport(1, {"acc": 0.9})], ("acc",), NOW, strategies)
    assert isinstance(once, TuningTrialStatus)
    final = [MetricReport(None, {"acc": 0.6})]
    twice = record_reports(once, final * 2, ("acc",), NOW, strategies)
    assert isinstance(twice, TuningTrialStatus) and twice.metrics == {"acc": 0.9}
    concluded = conclude(
        twice, Outcome("Succeeded", metrics={"acc": 0.95}), ("acc",), NOW, strategies
    )
    assert concluded.phase == "Succeeded" and concluded.metrics == {"acc": 0.95}


def test_a_min_strategy_still_fails_a_diverged_objective() -> None:
    reports = [MetricReport(1, {"loss": 0.5}), MetricReport(2, {"loss": math.nan})]
    failed = record_reports(RUNNING, reports, ("loss",), NOW, {"loss": "min"})
    assert isinstance(failed, TuningTrialStatus)
    assert failed.reason == TrialReason.OBJECTIVE_NOT_FINITE and failed.metrics == {"loss": 0.5}


def test_a_finished_trial_refuses_reports_and_keeps_its_value() -> None:
    done = conclude(
        record(RUNNING, MetricReport(3, {"acc": 0.5})), Outcome("Succeeded"), ("acc",), NOW
    )
    for status in (done, settle(RUNNING, "Failed", TrialReason.EXIT_CODE, "", NOW)):
        refused = record_reports(status, [MetricReport(4, {"acc": 1000.0})], ("acc",), NOW)
        assert refused == Refusal(409, "trial_finished", f"the trial is already {status.phase}")
    assert done.metrics == {"acc": 0.5}


def test_distinct_metric_names_are_capped_and_nothing_of_the_batch_is_recorded() -> None:
    names = {f"m{i}": 1.0 for i in range(MAX_METRIC_NAMES)}
    full = record(RUNNING, MetricReport(1, names))
    refused = record_reports(full, [MetricReport(2, {"acc": 0.1, "one_more": 1.0})], ("acc",), NOW)
    assert isinstance(refused, Refusal) and refused.status == 422
    assert record(full, MetricReport(2, {"m0": 2.0})).metrics["m0"] == 2.0


def test_a_nan_objective_after_a_finite_one_fails_the_trial() -> None:
    status = record(RUNNING, MetricReport(1, {"acc": 0.4}), MetricReport(2, {"acc": math.nan}))
    assert (status.phase, status.reason) == ("Failed", "ObjectiveNotFinite")
    assert "acc=nan at step 2" in (status.message or "")
    assert status.metrics == {"acc": 0.4} and status.completion_time == NOW
    # whatever the workload shows afterwards, the trial keeps that ending
    assert conclude(status, Outcome("Succeeded"), ("acc",), NOW) == status


def test_an_infinite_objective_fails_the_trial_but_other_non_finite_metrics_are_dropped() -> None:
    status = record(RUNNING, MetricReport(1, {"acc": 0.4, "grad": math.inf}))
    assert status.phase == "Running" and status.metrics == {"acc": 0.4}
    status = record(status, MetricReport(2, {"acc": -math.inf}))
    assert status.reason == TrialReason.OBJECTIVE_NOT_FINITE


def test_success_without_the_objective_is_a_failure_in_both_runtimes() -> None:
    status = conclude(
        record(RUNNING, MetricReport(1, {"loss": 1.0})), Outcome("Succeeded"), ("acc",), NOW
    )
    assert (status.phase, status.reason) == ("Failed", "MissingObjectiveMetric")


def test_final_metrics_of_the_workload_are_recorded_before_judging() -> None:
    outcome = Outcome("Succeeded", TrialReason.COMPLETED, metrics={"acc": 0.8})
    status = conclude(RUNNING, outcome, ("acc",), NOW)
    assert (status.phase, status.reason, status.metrics) == ("Succeeded", "Completed", {"acc": 0.8})


def test_an_unfinished_outcome_moves_only_the_phase() -> None:
    assert conclude(TuningTrialStatus(), Outcome("Running"), ("acc",), NOW).phase == "Running"


def test_settling_keeps_the_first_ending() -> None:
    stopped = settle(RUNNING, "EarlyStopped", TrialReason.EARLY_STOPPED, "asha", NOW)
    again = settle(stopped, "EarlyStopped", TrialReason.EXPERIMENT_FINISHED, "done", NOW)
    assert again.reason == "EarlyStopped" and again.message == "asha"


def test_exit_codes_become_outcomes() -> None:
    assert exit_outcome(0, "") == Outcome("Succeeded", TrialReason.COMPLETED)
    crashed = exit_outcome(3, "Traceback\nValueError: boom")
    assert crashed.reason == "ExitCode"
    assert crashed.message == "exited with code 3; last stderr lines:\nTraceback\nValueError: boom"
    assert exit_outcome(-9, "").message == "killed by signal 9"


def test_the_stored_document_uses_kubernetes_timestamps() -> None:
    status = settle(RUNNING, "Failed", TrialReason.TIMEOUT, "slow", NOW)
    assert lifecycle_document(status) == {
        "phase": "Failed", "reason": "TrialTimeout", "message": "slow",
        "completionTime": "2026-01-02T03:04:05Z",
    }  # fmt: skip
