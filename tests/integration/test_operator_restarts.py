"""Killing the operator at any instant loses no trial and duplicates none.

The operator runs as a real `kopf run` process and is killed with SIGKILL (no cleanup,
no graceful shutdown) ten times at random moments while trials are being created,
launched and finished; a last instance then finishes the experiment.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.cluster import ClusterClient
from tests.integration.operator_harness import (
    Cluster,
    TrialPodDriver,
    experiment,
    install_crds,
    run_through_kills,
    scoring_trainer,
)

pytestmark = pytest.mark.integration
KILLS = 10
MAX_TRIALS = 30  # room for ten kills, each after at least one new trial


@pytest.fixture
def kube(cluster: ClusterClient, namespace: str) -> Iterator[Cluster]:
    install_crds(cluster)
    yield Cluster(cluster, namespace)


def test_operator_killed_ten_times_still_runs_exactly_max_trials(
    cluster: ClusterClient, namespace: str, kube: Cluster
) -> None:
    with TrialPodDriver(cluster, namespace, scoring_trainer, hold=0.1):
        kube.create(experiment("restarts", max_trials=MAX_TRIALS, parallel=2))
        done, trials_at_kill = run_through_kills(
            kube, "restarts", kills=KILLS, seed=20261122, pause=0.3, timeout=120
        )

    assert trials_at_kill[-1] < MAX_TRIALS, trials_at_kill  # every kill hit a live search
    status = done["status"]
    assert status["phase"] == "Succeeded", status
    assert status["trials"]["created"] == MAX_TRIALS
    assert status["trials"]["succeeded"] == MAX_TRIALS
    trials = kube.trials()
    assert [trial["spec"]["index"] for trial in trials] == list(range(MAX_TRIALS))
    assert all(trial["status"]["phase"] == "Succeeded" for trial in trials)
    jobs = sorted(job["metadata"]["name"] for job in kube.jobs())
    assert jobs == [trial["metadata"]["name"] for trial in trials]  # one Job per trial
    assert len({repr(sorted(t["spec"]["parameters"].items())) for t in trials}) == MAX_TRIALS
