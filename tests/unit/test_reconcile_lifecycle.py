"""The pass and the shared trial lifecycle, through the fake API server: a print-only
trainer's log settles its trial, a trial the ingest failed for a diverged objective loses
its running Job, and a settling write decided on a stale read is skipped, never forced."""

from __future__ import annotations

import pytest

from kubetune.k8s.owned import ListedObjects
from kubetune.planning import actions
from kubetune.planning.pass_decision import Snapshot
from kubetune.planning.settle import DEFAULT_FINISHED_JOB_TTL_SECONDS
from kubetune.reconcile.observe import observe
from tests.unit.fake_kube import FakeKube
from tests.unit.pass_helpers import (
    JOBS,
    NAMESPACE,
    TRIALS,
    add_pod,
    create,
    experiment_body,
    reconcile,
    reconcile_once,
    status,
    trials,
)


@pytest.fixture
def fake() -> FakeKube:
    fake = FakeKube()
    create(fake, experiment_body(max_trials=1, parallel=1))
    reconcile(fake)
    return fake


def test_a_print_only_trainer_is_settled_from_its_log(fake: FakeKube) -> None:
    job = fake.of_kind("jobs")[0]
    add_pod(fake, job, "Succeeded")  # no termination message, no sidecar report
    fake.logs[f"{job['metadata']['name']}-pod"] = (
        "epoch 1\nkubetune metric score=-0.5 step=1\nkubetune metric score=-0.25 step=2\n"
    )
    reconcile(fake)
    (trial,) = trials(fake)
    assert (trial["status"]["phase"], trial["status"]["metrics"]) == ("Succeeded", {"score": -0.25})
    assert [point["step"] for point in trial["status"]["curve"]] == [1, 2]
    assert status(fake)["best"]["value"] == -0.25


def test_a_trial_failed_for_a_diverged_objective_loses_its_running_job(fake: FakeKube) -> None:
    job = fake.of_kind("jobs")[0]
    add_pod(fake, job, "Running")
    name = trials(fake)[0]["metadata"]["name"]
    diverged = {"phase": "Failed", "reason": "ObjectiveNotFinite", "message": "score=nan"}
    fake.request("PATCH", f"{TRIALS}/{name}/status", body={"status": diverged})
    reconcile(fake)
    assert fake.of_kind("jobs") == []
    assert trials(fake)[0]["status"]["reason"] == "ObjectiveNotFinite"


def test_a_report_recorded_after_the_pass_read_the_trial_is_judged_by_the_next_pass(
    fake: FakeKube,
) -> None:
    job = fake.of_kind("jobs")[0]
    add_pod(fake, job, "Succeeded")
    name = trials(fake)[0]["metadata"]["name"]
    original = fake.request

    def report_lands_first(method: str, path: str, **options: object) -> dict[str, object]:
        """The ingest writes the objective between the pass's read and its write."""
        if (
            method == "PATCH"
            and path == f"{TRIALS}/{name}/status"
            and "metadata"
            in (
                options.get("body") or {}  # type: ignore[operator]
            )
        ):
            fake.request = original  # type: ignore[method-assign]
            original("PATCH", path, body={"status": {"metrics": {"score": 0.1}}})
        return original(method, path, **options)  # type: ignore[arg-type]

    fake.request = report_lands_first  # type: ignore[method-assign]
    reconcile(fake)  # its MissingObjectiveMetric verdict is refused (409) and dropped
    assert trials(fake)[0]["status"].get("phase") != "Failed"
    reconcile(fake)
    trial = trials(fake)[0]
    assert (trial["status"]["phase"], trial["status"]["metrics"]) == ("Succeeded", {"score": 0.1})


def test_a_settled_trials_finished_job_expires_only_once_its_result_is_recorded(
    fake: FakeKube,
) -> None:
    job = fake.of_kind("jobs")[0]
    assert "ttlSecondsAfterFinished" not in job["spec"]  # running: it must not vanish
    add_pod(fake, job, "Succeeded", 0, '{"metrics": {"score": 0.5}}')
    reconcile(fake)
    assert trials(fake)[0]["status"]["phase"] == "Succeeded"
    reconcile(fake)  # the pass after the one that settled it
    (job,) = fake.of_kind("jobs")
    assert job["spec"]["ttlSecondsAfterFinished"] == DEFAULT_FINISHED_JOB_TTL_SECONDS
    before = len(fake.write_requests())
    reconcile(fake)
    assert fake.write_requests()[before:] == []  # set once


