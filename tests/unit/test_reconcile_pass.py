"""The whole reconcile pass (observe, decide, apply) against an in-memory API server."""

from __future__ import annotations

import pytest

from kubetune.k8s.owned import ListedObjects
from kubetune.k8s.rest import Document
from kubetune.k8s.workloads import JOBS as JOB_PLURAL
from kubetune.planning.pass_decision import _launched_event
from kubetune.planning.progress import FIRST_STEP_LAUNCHES, LAUNCHES_PER_STEP
from kubetune.planning.suggest import NewTrial
from kubetune.reconcile.experiment import reconcile_experiment
from tests.unit.fake_kube import FakeKube
from tests.unit.pass_helpers import (
    EXPERIMENTS,
    JOBS,
    NAMESPACE,
    TRIALS,
    add_pod,
    condition,
    create,
    events,
    experiment_body,
    finish_pods,
    reconcile,
    reconcile_once,
    run_to_end,
    status,
    stored,
    trials,
)


@pytest.fixture
def fake() -> FakeKube:
    return FakeKube()


def test_the_first_pass_launches_parallel_trials_each_with_its_job(fake: FakeKube) -> None:
    create(fake, experiment_body(max_trials=4, parallel=2))
    reconcile(fake)
    launched = trials(fake)
    assert [t["metadata"]["name"] for t in launched] == ["exp-0000", "exp-0001"]
    jobs = fake.of_kind("jobs")
    assert [job["metadata"]["ownerReferences"][0]["uid"] for job in jobs] == [
        t["metadata"]["uid"] for t in launched
    ]
    assert status(fake)["phase"] == "Running"
    assert status(fake)["trials"]["created"] == 2
    launches = sorted(events(fake))  # one Event per pass that launched: a first step of one
    assert [reason for reason, _, _ in launches] == ["TrialLaunched", "TrialLaunched"]
    assert launches[0][1].startswith("exp-0000: {") and launches[1][1].startswith("exp-0001: {")


def test_one_event_names_every_trial_its_pass_launched(fake: FakeKube) -> None:
    create(fake, experiment_body(max_trials=8, parallel=4))
    reconcile(fake)
    messages = [message for reason, message, _ in events(fake) if reason == "TrialLaunched"]
    assert len(messages) == 2  # the first step's one trial, then the next three together
    assert any(m.startswith("exp-0001: {") and "; exp-0003: {" in m for m in messages)


def test_a_pass_launches_a_few_trials_and_the_next_passes_the_rest(fake: FakeKube) -> None:
    create(fake, experiment_body(max_trials=30, parallel=12))
    assert reconcile_once(fake) and len(trials(fake)) == FIRST_STEP_LAUNCHES
    assert reconcile_once(fake) and len(trials(fake)) == FIRST_STEP_LAUNCHES + LAUNCHES_PER_STEP
    reconcile(fake)  # the operator runs the next step at once while a step was full
    assert len(trials(fake)) == 12 and status(fake)["trials"]["running"] == 12


def test_many_launches_make_one_short_event() -> None:
    new = [NewTrial(f"exp-{i:04d}", i, {"x": 0.123456789, "y": -0.987654321}) for i in range(30)]
    event = _launched_event(new)
    assert event.reason == "TrialLaunched" and event.message.startswith("exp-0000: {")
    assert len(event.message) <= 1000 and event.message.endswith(" more, up to exp-0029")


def test_the_first_job_is_dry_run_before_any_trial_exists(fake: FakeKube) -> None:
    create(fake, experiment_body())
    reconcile(fake)
    posts = [path for method, path in fake.requests if method == "POST"]
    assert posts.index(JOBS) < posts.index(TRIALS)  # the dry run comes first
    reconcile(fake)
    assert posts.count(JOBS) == 3  # one dry run, two Jobs, and no dry run on later passes


def test_an_experiment_runs_to_max_trials_with_one_job_per_trial(fake: FakeKube) -> None:
    create(fake, experiment_body(max_trials=5, parallel=2))
    final = run_to_end(fake)
    assert final["phase"] == "Succeeded"
    assert condition(fake, "Succeeded")["reason"] == "MaxTrialsReached"
    assert final["trials"] == {
        "created": 5,
        "running": 0,
        "succeeded": 5,
        "failed": 0,
        "stopped": 0,
        "finished": 5,
    }
    assert len(fake.of_kind("jobs")) == 5
    best = max(trials(fake), key=lambda t: t["status"]["metrics"]["score"])
    assert final["best"]["trial"] == best["metadata"]["name"]
    assert "ExperimentSucceeded" in {reason for reason, _, _ in events(fake)}


def test_a_quiet_pass_writes_nothing(fake: FakeKube) -> None:
    create(fake, experiment_body())
    reconcile(fake)
    reconcile(fake)  # records each new Job on its trial
    before = len(fake.write_requests())
    reconcile(fake)
    assert len(fake.write_requests()) == before


