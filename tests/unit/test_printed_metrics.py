"""Printed metrics on a cluster: which pod's log is read and when, how a log becomes
reports, and how they land on a trial that the sidecar may already have reported for.
The reconcile step runs against a fake `Kube` (its two request methods), the log read
against a failing one."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from kubernetes.client.exceptions import ApiException

from kubetune.api import TuningTrialStatus, parse_experiment
from kubetune.api.base import dump_resource
from kubetune.k8s.logs import LogBounds, read_container_log
from kubetune.planning.metrics_record import record_reports
from kubetune.planning.printed_metrics import pod_to_read, printed_metrics_patch, reports_in_log
from kubetune.reconcile.observe import Observed
from kubetune.reconcile.printed_metrics import collect_printed_metrics
from kubetune.reporting.protocol import MetricReport
from tests.cluster.binaries import REPO_ROOT

PRINTED = "epoch 1 done\nkubetune metric acc=0.5 step=1\nkubetune metric acc=0.75 step=2\n"
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
    assert pod_to_read(RUNNING_JOB, [pod("p1", "Running")], "acc", "trainer", {}) is None
    assert pod_to_read(None, [], "acc", "trainer", {}) is None
    # Reported nothing yet: the outcome is MissingObjectiveMetric, final, so read.
    assert pod_to_read(RUNNING_JOB, [pod("p1", "Succeeded")], "acc", "trainer", {}) == "p1"
    assert pod_to_read(COMPLETE, [], "acc", "trainer", {}) is None  # the pod is gone


def test_a_job_still_retrying_is_not_read_and_a_failed_one_reads_its_last_pod() -> None:
    first, second = (
        pod("p1", "Failed", "2026-01-01T00:00:00Z"),
        pod("p2", "Failed", "2026-01-01T00:01:00Z"),
    )
    assert pod_to_read(RUNNING_JOB, [first, pod("p2", "Running")], "acc", "trainer", {}) is None
    assert pod_to_read(FAILED_JOB, [second, first], "acc", "trainer", {}) == "p2"


def test_print_only_reports_make_a_patch_with_curve_and_objective() -> None:
    status = TuningTrialStatus()
    patch = printed_metrics_patch(status, reports_in_log(PRINTED, truncated=False))
    assert patch == {
        "metrics": {"acc": 0.75},
        "curve": [{"step": 1, "values": {"acc": 0.5}}, {"step": 2, "values": {"acc": 0.75}}],
    }


def test_reports_the_sidecar_already_delivered_change_nothing() -> None:
    status = TuningTrialStatus()
    reports = reports_in_log(PRINTED, truncated=False)
    record_reports(status, reports)  # the SDK wrote the same reports to the metrics file
    assert printed_metrics_patch(status, reports) is None


def test_a_tail_without_the_first_steps_keeps_the_sidecars_earlier_points() -> None:
    status = TuningTrialStatus()
    record_reports(status, [MetricReport(1, {"acc": 0.5}), MetricReport(2, {"acc": 0.6})])
    patch = printed_metrics_patch(status, [MetricReport(2, {"acc": 0.75})])
    assert patch is not None
    assert [point["step"] for point in patch["curve"]] == [1, 2]
    assert patch["metrics"] == {"acc": 0.75}


class FakeKube:
    """The two doors of `Kube` the step uses: `read_text` (the log) and `request`."""

    def __init__(self, log: str | Exception) -> None:
        self.log = log
        self.reads: list[tuple[str, dict[str, str]]] = []
        self.patches: list[tuple[str, Any]] = []

    def read_text(self, path: str, *, query: dict[str, str], timeout_s: float) -> str:
        self.reads.append((path, query))
        if isinstance(self.log, Exception):
            raise self.log
        return self.log

    def request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        self.patches.append((path, kwargs["body"]))
        return {}


def _experiment() -> Any:
    document = yaml.safe_load((REPO_ROOT / "examples" / "quickstart.yaml").read_text())
    document["metadata"]["namespace"] = "ns"
    return parse_experiment(document)


def _observed(pod_phase: str, status: dict[str, Any] | None = None) -> Observed:
    trial = {"metadata": {"name": "digits-svc-0001", "namespace": "ns"},
             "spec": {"experiment": "digits-svc", "index": 1, "parameters": {}},
             "status": {"phase": "Running", **(status or {})}}  # fmt: skip
    experiment = {"metadata": {"name": "digits-svc", "namespace": "ns"}}
    pods = {"digits-svc-0001": [pod("digits-svc-0001-abcde", pod_phase)]}
    return Observed(experiment, [trial], {"digits-svc-0001": RUNNING_JOB}, pods)


def test_a_finished_print_only_trainer_gets_its_metrics_before_settling() -> None:
    kube, observed = FakeKube(PRINTED.replace("acc", "val_accuracy")), _observed("Succeeded")
    collect_printed_metrics(kube, observed, _experiment(), observed.trials[0])  # type: ignore[arg-type]
    (path, query), = kube.reads  # fmt: skip
    assert path == "/api/v1/namespaces/ns/pods/digits-svc-0001-abcde/log"
    assert query == {"container": "trainer", "tailLines": "20000", "limitBytes": str(4 << 20)}
    (patched, body), = kube.patches  # fmt: skip
    assert patched.endswith("/tuningtrials/digits-svc-0001/status")
    assert body["status"]["metrics"] == {"val_accuracy": 0.75}
    assert observed.trials[0]["status"]["metrics"] == {"val_accuracy": 0.75}  # for settling
    assert observed.trials[0]["status"]["phase"] == "Running"


@pytest.mark.parametrize(
    ("log", "pod_phase"),
    [(ApiException(status=400, reason="no logs"), "Succeeded"), ("no metric lines\n", "Succeeded"),
     (PRINTED, "Running")],
)  # fmt: skip
def test_nothing_is_written_without_new_reports(log: str | Exception, pod_phase: str) -> None:
    kube, observed = FakeKube(log), _observed(pod_phase)
    collect_printed_metrics(kube, observed, _experiment(), observed.trials[0])  # type: ignore[arg-type]
    assert kube.patches == []
    assert len(kube.reads) == (pod_phase == "Succeeded")


def test_an_unreadable_log_is_none_and_a_full_read_is_marked_truncated() -> None:
    bounds = LogBounds(tail_lines=10, limit_bytes=8, timeout_s=1)
    failing = FakeKube(ConnectionError("kubelet unreachable"))
    assert read_container_log(failing, "ns", "p", "trainer", bounds) is None  # type: ignore[arg-type]
    log = read_container_log(FakeKube("12345678"), "ns", "p", "trainer", bounds)  # type: ignore[arg-type]
    assert log is not None and log.truncated
    short = read_container_log(FakeKube("1234\n"), "ns", "p", "trainer", bounds)  # type: ignore[arg-type]
    assert short is not None and not short.truncated


def test_the_status_patch_matches_what_the_ingest_writes() -> None:
    status = TuningTrialStatus()
    record_reports(status, reports_in_log(PRINTED, truncated=False))
    patch = printed_metrics_patch(TuningTrialStatus(), reports_in_log(PRINTED, truncated=False))
    assert patch == {key: dump_resource(status)[key] for key in ("metrics", "curve")}
