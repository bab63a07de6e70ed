"""One experiment, one behaviour: every scenario runs through local mode and through the
operator on the local control plane, and both must end with the same trial phases and
reasons, the same counts, the same best trial and the same finish.

The trainer (parity_trainer.py) reports a curve whose ranking is known in advance, the
search is a grid over a few discrete values and trials run one at a time unless a
scenario says otherwise, so nothing here depends on timing or on which runtime went
first. Where a runtime needs a step of its own (local mode cannot be edited while it
runs: it is run again with the edited file), the scenario says so in one place.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubetune.cli import main
from tests.cluster import CUSTOM_STATUS_ANNOTATION, ClusterClient, eventually
from tests.cluster.binaries import REPO_ROOT
from tests.integration.operator_harness import Cluster, condition, operator_running
from tests.integration.process_pods import ProcessPodDriver

pytestmark = pytest.mark.integration

Document = dict[str, Any]
TRAINER = "tests/integration/parity_trainer.py"


@dataclass(frozen=True)
class Scenario:
    name: str
    mode: str = "sdk"
    xs: tuple[float, ...] = (0.3, -0.5, 0.9)
    spec: Document = field(default_factory=dict)  # merged over the defaults
    args: tuple[str, ...] = ()
    # An edit of the spec made while the experiment runs (locally: between two runs),
    # and what the cluster run waits for before making it.
    edit: Document | None = None
    edit_when: str = "first-trial"  # or "suspended"
    finish: tuple[str, str] = ("Succeeded", "MaxTrialsReached")
    reasons: tuple[str, ...] = ("Completed", "Completed", "Completed")


def merged(base: Document, override: Document) -> Document:
    """`override` merged into `base`; a None value removes the key."""
    result = copy.deepcopy(base)
    for key, value in override.items():
        if value is None:
            result.pop(key, None)
            continue
        nested = isinstance(value, dict) and isinstance(result.get(key), dict)
        result[key] = merged(result[key], value) if nested else value
    return result


SLOW = ("--steps=100", "--step-seconds=0.5")
KATIB_FORMAT = r"(?P<name>[\w-]+)\s*=\s*(?P<value>[-+]?[\d.]+(?:[eE][-+]?\d+)?)"
MAX_SCORE = {"objective": {"strategies": {"score": "max"}}}
# score against cost = x + 1: x=0.3 and x=-0.5 trade off, x=0.9 breaks the constraint.
SCORE_AND_COST = {
    "objective": None,
    "objectives": [{"metric": "score", "goal": "maximize"}, {"metric": "cost", "goal": "minimize"}],
    "constraints": [{"metric": "cost", "max": 1.5}],
}
SCENARIOS = [
    Scenario("success", spec={"limits": {"parallelTrials": 2}}),
    Scenario("sdk-curves"),
    Scenario("print-only", mode="print"),
    Scenario("crash", mode="crash", spec={"limits": {"maxFailedTrials": 5}},
             finish=("Failed", "MaxTrialsReached"), reasons=("ExitCode",) * 3),
    Scenario("never-reports", mode="silent", spec={"limits": {"maxFailedTrials": 5}},
             finish=("Failed", "MaxTrialsReached"), reasons=("MissingObjectiveMetric",) * 3),
    Scenario("nan-after-finite", mode="nan", spec={"limits": {"maxFailedTrials": 5}},
             finish=("Failed", "MaxTrialsReached"), reasons=("ObjectiveNotFinite",) * 3),
    Scenario("trial-timeout", args=SLOW,
             spec={"limits": {"trialTimeout": "2s", "maxFailedTrials": 5}},
             finish=("Failed", "MaxTrialsReached"), reasons=("TrialTimeout",) * 3),
    Scenario("max-failed-trials", mode="crash", spec={"limits": {"maxFailedTrials": 1}},
             finish=("Failed", "MaxFailedTrialsExceeded"), reasons=("ExitCode",) * 2),
    Scenario("target-reached", xs=(-0.5, 0.3, 0.9),
             spec={"objective": {"target": 1.7}},
             finish=("Succeeded", "GoalReached"), reasons=("Completed",) * 2),
    Scenario("asha-stops", xs=(0.3, 0.8, 0.95), args=("--steps=6", "--step-seconds=0.5"),
             spec={"earlyStopping": {"rule": "asha", "minResource": 1, "maxResource": 6,
                                     "reductionFactor": 3}},
             reasons=("Completed", "EarlyStopped", "EarlyStopped")),
    Scenario("max-duration", args=SLOW,
             spec={"limits": {"parallelTrials": 2, "maxDuration": "4s"}},
             finish=("Failed", "MaxDurationReached"), reasons=("ExperimentFinished",) * 2),
    Scenario("suspend-then-resume", spec={"suspend": True}, edit={"suspend": False},
             edit_when="suspended"),
    Scenario("max-trials-raised", spec={"limits": {"maxTrials": 2}},
             edit={"limits": {"maxTrials": 3}}),
    # The trainers overfit: by its latest score x=-0.5 would be best, by its max x=0.3.
    Scenario("max-strategy", args=("--overfit",), spec=MAX_SCORE),
    Scenario("katib-lines", mode="katib", args=("--overfit",),
             spec=merged(MAX_SCORE, {"trial": {"metricsFormat": [KATIB_FORMAT]}})),
    Scenario("multi-objective", args=("--cost",), spec=SCORE_AND_COST),
]  # fmt: skip


def experiment_of(scenario: Scenario) -> Document:
    """The one document both runtimes run (kwok's annotation means nothing locally)."""
    trainer = {"name": "trainer", "image": "kubetune/trial:test",
               "command": ["python", TRAINER, "--x=${x}", *scenario.args],
               "env": [{"name": "MODE", "value": scenario.mode}]}  # fmt: skip
    spec = {
        "objective": {"metric": "score", "goal": "maximize"},
        "parameters": [{"name": "x", "type": "discrete", "values": list(scenario.xs)}],
        "algorithm": {"name": "grid"},
        "limits": {"maxTrials": len(scenario.xs), "parallelTrials": 1, "maxFailedTrials": 0},
        "trial": {"gpus": 1, "template": {
            "metadata": {"annotations": dict([CUSTOM_STATUS_ANNOTATION])},
            "spec": {"containers": [trainer]}}},
    }  # fmt: skip
    return {
        "apiVersion": "kubetune.dev/v1alpha1",
        "kind": "TuningExperiment",
        "metadata": {"name": scenario.name},
        "spec": merged(spec, scenario.spec),
    }


def summary(status: Document, trials: list[Document]) -> Document:
    """What must be equal in both runtimes."""
    phase = status.get("phase")
    finish = next((c["reason"] for c in status.get("conditions", []) if c["type"] == phase), None)
    outcomes = [
        (t["metadata"]["name"], t["spec"]["parameters"]["x"], t["status"]["phase"],
         t["status"].get("reason"))
        for t in sorted(trials, key=lambda t: t["spec"]["index"])
    ]  # fmt: skip
    curves = {  # a finished curve is exactly the trainer's steps: nothing twice
        t["metadata"]["name"]: [point["step"] for point in t["status"].get("curve", [])]
        for t in trials
        if t["status"]["phase"] == "Succeeded"
    }
    values = {  # each recorded by its strategy
        t["metadata"]["name"]: t["status"]["metrics"] for t in trials
        if t["status"]["phase"] == "Succeeded"
    }  # fmt: skip
    best = (status.get("best") or {}).get("trial")
    feasible = {t["metadata"]["name"]: t["status"].get("feasible") for t in trials}
    return {"finish": (phase, finish), "counts": status.get("trials"), "best": best,
            "outcomes": outcomes, "curves": curves, "values": values,
            "pareto": status.get("pareto"), "feasible": feasible}  # fmt: skip


def run_locally(scenario: Scenario, workdir: Path) -> Document:
    workdir.mkdir(parents=True, exist_ok=True)
    path, results = workdir / f"{scenario.name}.yaml", workdir / "results"
    document = experiment_of(scenario)
    path.write_text(yaml.safe_dump(document))
    main(["run", str(path), "--dir", str(results)])
    if scenario.edit is not None:  # local mode takes spec edits on its next run
        path.write_text(
            yaml.safe_dump({**document, "spec": merged(document["spec"], scenario.edit)})
        )
        main(["run", str(path), "--dir", str(results)])
    store = results / scenario.name
    status = json.loads((store / "status.json").read_text())["status"]
    trials = [json.loads(p.read_text()) for p in (store / "trials").glob("*.json")]
    return summary(status, trials)


def run_on_cluster(scenario: Scenario, kube: Cluster) -> Document:
    kube.create(experiment_of(scenario))
    if scenario.edit is not None:
        eventually(_edit_moment(scenario, kube), f"{scenario.name}: {scenario.edit_when}", 60)
        kube.patch_spec(scenario.name, scenario.edit)
    done = kube.wait_for_phase(scenario.name, "Succeeded", "Failed", timeout=180)
    return summary(done["status"], kube.trials())


def _edit_moment(scenario: Scenario, kube: Cluster) -> Callable[[], bool]:
    if scenario.edit_when == "suspended":
        return lambda: (
            (condition(kube.experiment(scenario.name), "Suspended") or {}).get("status") == "True"
        )
    return lambda: bool(kube.trials())


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_both_runtimes_end_the_same(
    scenario: Scenario,
    *,
    cluster: ClusterClient,
    namespace: str,
    reporting_cluster: Cluster,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(REPO_ROOT)  # the trainer's path is relative, as in a trial image
    local = run_locally(scenario, tmp_path / "local")
    with (
        ProcessPodDriver(cluster, namespace, tmp_path / "pods") as driver,
        operator_running(namespace),
    ):
        on_cluster = run_on_cluster(scenario, reporting_cluster)
    # What the pods did, should the runtimes disagree: which trainers the driver ran to
    # their end (exit codes) and which pods were deleted while they ran.
    played = {"exit codes": driver.trainer_exit_codes(), "killed": driver.killed}
    assert on_cluster == local, played
    assert local["finish"] == scenario.finish
    assert tuple(reason for *_, reason in local["outcomes"]) == scenario.reasons
    if scenario.finish[1] != "MaxDurationReached" and "Completed" in scenario.reasons:
        best_x = max((x for _, x, _, reason in local["outcomes"] if reason == "Completed"),
                     key=lambda x: -abs(x - 0.3))  # fmt: skip
        assert local["best"] == next(name for name, x, *_ in local["outcomes"] if x == best_x)
    if scenario.spec.get("objectives"):  # the front: x=0.3 and x=-0.5; x=0.9 infeasible
        assert local["pareto"]["size"] == 2 and local["pareto"]["hypervolume"] > 0
        by_x = {x: local["feasible"][name] for name, x, *_ in local["outcomes"]}
        assert by_x == {0.3: True, -0.5: True, 0.9: False}