def test_a_pass_leaves_out_a_settled_trials_job_once_it_expires() -> None:
    fake = FakeKube()
    create(fake, experiment_body(max_trials=3, parallel=1))  # runs on after the first
    reconcile(fake)
    job = fake.of_kind("jobs")[0]
    add_pod(fake, job, "Succeeded", 0, '{"metrics": {"score": 0.5}}')
    job["status"] = {"conditions": [{"type": "Complete", "status": "True"}]}
    reconcile(fake)  # settles the trial, then sets its Job to expire
    name = job["metadata"]["name"]
    stored_job = fake.objects[f"{JOBS}/{name}"]
    assert stored_job["spec"]["ttlSecondsAfterFinished"] == DEFAULT_FINISHED_JOB_TTL_SECONDS
    observed = _observed(fake)
    assert name not in observed.jobs and name not in observed.pods
    assert len(observed.jobs) == 1  # the next trial's
    del stored_job["spec"]["ttlSecondsAfterFinished"]  # as before the pass that set it
    assert name in _observed(fake).jobs and name in _observed(fake).pods
    assert name not in _observed(fake, finished_job_ttl=None).jobs  # kept for ever


def _observed(fake: FakeKube, finished_job_ttl: int | None = 300) -> Snapshot:
    snapshot = observe(fake, ListedObjects(fake), NAMESPACE, "exp", finished_job_ttl)
    assert snapshot is not None
    return snapshot


def test_launches_are_written_side_by_side_after_every_trial_exists() -> None:
    decided = [
        actions.CreateTrial({"metadata": {"name": "e-0"}}),
        actions.CreateTrial({"metadata": {"name": "e-1"}}),
        actions.CreateJob("e-0"), actions.CreateJob("e-1"),
        actions.EmitEvent("TrialLaunched", "e-0, e-1"),
        actions.PatchExperimentStatus({"trials": {"created": 2}}),
    ]  # fmt: skip
    steps = actions.steps(decided)
    assert steps == [(decided[0],), (decided[1],), tuple(decided[2:4]), tuple(decided[4:])]


def test_settling_writes_go_side_by_side_but_one_objects_writes_keep_their_order() -> None:
    decided = [
        actions.StoreAcceptedSpec("{}", "digest"), actions.ValidateJob({}),
        actions.PatchTrialStatus("e-0", {"phase": "Succeeded"}, "7"),
        actions.PatchTrialStatus("e-1", {"phase": "Failed"}, "8"),
        actions.EmitEvent("TrialFailed", "e-1"),
        actions.ExpireJob("e-2", 600), actions.DeleteJob("e-3"),
        actions.PatchTrialStatus("e-3", {"phase": "EarlyStopped"}),
        actions.CreateTrial({"metadata": {"name": "e-4"}}),
    ]  # fmt: skip
    assert actions.steps(decided) == [
        tuple(decided[0:2]), tuple(decided[2:4]), (decided[4],),
        tuple(decided[5:7]), (decided[7],), (decided[8],),
    ]  # fmt: skip


def test_every_launched_trial_gets_its_job_and_status(fake: FakeKube) -> None:
    create(fake, experiment_body("wide", max_trials=8, parallel=6))
    assert reconcile_once(fake, "wide")  # a first step of one trial: no status write of its own
    (first,) = [t for t in trials(fake) if t["metadata"]["name"].startswith("wide-")]
    assert not (first.get("status") or {}).get("jobName")
    reconcile(fake, "wide")  # the next steps fill the slots
    launched = [t for t in trials(fake) if t["metadata"]["name"].startswith("wide-")]
    jobs = {job["metadata"]["name"] for job in fake.of_kind("jobs")}
    assert len(launched) == 6 and {t["metadata"]["name"] for t in launched} <= jobs
    before = len(fake.write_requests())
    reconcile(fake, "wide")  # pods still pending: nothing new to record, no write
    assert fake.write_requests()[before:] == []
    for job in fake.of_kind("jobs"):
        add_pod(fake, job, "Running")
    reconcile(fake, "wide")  # each trial's first phase past Pending, with its Job's name
    recorded = {t["metadata"]["name"]: t["status"] for t in trials(fake)
                if t["metadata"]["name"].startswith("wide-")}  # fmt: skip
    assert all(status["jobName"] == name for name, status in recorded.items())
    assert all(status["phase"] == "Running" for status in recorded.values())


def test_a_finished_jobs_pod_seen_running_is_a_lagging_watch_not_a_job_to_delete() -> None:
    fake = FakeKube()
    create(fake, experiment_body(max_trials=3, parallel=1))  # still running afterwards
    reconcile(fake)
    job = fake.of_kind("jobs")[0]
    add_pod(fake, job, "Succeeded", 0, '{"metrics": {"score": 0.5}}')
    reconcile(fake)
    assert trials(fake)[0]["status"]["phase"] == "Succeeded"
    name = job["metadata"]["name"]
    done = {"conditions": [{"type": "Complete", "status": "True"}]}
    fake.request("PATCH", f"{JOBS}/{name}/status", body={"status": done})
    add_pod(fake, job, "Running")  # what a lagging Pod watch would still show
    reconcile(fake)
    assert name in [j["metadata"]["name"] for j in fake.of_kind("jobs")]
