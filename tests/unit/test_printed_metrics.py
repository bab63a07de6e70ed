"""Printed metrics on a cluster: which pod's log is read and when, how a log becomes
reports, and how they land on a trial that the sidecar may already have reported for.
The reports are recorded by the lifecycle in the write that settles the trial; the
bounded read runs against a fake log door."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import yaml

from kubetune.api import parse_experiment
from kubetune.k8s.logs import LogBounds, read_container_log
from kubetune.planning.actions import PatchTrialStatus
from kubetune.planning.printed_metrics import (
    PrintedLog,
    pod_to_read,
    printed_reports,
    reports_in_log,
)
from kubetune.planning.settle import settle_trial
from kubetune.reporting.protocol import MetricReport
from tests.cluster.binaries import REPO_ROOT

PRINTED = "epoch 1 done\nkubetune metric acc=0.5 step=1\nkubetune metric acc=0.75 step=2\n"
VAL_PRINTED = PRINTED.replace("acc", "val_accuracy")
NOW = datetime(2026, 1, 2, tzinfo=UTC)
COMPLETE = {"status": {"conditions": [{"type": "Complete", "status": "True"}]}}
RUNNING_JOB: dict[str, Any] = {"status": {}}
FAILED_JOB = {"status": {"conditions": [{"type": "Failed", "status": "True"}]}}


def pod(name: str, phase: str, created: str = "2026-01-01T00:00:00Z") -> dict[str, Any]:
    exit_code = {"Succeeded": 0, "Failed": 1}.get(phase)
    state = {"running": {}} if exit_code is None else {"terminated": {"exitCode": exit_code}}
    return {
        "metadata": {"name": name, "creationTimestamp": created},
        "status": {"phase": phase, "containerStatuses": [{"name": "trainer", "state": state}]},
    }


def test_ordinary_output_and_malformed_lines_are_skipped() -> None:
    log = PRINTED + "kubetune metric acc=oops\nkubetune metric loss=0.1\n"
    assert reports_in_log(log, truncated=False) == [
        MetricReport(1, {"acc": 0.5}), MetricReport(2, {"acc": 0.75}),
        MetricReport(None, {"loss": 0.1}),
    ]  # fmt: skip


def test_a_line_cut_by_the_byte_limit_is_dropped_but_a_whole_last_line_kept() -> None:
    cut = "kubetune metric acc=0.5 step=1\nkubetune metric acc=0.7"  # was acc=0.75 step=2
    assert reports_in_log(cut, truncated=True) == [MetricReport(1, {"acc": 0.5})]
    assert reports_in_log(cut, truncated=False)[-1] == MetricReport(None, {"acc": 0.7})
    assert len(reports_in_log(PRINTED, truncated=True)) == 2


def test_the_log_is_read_once_the_outcome_is_final_and_only_then() -> None:
    assert pod_to_read(RUNNING_JOB, [pod("p1", "Running")], "trainer") is None
    assert pod_to_read(None, [], "trainer") is None
    assert pod_to_read(RUNNING_JOB, [pod("p1", "Succeeded")], "trainer") == "p1"
    assert pod_to_read(COMPLETE, [], "trainer") is None  # the pod is gone


def test_a_job_still_retrying_is_not_read_and_a_failed_one_reads_its_last_pod() -> None:
    first, second = (
        pod("p1", "Failed", "2026-01-01T00:00:00Z"),
        pod("p2", "Failed", "2026-01-01T00:01:00Z"),
    )
    assert pod_to_read(RUNNING_JOB, [first, pod("p2", "Running")], "trainer") is None
    assert pod_to_read(FAILED_JOB, [second, first], "trainer") == "p2"


def _settled(status: dict[str, Any], printed: list[MetricReport]) -> dict[str, Any]:
    """The status patch of one settling write for a trial whose pod succeeded."""
    trial = {"metadata": {"name": "digits-svc-0001", "resourceVersion": "5"},
             "spec": {"experiment": "digits-svc", "index": 1},
             "status": {"jobName": "digits-svc-0001", **status}}  # fmt: skip
    job, pods = COMPLETE, [pod("digits-svc-0001-abcde", "Succeeded")]
    actions, _ = settle_trial(_experiment(), trial, job, pods, NOW, printed=printed)
    patch = next(action for action in actions if isinstance(action, PatchTrialStatus))
    assert patch.resource_version == "5"  # decided on that read; a newer trial refuses it
    return patch.patch


def test_a_print_only_trial_is_settled_with_its_curve_and_objective_in_one_write() -> None:
    patch = _settled({"phase": "Running"}, reports_in_log(VAL_PRINTED, truncated=False))
    assert (patch["phase"], patch["reason"]) == ("Succeeded", "Completed")
    assert patch["metrics"] == {"val_accuracy": 0.75}
    assert [point["step"] for point in patch["curve"]] == [1, 2]


def test_reports_the_sidecar_already_delivered_change_only_the_phase() -> None:
    delivered = {"phase": "Running", "metrics": {"val_accuracy": 0.75},
                 "curve": [{"step": 1, "values": {"val_accuracy": 0.5}},
                           {"step": 2, "values": {"val_accuracy": 0.75}}]}  # fmt: skip
    patch = _settled(delivered, reports_in_log(VAL_PRINTED, truncated=False))
    assert "metrics" not in patch and "curve" not in patch and patch["phase"] == "Succeeded"


def test_a_tail_without_the_first_steps_keeps_the_sidecars_earlier_points() -> None:
    earlier = {"phase": "Running", "metrics": {"val_accuracy": 0.6},
               "curve": [{"step": 1, "values": {"val_accuracy": 0.5}},
                         {"step": 2, "values": {"val_accuracy": 0.6}}]}  # fmt: skip
    patch = _settled(earlier, [MetricReport(2, {"val_accuracy": 0.75})])
    assert [point["step"] for point in patch["curve"]] == [1, 2]
    assert patch["metrics"] == {"val_accuracy": 0.75}


class LogOnly:
    """Only the log door of `Kube`, for the bounded read."""

    def __init__(self, log: str | Exception) -> None:
        self.log = log

    def read_text(self, path: str, *, query: dict[str, str], timeout_s: float) -> str:
        if isinstance(self.log, Exception):
            raise self.log
        return self.log


def _experiment(metrics_format: list[str] | None = None) -> Any:
    document = yaml.safe_load((REPO_ROOT / "examples" / "quickstart.yaml").read_text())
    document["metadata"]["namespace"] = "ns"
    if metrics_format:
        document["spec"]["trial"]["metricsFormat"] = metrics_format
        document["spec"]["objective"]["strategies"] = {"val_accuracy": "max"}
    return parse_experiment(document)


def test_a_katib_style_log_is_read_with_the_experiments_format_and_strategy() -> None:
    experiment = _experiment([r"(?P<name>[\w-]+)\s*=\s*(?P<value>[-+]?[\d.]+)"])
    log = "INFO:root:val_accuracy=0.8\nINFO:root:epoch=2\nval_accuracy=0.7\n"
    reports = printed_reports(PrintedLog(log, truncated=False), experiment.spec)
    assert reports == [
        MetricReport(1, {"val_accuracy": 0.8}),
        MetricReport(2, {"val_accuracy": 0.7}),
    ]
    assert printed_reports(PrintedLog(log, truncated=False), _experiment().spec) == []
    trial = {"metadata": {"name": "digits-svc-0001", "resourceVersion": "5"},
             "spec": {"experiment": "digits-svc", "index": 1},
             "status": {"jobName": "digits-svc-0001", "phase": "Running"}}  # fmt: skip
    pods = [pod("digits-svc-0001-abcde", "Succeeded")]
    actions, _ = settle_trial(experiment, trial, COMPLETE, pods, NOW, printed=reports)
    patch = next(action for action in actions if isinstance(action, PatchTrialStatus)).patch
    assert patch["phase"] == "Succeeded" and patch["metrics"] == {"val_accuracy": 0.8}


def test_an_unreadable_log_is_none_and_a_full_read_is_marked_truncated() -> None:
    bounds = LogBounds(tail_lines=10, limit_bytes=8, timeout_s=1)
    failing = LogOnly(ConnectionError("kubelet unreachable"))
    assert read_container_log(failing, "ns", "p", "trainer", bounds) is None  # type: ignore[arg-type]
    log = read_container_log(LogOnly("12345678"), "ns", "p", "trainer", bounds)  # type: ignore[arg-type]
    assert log is not None and log.truncated
    short = read_container_log(LogOnly("1234\n"), "ns", "p", "trainer", bounds)  # type: ignore[arg-type]
    assert short is not None and not short.truncated