def test_a_finished_experiment_costs_one_read(fake: FakeKube) -> None:
    create(fake, experiment_body(max_trials=1, parallel=1))
    run_to_end(fake)
    fake.requests.clear()
    reconcile(fake)
    assert fake.requests == [("GET", f"{TRIALS.rsplit('/', 1)[0]}/tuningexperiments/exp")]


def test_a_deleted_or_deleting_experiment_is_left_alone(fake: FakeKube) -> None:
    reconcile(fake, "absent")
    create(fake, experiment_body())
    fake.objects[next(iter(fake.objects))]["metadata"]["deletionTimestamp"] = "2030-01-01T00:00:00Z"
    reconcile(fake)
    assert fake.write_requests() == [("POST", TRIALS.replace("tuningtrials", "tuningexperiments"))]


def test_a_failing_trainer_fails_its_trial_with_the_exit_code(fake: FakeKube) -> None:
    create(fake, experiment_body(max_trials=2, parallel=1, limits={"maxFailedTrials": 0}))
    reconcile(fake)
    job = fake.of_kind("jobs")[0]
    job["status"] = {
        "conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}]
    }
    add_pod(fake, job, "Failed", code=3)
    reconcile(fake)
    trial = trials(fake)[0]
    assert (trial["status"]["phase"], trial["status"]["reason"]) == ("Failed", "ExitCode")
    assert (
        "TrialFailed",
        "exp-0000: ExitCode: the trainer exited with code 3",
        "Warning",
    ) in events(fake)
    assert status(fake)["phase"] == "Failed"


def test_a_recorded_job_that_vanished_fails_its_trial(fake: FakeKube) -> None:
    create(fake, experiment_body(max_trials=2, parallel=1))
    reconcile(fake)
    add_pod(fake, fake.of_kind("jobs")[0], "Running")
    reconcile(fake)  # records the Job on its trial, with its first phase past Pending
    assert trials(fake)[0]["status"]["jobName"] == "exp-0000"
    del fake.objects[f"{JOBS}/exp-0000"]
    reconcile(fake)
    assert trials(fake)[0]["status"]["reason"] == "JobDeleted"


def test_a_trial_left_without_its_job_by_a_crash_gets_it(fake: FakeKube) -> None:
    create(fake, experiment_body(max_trials=2, parallel=1))
    reconcile(fake)
    del fake.objects[f"{JOBS}/exp-0000"]
    fake.objects[f"{TRIALS}/exp-0000"]["status"] = {}
    reconcile(fake)
    assert len(fake.of_kind("jobs")) == 1
    add_pod(fake, fake.of_kind("jobs")[0], "Running")
    reconcile(fake)
    assert trials(fake)[0]["status"]["jobName"] == "exp-0000"


def test_a_job_made_before_a_crash_is_recorded_on_its_trial(fake: FakeKube) -> None:
    create(fake, experiment_body(max_trials=2, parallel=1))
    reconcile(fake)
    fake.objects[f"{TRIALS}/exp-0000"]["status"] = {}
    add_pod(fake, fake.of_kind("jobs")[0], "Running")
    reconcile(fake)
    assert trials(fake)[0]["status"]["jobName"] == "exp-0000"


def test_suspend_suspends_active_jobs_and_resume_resumes_them(fake: FakeKube) -> None:
    create(fake, experiment_body(max_trials=4, parallel=1))
    reconcile(fake)
    fake.request(
        "PATCH",
        f"{TRIALS.replace('tuningtrials', 'tuningexperiments')}/exp",
        body={"spec": {"suspend": True}},
    )
    reconcile(fake)
    assert fake.of_kind("jobs")[0]["spec"]["suspend"] is True
    assert condition(fake, "Suspended")["status"] == "True"
    fake.request(
        "PATCH",
        f"{TRIALS.replace('tuningtrials', 'tuningexperiments')}/exp",
        body={"spec": {"suspend": False}},
    )
    reconcile(fake)
    assert fake.of_kind("jobs")[0]["spec"]["suspend"] is False


def test_the_operator_leaves_a_queued_jobs_suspend_to_kueue(fake: FakeKube) -> None:
    create(fake, experiment_body(max_trials=4, parallel=1, trial={"queue": {"name": "gpus"}}))
    reconcile(fake)
    [job] = fake.of_kind("jobs")
    assert job["spec"]["suspend"] is True
    reconcile(fake)
    assert fake.of_kind("jobs")[0]["spec"]["suspend"] is True  # not resumed past the quota
    job["spec"]["suspend"] = False  # admitted: Kueue resumed it
    reconcile(fake)
    assert fake.of_kind("jobs")[0]["spec"]["suspend"] is False


def test_reaching_the_target_stops_running_trials(fake: FakeKube) -> None:
    create(fake, experiment_body(max_trials=6, parallel=2, objective={"target": -10.0}))
    reconcile(fake)
    add_pod(fake, fake.of_kind("jobs")[0], "Succeeded", message='{"metrics": {"score": 0.5}}')
    reconcile(fake)
    assert status(fake)["phase"] == "Succeeded"
    assert condition(fake, "Succeeded")["reason"] == "GoalReached"
    second = trials(fake)[1]
    assert (second["status"]["phase"], second["status"]["reason"]) == (
        "EarlyStopped",
        "ExperimentFinished",
    )
    assert f"{JOBS}/exp-0001" not in fake.objects


