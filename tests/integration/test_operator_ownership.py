"""Objects belong by uid, against the real API server and garbage collector: an
experiment re-created under its name starts fresh, and a trial deleted by hand is never
re-created under its name with other parameters."""

from __future__ import annotations

import pytest

from tests.cluster import ClusterClient, eventually
from tests.integration.operator_harness import (
    GROUP,
    VERSION,
    Cluster,
    GatedTrainer,
    TrialPodDriver,
    experiment,
    operator_running,
)

pytestmark = pytest.mark.integration


def _running_trials(kube: Cluster, count: int) -> list[dict[str, object]] | None:
    running = [t for t in kube.trials() if t.get("status", {}).get("phase") == "Running"]
    return running if len(running) >= count else None


def test_a_recreated_experiment_never_adopts_the_old_trials(
    cluster: ClusterClient, namespace: str, kube: Cluster
) -> None:
    gate = GatedTrainer()
    edited = experiment("again", max_trials=2, parallel=2)
    edited["spec"]["parameters"][0] |= {"min": 0.5, "max": 0.9}
    with TrialPodDriver(cluster, namespace, gate), operator_running(namespace):
        kube.create(experiment("again", max_trials=2, parallel=2))
        eventually(lambda: _running_trials(kube, 2), "two running trials", 60)
        kube.delete_experiment("again")
        eventually(
            lambda: kube.experiment_gone("again"), "the experiment deleted (as kubectl waits)"
        )
        kube.create(edited)
        gate.open = True
        done = kube.wait_for_phase("again", "Succeeded", "Failed", timeout=120)
    uid = done["metadata"]["uid"]
    assert done["status"]["phase"] == "Succeeded", done["status"]
    trials = kube.trials()
    assert {t["metadata"]["ownerReferences"][0]["uid"] for t in trials} == {uid}
    assert all(0.5 <= t["spec"]["parameters"]["x"] <= 0.9 for t in trials), trials
    assert 0.5 <= done["status"]["best"]["parameters"]["x"] <= 0.9


def test_a_trial_deleted_by_hand_is_not_recreated_under_its_name(
    cluster: ClusterClient, namespace: str, kube: Cluster
) -> None:
    gate = GatedTrainer()
    with TrialPodDriver(cluster, namespace, gate), operator_running(namespace):
        kube.create(experiment("hand", max_trials=2, parallel=1))
        eventually(lambda: _running_trials(kube, 1), "a running trial", 60)
        kube.custom.delete_namespaced_custom_object(
            GROUP, VERSION, namespace, "tuningtrials", "hand-0000"
        )
        gate.open = True
        done = kube.wait_for_phase("hand", "Succeeded", "Failed", timeout=120)
    assert done["status"]["phase"] == "Succeeded", done["status"]
    assert [t["metadata"]["name"] for t in kube.trials()] == ["hand-0001", "hand-0002"]
    assert done["status"]["trials"]["created"] == 3
    names = lambda: {job["metadata"]["name"] for job in kube.jobs()}  # noqa: E731
    eventually(lambda: "hand-0000" not in names(), "the deleted trial's Job collected", 30)
