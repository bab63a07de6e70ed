"""The scale benchmark's own arithmetic: the load a scenario gave, and whose requests
the operator's are (benchmarks/scale)."""

from __future__ import annotations

from collections import Counter
from types import SimpleNamespace
from typing import cast

import pytest
from benchmarks.scale import scrape
from benchmarks.scale.analysis import completion_rates
from benchmarks.scale.driver import TrialRecord
from benchmarks.scale.scenario import ScenarioResult


def result_with_completions(times: list[float | None], wall_s: float) -> ScenarioResult:
    records = []
    for index, at in enumerate(times):
        record = TrialRecord("exp", f"trial-{index}", f"pod-{index}", 0.0)
        record.completed_at = at
        records.append(record)
    return cast(ScenarioResult, SimpleNamespace(records=records, wall_s=wall_s))


def test_completion_rate_over_the_run_and_in_its_busiest_minute() -> None:
    # 30 completions in the first 10 s, then one a minute; one pod never completed.
    times: list[float | None] = [i / 3 for i in range(30)] + [70.0, 130.0, 190.0, None]
    mean, busiest = completion_rates(result_with_completions(times, wall_s=200.0))
    assert mean == pytest.approx(33 / 200)
    assert busiest == pytest.approx(30 / 60)


def test_no_completions_give_zero_rates() -> None:
    assert completion_rates(result_with_completions([None], wall_s=0.0)) == (0.0, 0.0)


def test_log_reads_and_job_expiry_count_as_the_operators_but_pod_status_does_not() -> None:
    delta = Counter({("CONNECT", "pods/log", ""): 3, ("PATCH", "jobs", "batch"): 2,
                     ("PATCH", "pods/status", ""): 5, ("PUT", "jobs/status", "batch"): 7,
                     ("WATCH", "tuningtrials", "kubetune.dev"): 1,
                     ("PATCH", "tuningtrials/status", "kubetune.dev"): 4})  # fmt: skip
    operators = {("CONNECT", "pods/log", ""), ("PATCH", "jobs", "batch"),
                 ("PATCH", "tuningtrials/status", "kubetune.dev")}  # fmt: skip
    assert scrape.operator_requests(delta) == Counter({key: delta[key] for key in operators})


def test_the_collectors_finalizer_patch_of_each_expired_job_is_not_the_operators() -> None:
    """The TTL controller deletes 2 Jobs in the foreground; the garbage collector then
    PATCHes each once. Of 5 Job PATCHes, 3 are the operator's expiries."""
    delta = Counter({("PATCH", "jobs", "batch"): 5, ("DELETE", "jobs", "batch"): 2})
    assert scrape.operator_requests(delta) == Counter({("PATCH", "jobs", "batch"): 3})


def test_the_operators_own_write_count_is_read_from_its_endpoint() -> None:
    served = (
        "# TYPE kubetune_api_writes counter\n"
        'kubetune_api_writes_total{verb="POST",resource="jobs"} 3.0\n'
        'kubetune_api_writes_total{verb="PATCH",resource="tuningtrials/status"} 7.0\n'
        'kubetune_ingest_reports_total{result="accepted"} 9.0\n'
    )
    assert scrape.operator_writes(served) == Counter(
        {("POST", "jobs"): 3, ("PATCH", "tuningtrials/status"): 7}
    )


def test_each_write_counts_as_the_larger_of_the_found_and_the_operators_own_count() -> None:
    """Its Events are among the kubelet's and the controllers' on the API server's
    counters, which only its own count tells apart; kopf's PATCHes of experiments are
    on the API server's counters only."""
    delta = Counter({("GET", "tuningtrials", "kubetune.dev"): 2, ("POST", "jobs", "batch"): 3,
                     ("POST", "events", ""): 9,
                     ("PATCH", "tuningexperiments", "kubetune.dev"): 6})  # fmt: skip
    own = Counter({("POST", "jobs"): 3, ("POST", "events"): 4, ("PATCH", "tuningexperiments"): 1})
    assert scrape.operator_total(delta, own) == 2 + 3 + 4 + 6
    assert scrape.operator_total(delta, Counter()) == 2 + 3 + 6  # a run without its own count
    assert scrape.write_differences(delta, own) == {
        ("PATCH", "tuningexperiments"): (6, 1),
        ("POST", "events"): (0, 4),
    }