def test_an_unknown_placeholder_fails_the_experiment_once(fake: FakeKube) -> None:
    container = {"name": "trainer", "image": "trial:1", "args": ["--lr=${lr}"]}
    create(fake, experiment_body(container=container))
    reconcile(fake)
    assert status(fake)["phase"] == "Failed"
    assert condition(fake, "Failed")["reason"] == "InvalidSpec"
    assert "${lr}" in condition(fake, "Failed")["message"]
    assert [reason for reason, _, _ in events(fake)] == ["InvalidSpec"]
    writes = len(fake.write_requests())
    reconcile(fake)
    assert len(fake.write_requests()) == writes and not trials(fake)


def test_the_stored_experiment_is_what_later_passes_see(fake: FakeKube) -> None:
    create(fake, experiment_body(max_trials=3, parallel=3))
    reconcile(fake)
    finish_pods(fake)
    reconcile(fake)
    assert stored(fake)["status"]["trials"]["succeeded"] == 3


def test_writes_per_trial_stay_few(fake: FakeKube) -> None:
    """Per trial: the trial, its Job, its status patches, an Event; per experiment: the
    accepted spec and its digest, a dry run, status patches (docs/operator.md)."""
    create(fake, experiment_body(max_trials=10, parallel=2))
    fake.requests.clear()
    run_to_end(fake)
    writes = [f"{method} {path.split('/')[-1]}" for method, path in fake.write_requests()]
    assert writes.count("POST tuningtrials") == 10
    assert writes.count("POST jobs") == 11  # one dry run
    assert len(writes) / 10 <= 7


class JobWatchBehind(ListedObjects):
    """Jobs as a watch that has brought nothing since `catch_up`: only the pass's own
    writes reach them (as the operator's informer cache between two watch events)."""

    def __init__(self, kube: FakeKube) -> None:
        super().__init__(kube)
        self.fake = kube
        self.cached: dict[str, Document] = {}

    def catch_up(self) -> None:
        self.cached = {job["metadata"]["name"]: job for job in self.fake.of_kind("jobs")}

    def jobs(self, namespace: str, experiment: str) -> list[Document]:
        return list(self.cached.values())

    def wrote(self, kind: str, namespace: str, document: Document) -> None:
        if kind == JOB_PLURAL:
            self.cached[document["metadata"]["name"]] = document


def test_a_pass_reads_its_own_job_writes_before_the_watch_brings_them(fake: FakeKube) -> None:
    """A settled trial's Job is set to expire once, however many passes run before
    its watch event arrives (with trials of seconds, several a second)."""
    create(fake, experiment_body(max_trials=3, parallel=1))
    owned = JobWatchBehind(fake)
    for _ in range(3):
        reconcile_experiment(fake, NAMESPACE, "exp", owned)
    finish_pods(fake)
    owned.catch_up()
    for _ in range(4):
        reconcile_experiment(fake, NAMESPACE, "exp", owned)
    expiries = [p for m, p in fake.requests if (m, p) == ("PATCH", f"{JOBS}/exp-0000")]
    assert fake.objects[f"{JOBS}/exp-0000"]["spec"]["ttlSecondsAfterFinished"] == 300
    assert len(expiries) == 1


def test_suspending_writes_each_job_once_before_the_watch_brings_it(fake: FakeKube) -> None:
    create(fake, experiment_body(max_trials=4, parallel=2))
    owned = JobWatchBehind(fake)
    for _ in range(3):
        reconcile_experiment(fake, NAMESPACE, "exp", owned)
    fake.request("PATCH", f"{EXPERIMENTS}/exp", body={"spec": {"suspend": True}})
    for _ in range(3):
        reconcile_experiment(fake, NAMESPACE, "exp", owned)
    patches = [p for m, p in fake.requests if m == "PATCH" and p.startswith(f"{JOBS}/")]
    assert sorted(patches) == [f"{JOBS}/exp-0000", f"{JOBS}/exp-0001"]
    assert all(job["spec"]["suspend"] is True for job in fake.of_kind("jobs"))


def test_trials_carry_the_accepted_strategies_not_a_refused_edit(fake: FakeKube) -> None:
    create(
        fake, experiment_body(max_trials=4, parallel=1, objective={"strategies": {"score": "max"}})
    )
    reconcile(fake)
    edit = {"spec": {"objective": {"strategies": {"score": "min"}}}}
    fake.request("PATCH", f"{EXPERIMENTS}/exp", body=edit)
    finish_pods(fake)
    reconcile(fake)
    assert [t["spec"]["strategies"] for t in trials(fake)] == [{"score": "max"}] * 2
    refused = condition(fake, "SpecAccepted")
    assert refused is not None and "spec.objective.strategies" in refused["message"]
