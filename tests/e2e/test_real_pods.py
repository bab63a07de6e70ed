"""The operator against real pods: the examples' experiments, shrunk to keep CI short, run
the real trainers from the trial image, with the real reporter as a native sidecar that
posts to the operator's token-authenticated ingest.

The operator runs in this process (as in the integration tier) and binds its ingest on
the node's bridge address, which is where pods reach the host. The trainers write no
termination message, so every metric the operator records came through the sidecar.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.cluster import ClusterClient, eventually
from tests.cluster.binaries import REPO_ROOT
from tests.integration.operator_harness import (
    EXPERIMENT_LABEL,
    Cluster,
    operator_running,
)

# The first test also builds images on a cold cache (minutes; docs/e2e.md).
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

EXAMPLES = REPO_ROOT / "examples"
# The MLP example trainer as is, but each epoch lasts at least EPOCH_SECONDS, as on a real
# GPU workload: digits epochs take milliseconds, and a trial finishing before the operator
# hears of its first rung would give ASHA nothing to stop.
EPOCH_SECONDS = 0.7
PACED_TRAINER = (
    "import runpy, sys, time; import kubetune.reporting as sdk; report = sdk.report; "
    f"sdk.report = lambda *a, **k: (time.sleep({EPOCH_SECONDS}), report(*a, **k))[1]; "
    "sys.argv[0] = 'examples/trainers/digits_mlp.py'; "
    "runpy.run_path(sys.argv[0], run_name='__main__')"
)


def example(file_name: str, **limits: Any) -> dict[str, Any]:
    """An example experiment with smaller limits (CI time), otherwise as users get it."""
    body: dict[str, Any] = yaml.safe_load((EXAMPLES / file_name).read_text())
    body["spec"]["limits"].update(limits)
    return body


def trainer_of(body: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any] = body["spec"]["trial"]["template"]["spec"]["containers"][0]
    return container


def live_pods(kube: Cluster) -> list[Any]:
    pods = kube.core.list_namespaced_pod(kube.namespace, label_selector=EXPERIMENT_LABEL).items
    return [pod for pod in pods if pod.status.phase in ("Pending", "Running")]


def test_quickstart_succeeds_with_the_best_trial(kube: Cluster, namespace: str) -> None:
    with operator_running(namespace):
        kube.create(example("quickstart.yaml", maxTrials=6, parallelTrials=2))
        done = kube.wait_for_phase("digits-svc", "Succeeded", "Failed", timeout=400)

    status, trials = done["status"], kube.trials()
    assert status["phase"] == "Succeeded", status
    assert [t["status"]["phase"] for t in trials] == ["Succeeded"] * 6
    values = {t["metadata"]["name"]: t["status"]["metrics"]["val_accuracy"] for t in trials}
    assert status["best"]["value"] == max(values.values())
    assert values[status["best"]["trial"]] == max(values.values())
    assert max(values.values()) > 0.9  # a real SVC on the real digits data
    pod = kube.core.list_namespaced_pod(namespace, label_selector=EXPERIMENT_LABEL).items[0]
    sidecars = {c.name: c.restart_policy for c in pod.spec.init_containers or []}
    assert sidecars == {"kubetune-reporter": "Always"}  # the native sidecar


# A trainer that only prints (no SDK, no metrics file): the operator reads its log.
PRINT_ONLY_TRAINER = (
    "import os, time; c = float(os.environ['KUBETUNE_PARAM_C']); "
    "[print(f'kubetune metric val_accuracy={s / (3 + 1 / c)!r} step={s}', flush=True) "
    "or time.sleep(0.3) for s in (1, 2, 3)]"
)


def test_a_print_only_trainer_works_on_real_pods(kube: Cluster, namespace: str) -> None:
    body = example("quickstart.yaml", maxTrials=2, parallelTrials=2)
    trainer_of(body)["command"] = ["python", "-c", PRINT_ONLY_TRAINER]
    with operator_running(namespace):
        kube.create(body)
        done = kube.wait_for_phase("digits-svc", "Succeeded", "Failed", timeout=300)

    assert done["status"]["phase"] == "Succeeded", done["status"]
    for trial in kube.trials():
        status, c = trial["status"], trial["spec"]["parameters"]["C"]
        assert status["phase"] == "Succeeded", status
        assert status["metrics"]["val_accuracy"] == pytest.approx(3 / (3 + 1 / c))
        assert [point["step"] for point in status["curve"]] == [1, 2, 3]


def test_asha_stops_real_pods_of_losing_trials(kube: Cluster, namespace: str) -> None:
    body = example("mlp-asha.yaml", maxTrials=8, parallelTrials=2, trialTimeout="5m")
    body["spec"]["objective"].pop("target")  # run the whole budget, so stopping shows
    body["spec"]["earlyStopping"]["maxResource"] = 9
    trainer = trainer_of(body)
    script, options = trainer["command"][1], trainer["command"][3:]
    assert script == "examples/trainers/digits_mlp.py"
    trainer["command"] = ["python", "-c", PACED_TRAINER, "--epochs=9", *options]
    with operator_running(namespace):
        kube.create(body)
        done = kube.wait_for_phase("digits-mlp-asha", "Succeeded", "Failed", timeout=500)

    trials = kube.trials()
    phases = [t["status"]["phase"] for t in trials]
    assert done["status"]["phase"] == "Succeeded", done["status"]
    assert "EarlyStopped" in phases, phases
    for trial in trials:  # the learning curves came through the reporter, epoch by epoch
        curve = trial["status"]["curve"]
        assert curve[0]["step"] == 1, trial["status"]
        steps = [point["step"] for point in curve]  # the SDK reports each epoch once
        assert steps == list(range(1, len(steps) + 1)), steps
        if trial["status"]["phase"] == "EarlyStopped":  # its pod was killed mid-training
            assert curve[-1]["step"] < 9, trial["status"]
    eventually(lambda: not live_pods(kube), "no trial pod left running", 60)


def test_deleting_the_experiment_removes_every_pod(
    kube: Cluster, namespace: str, cluster: ClusterClient
) -> None:
    body = example("quickstart.yaml", maxTrials=4, parallelTrials=2)
    trainer_of(body)["command"] = ["sleep", "600"]  # trials that would run for long
    # sleep, as PID 1, ignores SIGTERM: a short grace period has the kubelet kill it soon.
    body["spec"]["trial"]["template"]["spec"]["terminationGracePeriodSeconds"] = 3
    with operator_running(namespace):
        kube.create(body)
        # The two pods start a moment apart: wait for both, then check parallelTrials held.
        running = eventually(
            lambda: _running_pods(kube) if len(_running_pods(kube)) >= 2 else None,
            "both trial pods running",
            120,
        )
        assert len(running) == 2
        cluster.kubectl("delete", "-n", namespace, "tuningexperiment", "digits-svc")
        eventually(lambda: not _all_pods(kube), "every pod deleted", 90)
    assert not kube.jobs() and not kube.trials()


def _running_pods(kube: Cluster) -> list[Any]:
    return [pod for pod in live_pods(kube) if pod.status.phase == "Running"]


def _all_pods(kube: Cluster) -> list[Any]:
    return list(kube.core.list_namespaced_pod(kube.namespace).items)


def test_an_oom_killed_trainer_is_recorded_with_its_reason(kube: Cluster, namespace: str) -> None:
    body = example("quickstart.yaml", maxTrials=1, parallelTrials=1, maxFailedTrials=0)
    trainer = trainer_of(body)
    trainer["command"] = ["python", "-c", "bytearray(1 << 30)"]  # 1 GiB under a 128 MiB limit
    trainer["resources"] = {"limits": {"memory": "128Mi"}}
    with operator_running(namespace):
        kube.create(body)
        done = kube.wait_for_phase("digits-svc", "Failed", "Succeeded", timeout=180)

    (trial,) = kube.trials()
    assert trial["status"]["phase"] == "Failed", trial["status"]
    assert trial["status"]["reason"] == "OOMKilled", trial["status"]
    assert done["status"]["phase"] == "Failed"
    pod = kube.core.list_namespaced_pod(namespace, label_selector=EXPERIMENT_LABEL).items[0]
    trainer_state = next(s for s in pod.status.container_statuses if s.name == "trainer")
    assert trainer_state.state.terminated.exit_code == 137  # SIGKILL by the kernel's OOM killer
