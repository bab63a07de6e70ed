"""The metrics path end to end: trial pods run a real trainer and a real reporter sidecar
(as local processes, see process_pods), which post to the operator's ingest endpoint on
loopback; the operator records the curves, ASHA stops losing trials, their slots go to
new trials, and the experiment ends with the truly best trial.
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
from tests.integration.process_pods import ProcessPodDriver

pytestmark = pytest.mark.integration


def curve_experiment(name: str) -> dict[str, Any]:
    body = experiment(
        name,
        max_trials=9,
        parallel=3,
        args=["--x=${x}", "--step-seconds=0.5"],  # time for a pass to stop a loser
        earlyStopping={"rule": "asha", "minResource": 1, "maxResource": 9, "reductionFactor": 3},
    )
    trainer = body["spec"]["trial"]["template"]["spec"]["containers"][0]
    trainer["command"] = ["python", "tests/integration/curve_trainer.py"]
    return body


def test_reports_flow_to_the_operator_and_asha_stops_losers(
    cluster: ClusterClient, namespace: str, reporting_cluster: Cluster, tmp_path: Path
) -> None:
    with ProcessPodDriver(cluster, namespace, tmp_path) as driver, operator_running(namespace):
        reporting_cluster.create(curve_experiment("curves"))
        done = reporting_cluster.wait_for_phase("curves", "Succeeded", "Failed", timeout=240)

    status = done["status"]
    assert status["phase"] == "Succeeded", status
    trials = {trial["metadata"]["name"]: trial for trial in reporting_cluster.trials()}
    phases = {name: trial["status"]["phase"] for name, trial in trials.items()}
    assert len(trials) == 9  # stopped trials' slots went to new trials
    assert "EarlyStopped" in phases.values(), phases
    assert status["trials"]["stopped"] == list(phases.values()).count("EarlyStopped")

    for name, trial in trials.items():  # every curve came through the reporter
        curve = trial["status"]["curve"]
        assert curve and curve[0]["step"] == 1, name
        assert trial["status"]["metrics"]["score"] == curve[-1]["values"]["score"]
        if phases[name] == "Succeeded":
            assert curve[-1]["step"] == 9 and driver.trainer_exit_codes()[name] == 0

    best = max(trials, key=lambda name: quality(trials[name]["spec"]["parameters"]["x"]))
    assert phases[best] == "Succeeded"  # ASHA never stops the leader
    assert status["best"]["trial"] == best
    final_score = quality(trials[best]["spec"]["parameters"]["x"]) * (1 - 0.5**9)
    assert status["best"]["value"] == pytest.approx(final_score)
