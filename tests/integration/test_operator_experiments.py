"""The operator against the real control plane: an experiment runs to its end, with the
Jobs, trials, status, conditions and Events a user sees; invalid specs, goals, failures,
spec edits and suspension behave as documented (docs/operator.md).
"""

from __future__ import annotations

import pytest

from tests.cluster import ClusterClient, eventually
from tests.integration.operator_harness import (
    Cluster,
    GatedTrainer,
    TrialPodDriver,
    condition,
    experiment,
    is_true,
    operator_running,
    score,
    scoring_trainer,
    trainer_gpus,
)

pytestmark = pytest.mark.integration


def test_experiment_runs_all_trials_in_parallel_and_reports_the_true_best(
    cluster: ClusterClient, namespace: str, kube: Cluster
) -> None:
    with TrialPodDriver(cluster, namespace, scoring_trainer) as driver, operator_running(namespace):
        kube.create(experiment("sweep", max_trials=8, parallel=3))
        done = kube.wait_for_phase("sweep", "Succeeded", "Failed")

    status = done["status"]
    assert status["phase"] == "Succeeded", status
    assert condition(done, "Succeeded")["reason"] == "MaxTrialsReached"
    assert status["trials"] == {
        "created": 8,
        "running": 0,
        "succeeded": 8,
        "failed": 0,
        "stopped": 0,
        "finished": 8,
    }
    trials = kube.trials()
    assert [t["spec"]["index"] for t in trials] == list(range(8))
    values = {t["metadata"]["name"]: score(t["spec"]["parameters"]) for t in trials}
    best = max(values, key=lambda name: values[name])
    assert status["best"]["trial"] == best
    assert status["best"]["value"] == pytest.approx(values[best])
    assert 2 <= driver.most_running <= 3  # parallel, never beyond parallelTrials
    assert status["startTime"] <= status["completionTime"]
    reasons = [reason for reason, _ in kube.events("sweep")]
    launches = [message for reason, message in kube.events("sweep") if reason == "TrialLaunched"]
    named = [part.split(":")[0] for message in launches for part in message.split("; ")]
    assert sorted(named) == sorted(values)  # one Event per pass, naming each trial once
    assert "ExperimentSucceeded" in reasons


def test_trial_jobs_request_gpus_and_carry_the_parameters(
    cluster: ClusterClient, namespace: str, kube: Cluster
) -> None:
    spec = experiment("gpus", max_trials=1, parallel=1)
    spec["spec"]["trial"]["gpus"] = 2
    with TrialPodDriver(cluster, namespace, scoring_trainer), operator_running(namespace):
        kube.create(spec)
        kube.wait_for_phase("gpus", "Succeeded")

    (job,) = kube.jobs()
    (trial,) = kube.trials()
    (trainer,) = job["spec"]["template"]["spec"]["containers"]
    assert trainer["resources"]["limits"] == {"nvidia.com/gpu": "2"}
    assert trainer["resources"]["requests"] == {"nvidia.com/gpu": "2"}
    params = trial["spec"]["parameters"]
    assert trainer["args"] == [f"--x={params['x']!r}", f"--y={params['y']!r}"]
    assert job["metadata"]["ownerReferences"][0]["uid"] == trial["metadata"]["uid"]
    assert trial["status"]["phase"] == "Succeeded"
    assert trial["status"]["metrics"]["score"] == pytest.approx(score(params))


def test_unknown_placeholder_fails_the_experiment_clearly(
    cluster: ClusterClient, namespace: str, kube: Cluster
) -> None:
    with operator_running(namespace):
        kube.create(experiment("typo", max_trials=2, parallel=1, args=["--lr=${learning_rate}"]))
        failed = kube.wait_for_phase("typo", "Failed", timeout=30)
        events = eventually(lambda: kube.events("typo"), "an InvalidSpec event")

    invalid = condition(failed, "Failed")
    assert invalid["reason"] == "InvalidSpec"
    assert "${learning_rate}" in invalid["message"]
    assert "spec.trial.template.spec.containers[0]" in invalid["message"]
    assert events[0][0] == "InvalidSpec"
    assert kube.trials() == [] and kube.jobs() == []


