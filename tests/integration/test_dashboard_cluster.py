"""`kubetune dashboard --cluster` while the operator runs an experiment on the local
control plane, seen in a real headless Chromium: the experiment appears, its trial
count grows as the operator creates trials, and the plots are drawn. The dashboard
reads through kubeconfig only, as `kubetune status --cluster` does."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from selenium.webdriver.remote.webdriver import WebDriver

from tests.browser.dashboard_page import DashboardPage, dashboard_serving, headless_chromium
from tests.cluster import ClusterClient
from tests.integration.operator_harness import (
    Cluster,
    GatedTrainer,
    TrialPodDriver,
    experiment,
    operator_running,
)

pytestmark = pytest.mark.integration

TRIALS = 5


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    with headless_chromium() as driver:
        yield driver


def test_a_cluster_experiment_is_seen_live(
    cluster: ClusterClient, namespace: str, kube: Cluster, browser: WebDriver
) -> None:
    gate = GatedTrainer()
    with TrialPodDriver(cluster, namespace, gate), operator_running(namespace):
        kube.create(experiment("live", max_trials=TRIALS, parallel=2))
        with dashboard_serving("--cluster", "-n", namespace) as url:
            page = DashboardPage(browser, url)
            page.open_experiment("live")
            first = page.wait_for_trials(more_than=0)
            assert first <= 2  # the gate holds the first parallel trials
            gate.open = True
            page.wait_for_trials(more_than=first)
            kube.wait_for_phase("live", "Succeeded")
            page.until(lambda: page.trial_count() == TRIALS, f"all {TRIALS} trials")
            page.wait_for_history_points(TRIALS)
            assert {"score", "x", "y"} <= set(page.parallel_coordinate_axes())
