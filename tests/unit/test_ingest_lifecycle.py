"""The ingest records only what the lifecycle allows: a finished trial's history never
changes, a trial's status stays small whatever its token sends, out-of-range steps are
malformed (400), and every write is conditional on the version it was computed from."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from kubetune.planning.ingest_rules import Rejection, ReportBatch, TrialRef, parse_report_request
from kubetune.planning.lifecycle import MAX_METRIC_NAMES
from kubetune.reconcile.metrics_sink import TrialStatusWriter
from kubetune.reporting.protocol import MetricReport

REF = TrialRef("ns", "exp", "exp-0001")
TRIAL_PATH = "/apis/kubetune.dev/v1alpha1/namespaces/ns/tuningtrials/exp-0001"


class OneTrialApi:
    """Just enough of the API server for one trial: GET, and PATCH of its status."""

    def __init__(self, status: dict[str, Any]) -> None:
        self.trial = {
            "metadata": {"name": "exp-0001", "namespace": "ns", "resourceVersion": "7"},
            "spec": {"experiment": "exp", "index": 1, "objectiveMetric": "acc"},
            "status": status,
        }
        self.patches: list[dict[str, Any]] = []

    def request(self, method: str, path: str, **options: Any) -> dict[str, Any]:
        if method == "GET" and path == TRIAL_PATH:
            return json.loads(json.dumps(self.trial))
        assert (method, path) == ("PATCH", TRIAL_PATH + "/status"), (method, path)
        self.patches.append(options["body"])
        self.trial["status"] = {**self.trial["status"], **options["body"]["status"]}
        return self.trial


def write(api: OneTrialApi, *reports: MetricReport) -> Rejection | None:
    writer = TrialStatusWriter(kube=api)  # type: ignore[arg-type]
    return writer._write(REF, list(reports))


@pytest.mark.parametrize("phase", ["Succeeded", "Failed", "EarlyStopped"])
def test_a_finished_trial_refuses_reports_with_409_and_keeps_its_value(phase: str) -> None:
    api = OneTrialApi({"phase": phase, "metrics": {"acc": 0.5}})
    refused = write(api, MetricReport(9, {"acc": 1000.0}))
    assert refused is not None and refused.status == 409
    assert api.patches == [] and api.trial["status"]["metrics"] == {"acc": 0.5}


def test_new_metric_names_beyond_the_cap_are_refused_and_nothing_grows() -> None:
    api = OneTrialApi({"phase": "Running"})
    flood = {f"m{i}": 1.0 for i in range(2300)}
    refused = write(api, MetricReport(1, flood))
    assert refused is not None and refused.status == 422
    assert api.patches == []
    assert write(api, MetricReport(1, {f"m{i}": 1.0 for i in range(MAX_METRIC_NAMES)})) is None
    assert len(json.dumps(api.trial)) < 10_000


def test_a_nan_objective_fails_the_trial_through_the_ingest() -> None:
    api = OneTrialApi({"phase": "Running"})
    assert write(api, MetricReport(1, {"acc": 0.4}), MetricReport(2, {"acc": math.nan})) is None
    status = api.trial["status"]
    assert (status["phase"], status["reason"]) == ("Failed", "ObjectiveNotFinite")
    assert status["metrics"] == {"acc": 0.4}


def test_the_ingest_records_by_the_strategy_the_trial_carries() -> None:
    api = OneTrialApi({"phase": "Running"})
    api.trial["spec"]["strategies"] = {"acc": "max"}
    assert write(api, MetricReport(1, {"acc": 0.8}), MetricReport(2, {"acc": 0.6})) is None
    assert api.trial["status"]["metrics"] == {"acc": 0.8}
    assert [point["values"]["acc"] for point in api.trial["status"]["curve"]] == [0.8, 0.6]


def test_every_write_names_the_version_it_was_computed_from() -> None:
    api = OneTrialApi({"phase": "Running"})
    write(api, MetricReport(1, {"acc": 0.4}))
    assert api.patches[0]["metadata"] == {"resourceVersion": "7"}


def test_a_resend_writes_nothing() -> None:
    api = OneTrialApi({"phase": "Running"})
    write(api, MetricReport(1, {"acc": 0.4}))
    write(api, MetricReport(1, {"acc": 0.4}))
    assert len(api.patches) == 1


@pytest.mark.parametrize("step", [10**30, 2**63, -1])
def test_out_of_range_steps_are_malformed(step: int) -> None:
    body = {"namespace": "ns", "experiment": "exp", "trial": "exp-0001",
            "reports": [{"step": step, "metrics": {"acc": 0.5}}]}  # fmt: skip
    refused = parse_report_request(json.dumps(body).encode())
    assert isinstance(refused, Rejection) and refused.status == 400


def test_a_nan_in_a_request_body_is_a_measurement() -> None:
    body = (
        b'{"namespace": "ns", "experiment": "exp", "trial": "exp-0001",'
        b' "reports": [{"step": 2, "metrics": {"acc": NaN}}]}'
    )
    parsed = parse_report_request(body)
    assert isinstance(parsed, ReportBatch) and math.isnan(parsed.reports[0].metrics["acc"])


class VersionedApi(OneTrialApi):
    """Also enforces the version a status PATCH names (409 when it is not current)."""

    def __init__(self, status: dict[str, Any]) -> None:
        super().__init__(status)
        self.gets = 0

    def request(self, method: str, path: str, **options: Any) -> dict[str, Any]:
        if method == "GET":
            self.gets += 1
            return super().request(method, path, **options)
        named = options["body"].get("metadata", {}).get("resourceVersion")
        if named != self.trial["metadata"]["resourceVersion"]:
            raise ApiException(status=409, reason="Conflict")
        self.trial["metadata"]["resourceVersion"] = str(int(named) + 1)
        return super().request(method, path, **options)


def test_a_watched_trial_costs_one_patch_and_a_stale_one_is_read_again() -> None:
    api = VersionedApi({"phase": "Running"})
    fresh = json.loads(json.dumps(api.trial))
    writer = TrialStatusWriter(kube=api, cached=lambda namespace, name: fresh)  # type: ignore[arg-type]
    assert writer._write(REF, [MetricReport(1, {"acc": 0.5})]) is None
    assert (api.gets, len(api.patches)) == (0, 1)
    # The cache still holds version 7; the trial is at 8 now: 409, read, record again.
    assert writer._write(REF, [MetricReport(2, {"acc": 0.6})]) is None
    assert (api.gets, len(api.patches)) == (1, 2)
    assert [point["step"] for point in api.trial["status"]["curve"]] == [1, 2]


def test_the_ingest_judges_every_objective_the_trial_carries() -> None:
    api = OneTrialApi({"phase": "Running"})
    api.trial["spec"]["objectiveMetrics"] = ["acc", "latency"]
    assert write(api, MetricReport(1, {"acc": 0.4, "latency": 3.0})) is None
    assert api.trial["status"]["value"] == 0.4, "the primary objective keeps its column"
    assert write(api, MetricReport(2, {"acc": 0.5, "latency": math.inf})) is None
    status = api.trial["status"]
    assert (status["phase"], status["reason"]) == ("Failed", "ObjectiveNotFinite")
    assert "latency=inf" in status["message"]
