"""Removing kubetune, as docs/install.md ("Uninstalling") says: an experiment deleted
while the operator runs goes at once with its trials and Jobs; a running experiment whose
operator is already gone keeps the operator's finalizer, and goes once the documented
patch removes it. Against the real API server and garbage collector."""

from __future__ import annotations

import time

import pytest

from tests.cluster import ClusterClient, eventually
from tests.integration.operator_harness import (
    Cluster,
    GatedTrainer,
    TrialPodDriver,
    experiment,
    operator_running,
)

pytestmark = pytest.mark.integration
FINALIZER = "kopf.zalando.org/KopfFinalizerMarker"  # the finalizer docs/install.md names
UNSTUCK = '{"metadata":{"finalizers":null}}'  # the patch docs/install.md gives


def _running_with_its_jobs(kube: Cluster, name: str) -> None:
    kube.create(experiment(name, max_trials=4, parallel=2))
    kube.wait_for_phase(name, "Running")
    eventually(lambda: len(kube.jobs()) == 2, "both trials' Jobs created")


def test_an_experiment_deleted_while_the_operator_runs_goes_with_its_trials_and_jobs(
    cluster: ClusterClient, namespace: str, kube: Cluster
) -> None:
    with TrialPodDriver(cluster, namespace, GatedTrainer()), operator_running(namespace):
        _running_with_its_jobs(kube, "removed")
        kube.delete_experiment("removed")
        eventually(lambda: kube.experiment_gone("removed"), "the experiment deleted", timeout=30)
    eventually(
        lambda: not kube.trials() and not kube.jobs(),
        "its trials and Jobs collected with it",
        timeout=60,
    )


def test_a_running_experiment_whose_operator_is_gone_is_deleted_once_unstuck(
    cluster: ClusterClient, namespace: str, kube: Cluster
) -> None:
    with TrialPodDriver(cluster, namespace, GatedTrainer()), operator_running(namespace):
        _running_with_its_jobs(kube, "orphaned")
        assert FINALIZER in kube.experiment("orphaned")["metadata"]["finalizers"]
    kube.delete_experiment("orphaned")
    time.sleep(3)  # long enough for a deletion without finalizers to be long done
    assert kube.experiment("orphaned")["metadata"].get("deletionTimestamp")
    cluster.kubectl(
        "patch", "tuningexperiment", "orphaned", "-n", namespace, "--type=merge", "-p", UNSTUCK
    )
    eventually(
        lambda: kube.experiment_gone("orphaned"), "the experiment deleted once unstuck", timeout=30
    )
    eventually(lambda: not kube.jobs(), "its Jobs collected with it", timeout=60)
