"""Removing kubetune, as docs/install.md ("Uninstalling") says: an experiment deleted
while the operator runs goes at once with its trials and Jobs; a running experiment whose
operator is already gone keeps the operator's finalizer, and goes once the documented
patch removes it. Against the real API server and garbage collector."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from kubernetes.client.exceptions import ApiException

from tests.cluster import ClusterClient, eventually
from tests.integration.operator_harness import (
    GROUP,
    VERSION,
    Cluster,
    GatedTrainer,
    TrialPodDriver,
    experiment,
    install_crds,
    kubeconfig_env,
    operator_running,
)

pytestmark = pytest.mark.integration
FINALIZER = "kopf.zalando.org/KopfFinalizerMarker"  # the finalizer docs/install.md names
UNSTUCK = '{"metadata":{"finalizers":null}}'  # the patch docs/install.md gives


@pytest.fixture
def kube(cluster: ClusterClient, namespace: str) -> Iterator[Cluster]:
    install_crds(cluster)
    kubeconfig_env(cluster)
    yield Cluster(cluster, namespace)


def _gone(kube: Cluster, name: str) -> bool:
    try:
        kube.experiment(name)
    except ApiException as error:
        return error.status == 404
    return False


def _delete(kube: Cluster, name: str) -> None:
    kube.custom.delete_namespaced_custom_object(
        GROUP, VERSION, kube.namespace, "tuningexperiments", name
    )


def _running_with_its_jobs(kube: Cluster, name: str) -> None:
    kube.create(experiment(name, max_trials=4, parallel=2))
    kube.wait_for_phase(name, "Running")
    eventually(lambda: len(kube.jobs()) == 2, "both trials' Jobs created")


def test_an_experiment_deleted_while_the_operator_runs_goes_with_its_trials_and_jobs(
    cluster: ClusterClient, namespace: str, kube: Cluster
) -> None:
    with TrialPodDriver(cluster, namespace, GatedTrainer()), operator_running(namespace):
        _running_with_its_jobs(kube, "removed")
        _delete(kube, "removed")
        eventually(lambda: _gone(kube, "removed"), "the experiment deleted", timeout=30)
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
    _delete(kube, "orphaned")
    time.sleep(3)  # long enough for a deletion without finalizers to be long done
    assert kube.experiment("orphaned")["metadata"].get("deletionTimestamp")
    cluster.kubectl(
        "patch", "tuningexperiment", "orphaned", "-n", namespace, "--type=merge", "-p", UNSTUCK
    )
    eventually(lambda: _gone(kube, "orphaned"), "the experiment deleted once unstuck", timeout=30)
    eventually(lambda: not kube.jobs(), "its Jobs collected with it", timeout=60)
