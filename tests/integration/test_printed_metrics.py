"""A trainer that only prints metric lines works on a cluster: the operator reads the
finished trainer's log through the API server (pods/log, served by kwok from the file
process_pods writes) and records its objective and curve before settling the trial.

The trainer writes no metrics file, so its reporter sidecar (real, running) has nothing
to send and every recorded value came through the log; without the log read each trial
would end MissingObjectiveMetric.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.cluster import ClusterClient
from tests.integration.curve_trainer import quality
from tests.integration.operator_harness import (
    Cluster,
    experiment,
    operator_running,
)
from tests.integration.process_pods import TRIAL_LABEL, ProcessPodDriver

pytestmark = pytest.mark.integration

STEPS = 4


KATIB_FORMAT = r"(?P<name>[\w-]+)\s*=\s*(?P<value>[-+]?[\d.]+(?:[eE][-+]?\d+)?)"


def print_only_experiment(name: str, style: str = "--print-only") -> dict[str, Any]:
    body = experiment(name, max_trials=3, parallel=3, args=["--x=${x}"])
    trainer = body["spec"]["trial"]["template"]["spec"]["containers"][0]
    trainer["command"] = ["python", "tests/integration/curve_trainer.py", style,
                          f"--steps={STEPS}", "--step-seconds=0.1"]  # fmt: skip
    return body


def test_a_print_only_trainer_succeeds_with_its_objective_and_curve(
    cluster: ClusterClient, namespace: str, reporting_cluster: Cluster, tmp_path: Path
) -> None:
    kube = reporting_cluster
    with ProcessPodDriver(cluster, namespace, tmp_path) as driver, operator_running(namespace):
        kube.create(print_only_experiment("printed"))
        done = kube.wait_for_phase("printed", "Succeeded", "Failed", timeout=120)

    assert done["status"]["phase"] == "Succeeded", done["status"]
    trials = {trial["metadata"]["name"]: trial for trial in kube.trials()}
    assert len(trials) == 3 and set(driver.trainer_exit_codes().values()) == {0}
    for name, trial in trials.items():
        status, x = trial["status"], trial["spec"]["parameters"]["x"]
        assert (status["phase"], status.get("reason")) == ("Succeeded", "Completed"), status
        assert [point["step"] for point in status["curve"]] == list(range(1, STEPS + 1)), name
        assert status["metrics"]["score"] == pytest.approx(quality(x) * (1 - 0.5**STEPS))
    assert not list(tmp_path.glob("*/metrics.jsonl"))  # the sidecar had nothing to send

    best = max(trials, key=lambda name: quality(trials[name]["spec"]["parameters"]["x"]))
    assert done["status"]["best"]["trial"] == best
    _assert_kubectl_logs_show_the_printed_lines(cluster, kube)


def test_a_katib_style_trainer_is_read_with_the_experiments_metrics_format(
    cluster: ClusterClient, namespace: str, reporting_cluster: Cluster, tmp_path: Path
) -> None:
    """`INFO:root:score=...` on stderr, no step: the operator's log read takes it through
    spec.trial.metricsFormat, counting steps as local mode does."""
    kube = reporting_cluster
    body = print_only_experiment("katib", "--katib")
    body["spec"]["trial"]["metricsFormat"] = [KATIB_FORMAT]
    with ProcessPodDriver(cluster, namespace, tmp_path), operator_running(namespace):
        kube.create(body)
        done = kube.wait_for_phase("katib", "Succeeded", "Failed", timeout=120)
    assert done["status"]["phase"] == "Succeeded", done["status"]
    for trial in kube.trials():
        status, x = trial["status"], trial["spec"]["parameters"]["x"]
        assert [point["step"] for point in status["curve"]] == list(range(1, STEPS + 1))
        assert status["metrics"]["score"] == pytest.approx(quality(x) * (1 - 0.5**STEPS))


def _assert_kubectl_logs_show_the_printed_lines(cluster: ClusterClient, kube: Cluster) -> None:
    """What the operator relies on, seen as a user would: `kubectl logs` of a trial pod,
    whole and bounded as the operator bounds its read."""
    pods = kube.core.list_namespaced_pod(kube.namespace, label_selector=TRIAL_LABEL).items
    logs = ("logs", "-n", kube.namespace, pods[0].metadata.name, "-c", "trainer")
    lines = cluster.kubectl(*logs).stdout.splitlines()
    assert len(lines) == 2 * STEPS and lines[1].startswith("kubetune metric score="), lines
    bounded = cluster.kubectl(*logs, "--tail=1", "--limit-bytes=20").stdout
    assert bounded == lines[-1][:20]