def test_reaching_the_target_ends_the_search_and_stops_running_trials(
    cluster: ClusterClient, namespace: str, kube: Cluster
) -> None:
    def only_the_first_finishes(params: dict[str, str]) -> tuple[int, str] | None:
        return (0, "kubetune metric score=1.5") if params["x"] in first_x else None

    first_x: list[str] = []
    with TrialPodDriver(cluster, namespace, only_the_first_finishes), operator_running(namespace):
        kube.create(experiment("goal", max_trials=10, parallel=3, objective={"target": 1.0}))
        first = eventually(lambda: len(kube.trials()) == 3 and kube.trials()[0], "three trials")
        first_x.append(repr(first["spec"]["parameters"]["x"]))
        done = kube.wait_for_phase("goal", "Succeeded", "Failed")
        eventually(lambda: len(kube.jobs()) == 1, "the stopped trials' Jobs deleted")

    assert condition(done, "Succeeded")["reason"] == "GoalReached"
    assert done["status"]["best"]["trial"] == "goal-0000"
    phases = [(t["status"]["phase"], t["status"].get("reason")) for t in kube.trials()]
    assert phases == [("Succeeded", "Completed")] + [("EarlyStopped", "ExperimentFinished")] * 2
    assert done["status"]["trials"]["created"] == 3


def test_too_many_failed_trials_fail_the_experiment(
    cluster: ClusterClient, namespace: str, kube: Cluster
) -> None:
    def crashing(_: dict[str, str]) -> tuple[int, str]:
        return 3, "Traceback: boom"

    spec = experiment("crashy", max_trials=6, parallel=1, limits={"maxFailedTrials": 1})
    with TrialPodDriver(cluster, namespace, crashing), operator_running(namespace):
        kube.create(spec)
        failed = kube.wait_for_phase("crashy", "Failed", "Succeeded")

    reason = condition(failed, "Failed")
    assert reason["reason"] == "MaxFailedTrialsExceeded"
    assert "maxFailedTrials is 1" in reason["message"]
    trials = kube.trials()
    assert len(trials) == 2
    assert {(t["status"]["phase"], t["status"]["reason"]) for t in trials} == {
        ("Failed", "ExitCode")
    }
    assert "exited with code 3" in trials[0]["status"]["message"]
    assert [r for r, _ in kube.events("crashy")].count("TrialFailed") == 2


def test_budget_edits_apply_and_other_edits_are_refused(
    cluster: ClusterClient, namespace: str, kube: Cluster
) -> None:
    gate = GatedTrainer()
    with TrialPodDriver(cluster, namespace, gate) as driver, operator_running(namespace):
        kube.create(experiment("edit", max_trials=6, parallel=1))
        eventually(lambda: len(kube.trials()) == 1, "the first trial")
        kube.patch_spec(
            "edit", {"limits": {"parallelTrials": 3, "maxTrials": 4}, "trial": {"gpus": 2}}
        )
        eventually(lambda: len(kube.trials()) == 3, "parallelTrials raised to 3")
        refused = eventually(lambda: condition(kube.experiment("edit"), "SpecAccepted"), "refusal")
        gate.open = True
        done = kube.wait_for_phase("edit", "Succeeded")

    assert refused["status"] == "False" and "spec.trial.gpus" in refused["message"]
    assert done["status"]["trials"]["created"] == 4  # the new maxTrials
    assert {trainer_gpus(job) for job in kube.jobs()} == {"1"}
    assert driver.most_running == 3


def test_suspend_pauses_launches_and_suspends_jobs(
    cluster: ClusterClient, namespace: str, kube: Cluster
) -> None:
    gate = GatedTrainer()
    with TrialPodDriver(cluster, namespace, gate), operator_running(namespace):
        kube.create(experiment("pause", max_trials=3, parallel=1))
        eventually(lambda: len(kube.jobs()) == 1, "the first Job")
        kube.patch_spec("pause", {"suspend": True})
        eventually(lambda: kube.jobs()[0]["spec"].get("suspend") is True, "the Job suspended")
        eventually(lambda: is_true(kube.experiment("pause"), "Suspended"), "Suspended=True")
        kube.patch_spec("pause", {"suspend": False})
        eventually(lambda: kube.jobs()[0]["spec"].get("suspend") is False, "the Job resumed")
        gate.open = True
        done = kube.wait_for_phase("pause", "Succeeded")

    assert done["status"]["trials"]["succeeded"] == 3
    assert not is_true(done, "Suspended")
