"""Killing the operator at any instant loses no trial and duplicates none.

The operator runs as a real `kopf run` process and is killed with SIGKILL (no cleanup,
no graceful shutdown) ten times at random moments while trials are being created,
launched and finished; a last instance then finishes the experiment.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from tests.cluster import ClusterClient, eventually
from tests.integration.operator_harness import (
    OPERATOR_ARGS,
    Cluster,
    TrialPodDriver,
    experiment,
    install_crds,
    scoring_trainer,
)

pytestmark = pytest.mark.integration
KILLS = 10
MAX_TRIALS = 30  # room for ten kills, each after at least one new trial


@pytest.fixture
def kube(cluster: ClusterClient, namespace: str) -> Iterator[Cluster]:
    install_crds(cluster)
    yield Cluster(cluster, namespace)


def start_operator(cluster: ClusterClient, namespace: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "KUBECONFIG": str(cluster.kubeconfig),
        "KUBETUNE_RESYNC_SECONDS": "2",
        "KUBETUNE_INGEST_PORT": "0",
    }
    argv = [sys.executable, "-m", "kopf", *OPERATOR_ARGS, "--namespace", namespace]
    return subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_operator_killed_ten_times_still_runs_exactly_max_trials(
    cluster: ClusterClient, namespace: str, kube: Cluster
) -> None:
    chance = random.Random(20261122)
    trials_at_kill: list[int] = []
    with TrialPodDriver(cluster, namespace, scoring_trainer, hold=0.1):
        kube.create(experiment("restarts", max_trials=MAX_TRIALS, parallel=2))
        for _ in range(KILLS):
            before = len(kube.trials())
            operator = start_operator(cluster, namespace)
            # Kill while it works: once it has launched a trial, at a random instant of
            # the passes that follow (creating trials and Jobs, writing statuses).
            eventually(lambda n=before: len(kube.trials()) > n, "the operator at work", 60, 0.05)
            time.sleep(chance.uniform(0.0, 0.3))
            operator.send_signal(signal.SIGKILL)
            operator.wait()
            trials_at_kill.append(len(kube.trials()))
        last = start_operator(cluster, namespace)
        try:
            done = kube.wait_for_phase("restarts", "Succeeded", "Failed", timeout=120)
        finally:
            last.terminate()
            last.wait(30)

    assert len(set(trials_at_kill)) >= 5, trials_at_kill  # kills spread over the search
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
