"""The operator's /metrics endpoint while it runs a real experiment on the local control
plane: the counts match the experiment's status, and a deleted experiment's series go."""

from __future__ import annotations

import socket
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.cluster import ClusterClient, eventually
from tests.integration.operator_harness import (
    GROUP,
    VERSION,
    Cluster,
    TrialPodDriver,
    experiment,
    install_crds,
    kubeconfig_env,
    operator_running,
    scoring_trainer,
)

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _scrape(port: int) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_follow_a_real_experiment_and_leave_with_it(
    cluster: ClusterClient, namespace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = _free_port()
    monkeypatch.setenv("KUBETUNE_METRICS_PORT", str(port))
    monkeypatch.setenv("KUBETUNE_METRICS_HOST", "127.0.0.1")
    install_crds(cluster)
    kubeconfig_env(cluster)
    kube = Cluster(cluster, namespace)
    ours = frozenset({("namespace", namespace), ("experiment", "scraped")})
    with TrialPodDriver(cluster, namespace, scoring_trainer), operator_running(namespace):
        kube.create(experiment("scraped", max_trials=4, parallel=2))
        status = kube.wait_for_phase("scraped", "Succeeded", "Failed")["status"]
        assert status["phase"] == "Succeeded", status
        scraped = _scrape(port)
        assert scraped[("kubetune_trials_created_total", ours)] == 4
        succeeded = ours | {("outcome", "succeeded")}
        assert scraped[("kubetune_trials_completed_total", succeeded)] == 4
        best = scraped[("kubetune_experiment_best_objective", ours)]
        assert best == pytest.approx(status["best"]["value"])
        assert scraped[("kubetune_experiments", frozenset({("phase", "Succeeded")}))] >= 1
        assert scraped[("kubetune_reconcile_duration_seconds_count", frozenset())] > 0
        timed = ("kubetune_suggestion_duration_seconds_count", frozenset({("algorithm", "random")}))
        assert scraped[timed] >= 2  # at least two planning steps launched trials
        for resource in ("tuningtrials", "jobs"):  # >=: earlier tests' operators count too
            posted = frozenset({("verb", "POST"), ("resource", resource)})
            assert scraped[("kubetune_api_writes_total", posted)] >= 4, resource

        kube.custom.delete_namespaced_custom_object(
            GROUP, VERSION, namespace, "tuningexperiments", "scraped"
        )
        eventually(
            lambda: ("kubetune_experiment_best_objective", ours) not in _scrape(port),
            "the deleted experiment's series removed",
        )
        assert ("kubetune_trials_created_total", ours) not in _scrape(port)
