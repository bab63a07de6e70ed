"""The operator's Prometheus metrics: recorded from the statuses the planning code really
builds, served by the real /metrics endpoint on loopback, and removed with the experiment
(so the series count stays bounded)."""

from __future__ import annotations

import asyncio
import secrets
import urllib.request
from datetime import UTC, datetime

from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from kubetune.api import TuningTrialStatus
from kubetune.planning.lifecycle import TrialReason, settle
from kubetune.planning.status import lifecycle_document
from kubetune.reconcile import handlers, metrics
from kubetune.reconcile.http_serving import bound_port
from kubetune.reconcile.metrics_service import start_metrics_server
from tests.unit.fake_kube import FakeKube
from tests.unit.pass_helpers import create, experiment_body, reconcile

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _sample(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


def _experiment() -> tuple[str, str]:
    return f"ns-{secrets.token_hex(3)}", "digits"


def test_trial_outcomes_are_counted_from_the_statuses_written() -> None:
    namespace, name = _experiment()
    metrics.trial_created(namespace, name)
    metrics.trial_created(namespace, name)
    metrics.trial_status_written(namespace, name, {"phase": "Running"})  # not an end
    metrics.trial_status_written(namespace, name, {"phase": "Succeeded"})
    for reason in (TrialReason.EARLY_STOPPED, TrialReason.EXPERIMENT_FINISHED):
        stopped = settle(TuningTrialStatus(phase="Running"), "EarlyStopped", reason, "", NOW)
        metrics.trial_status_written(namespace, name, lifecycle_document(stopped))
    labels = {"namespace": namespace, "experiment": name}
    assert _sample("kubetune_trials_created_total", **labels) == 2
    completed = "kubetune_trials_completed_total"
    assert _sample(completed, **labels, outcome="succeeded") == 1
    assert _sample(completed, **labels, outcome="early_stopped") == 1
    assert _sample(completed, **labels, outcome="stopped") == 1
    assert _sample(completed, **labels, outcome="failed") is None


def test_experiment_phase_and_best_objective_follow_the_status_until_deleted() -> None:
    namespace, name = _experiment()
    before = _sample("kubetune_experiments", phase="Running") or 0
    metrics.record_experiment(namespace, name, {})  # just created: no status yet
    assert _sample("kubetune_experiments", phase="Pending") is not None
    metrics.record_experiment(namespace, name, {"phase": "Running", "best": {"value": 0.97}})
    assert _sample("kubetune_experiments", phase="Running") == before + 1
    best = {"namespace": namespace, "experiment": name}
    assert _sample("kubetune_experiment_best_objective", **best) == 0.97
    metrics.trial_created(namespace, name)
    metrics.record_experiment(namespace, name, None)  # the pass found it deleted
    assert _sample("kubetune_experiments", phase="Running") == before
    assert _sample("kubetune_experiment_best_objective", **best) is None
    assert _sample("kubetune_trials_created_total", **best) is None


def test_the_hypervolume_follows_the_status_of_several_objectives_only() -> None:
    namespace, name = _experiment()
    labels = {"namespace": namespace, "experiment": name}
    metrics.record_experiment(namespace, name, {"phase": "Running", "best": {"value": 0.9}})
    assert _sample("kubetune_experiment_hypervolume", **labels) is None
    pareto = {"size": 2, "hypervolume": 1.25}
    metrics.record_experiment(namespace, name, {"phase": "Running", "pareto": pareto})
    assert _sample("kubetune_experiment_hypervolume", **labels) == 1.25
    metrics.record_experiment(namespace, name, None)
    assert _sample("kubetune_experiment_hypervolume", **labels) is None


def test_only_planning_steps_that_suggest_are_timed() -> None:
    count = "kubetune_suggestion_duration_seconds_count"
    before = _sample(count, algorithm="tpe") or 0
    metrics.planned("tpe", suggested=0, seconds=0.5)
    metrics.planned("tpe", suggested=2, seconds=0.02)
    assert _sample(count, algorithm="tpe") == before + 1


def test_api_writes_are_what_a_pass_sent_to_change_objects_by_verb_and_resource() -> None:
    fake = FakeKube()
    writes = metrics.ApiWrites()
    assert writes.track(fake) is fake
    create(fake, experiment_body(max_trials=4, parallel=2))
    reconcile(fake)
    (family,) = writes.collect()
    sent = {(s.labels["verb"], s.labels["resource"]): s.value for s in family.samples}
    assert family.name == "kubetune_api_writes" and family.type == "counter"
    assert sent[("POST", "tuningtrials")] == len(fake.of_kind("tuningtrials")) == 2
    # Two Jobs, and the server-side dry run that checked the pod template before them.
    assert sent[("POST", "jobs")] == len(fake.of_kind("jobs")) + 1 == 3
    assert sum(sent.values()) == len(fake.write_requests())  # every write; no read
    assert not any(verb == "GET" for verb, _ in sent)


def test_the_endpoint_serves_the_registry_in_prometheus_text_format() -> None:
    namespace, name = _experiment()
    metrics.record_experiment(namespace, name, {"phase": "Running", "best": {"value": 0.5}})
    assert handlers.experiment_event  # the module the operator runs: all its metrics exist
    text, content_type = asyncio.run(_scrape())
    assert content_type.startswith("text/plain")
    families = {family.name: family for family in text_string_to_metric_families(text)}
    for expected in ("kubetune_experiments", "kubetune_reconcile_duration_seconds",
                     "kubetune_ingest_reports", "kubetune_experiment_best_objective",
                     "kubetune_api_writes"):  # fmt: skip
        assert expected in families, expected
    best = families["kubetune_experiment_best_objective"].samples
    assert any(s.labels == {"namespace": namespace, "experiment": name} for s in best)
    metrics.forget_experiment(namespace, name)


async def _scrape() -> tuple[str, str]:
    runner = await start_metrics_server(0, host="127.0.0.1")
    try:
        url = f"http://127.0.0.1:{bound_port(runner)}/metrics"
        return await asyncio.to_thread(_get, url)
    finally:
        await runner.cleanup()


def _get(url: str) -> tuple[str, str]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode(), response.headers["Content-Type"]
