"""Objects belong by uid, not by name: an experiment adopts only the trials it created, a
trial only the Job it created; a name taken by another owner's object is waited out."""

from __future__ import annotations

import pytest

from tests.unit.fake_kube import FakeKube
from tests.unit.pass_helpers import (
    EXPERIMENTS,
    JOBS,
    SECRETS,
    TRIALS,
    add_pod,
    create,
    experiment_body,
    finish_pods,
    reconcile,
    run_to_end,
    status,
    trials,
)


@pytest.fixture
def fake() -> FakeKube:
    return FakeKube()


def test_a_hand_deleted_trial_is_never_recreated_under_its_name(fake: FakeKube) -> None:
    create(fake, experiment_body(max_trials=4, parallel=2))
    reconcile(fake)
    first = {t["metadata"]["name"]: t["spec"]["parameters"] for t in trials(fake)}
    fake.request("DELETE", f"{TRIALS}/exp-0001")
    reconcile(fake)  # its Job is still there (the GC is slow): it is not adopted
    names = [t["metadata"]["name"] for t in trials(fake)]
    assert names == ["exp-0000", "exp-0002"]
    fake.collect_garbage()
    final = run_to_end(fake)
    assert "exp-0001" not in [t["metadata"]["name"] for t in trials(fake)]
    assert trials(fake)[0]["spec"]["parameters"] == first["exp-0000"]
    assert final["trials"]["created"] == 5  # indices 0..4, one of them deleted by hand
    assert final["trials"]["succeeded"] == 4


def test_a_recreated_experiment_starts_fresh_instead_of_adopting(fake: FakeKube) -> None:
    create(fake, experiment_body(max_trials=2, parallel=2))
    run_to_end(fake)
    fake.request("DELETE", f"{EXPERIMENTS}/exp")
    create(fake, experiment_body(max_trials=2, parallel=2, algorithm={"name": "random", "seed": 9}))
    for _ in range(3):  # old trials still there: waited out, never adopted
        reconcile(fake)
        assert status(fake).get("phase") != "Succeeded"
        assert status(fake).get("trials", {}).get("succeeded", 0) == 0
    fake.collect_garbage()
    reconcile(fake)
    reconcile(fake)  # records each new Job on its trial
    uid = fake.objects[f"{EXPERIMENTS}/exp"]["metadata"]["uid"]
    owners = {t["metadata"]["ownerReferences"][0]["uid"] for t in trials(fake)}
    assert owners == {uid} and len(trials(fake)) == 2
    assert all(t["status"]["phase"] == "Pending" for t in trials(fake))
    assert run_to_end(fake)["trials"]["succeeded"] == 2


def test_a_job_of_another_trial_under_the_name_is_not_adopted(fake: FakeKube) -> None:
    create(fake, experiment_body(max_trials=2, parallel=1))
    reconcile(fake)
    job = fake.objects[f"{JOBS}/exp-0000"]
    job["metadata"]["ownerReferences"][0]["uid"] = "an-older-trial"
    fake.objects[f"{TRIALS}/exp-0000"]["status"] = {}
    reconcile(fake)  # the Job is another trial's: create it -> 409 -> wait
    assert not trials(fake)[0]["status"].get("jobName")
    del fake.objects[f"{JOBS}/exp-0000"]
    reconcile(fake)
    add_pod(fake, fake.of_kind("jobs")[0], "Running")
    reconcile(fake)  # records the new Job on its trial
    assert trials(fake)[0]["status"]["jobName"] == "exp-0000"
    owner = fake.objects[f"{JOBS}/exp-0000"]["metadata"]["ownerReferences"][0]["uid"]
    assert owner == trials(fake)[0]["metadata"]["uid"]


def test_pods_count_only_through_the_job_that_owns_them(fake: FakeKube) -> None:
    create(fake, experiment_body(max_trials=2, parallel=1))
    reconcile(fake)
    finish_pods(fake)
    pod = fake.of_kind("pods")[0]
    pod["metadata"]["ownerReferences"][0]["uid"] = "another-job"
    reconcile(fake)
    assert trials(fake)[0]["status"]["phase"] == "Pending"


def test_a_key_secret_of_an_earlier_experiment_is_waited_out(
    fake: FakeKube, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBETUNE_INGEST_URL", "http://ingest:8443")
    create(fake, experiment_body(max_trials=1, parallel=1))
    fake.objects[f"{SECRETS}/exp-kubetune-key"] = {
        "metadata": {"name": "exp-kubetune-key", "namespace": "team", "uid": "s",
                     "ownerReferences": [{"uid": "an-older-experiment", "controller": True}]},
        "data": {"key": "a2V5"},
    }  # fmt: skip
    reconcile(fake)
    assert not fake.of_kind("jobs")
    fake.collect_garbage()
    reconcile(fake)
    [job] = fake.of_kind("jobs")
    init = job["spec"]["template"]["spec"]["initContainers"]
    assert [c["name"] for c in init] == ["kubetune-reporter"]


def test_a_settled_trial_claims_only_the_job_it_created(fake: FakeKube) -> None:
    create(fake, experiment_body(max_trials=2, parallel=1))
    reconcile(fake)
    finish_pods(fake)
    reconcile(fake)  # exp-0000 settles; from now on it is in the settled log
    assert trials(fake)[0]["status"]["phase"] == "Succeeded"
    job = fake.objects[f"{JOBS}/exp-0000"]
    del job["spec"]["ttlSecondsAfterFinished"]  # as if that write had been cut short
    job["metadata"]["ownerReferences"][0]["uid"] = "an-older-trial"
    reconcile(fake)  # not its Job: no TTL set on it
    assert "ttlSecondsAfterFinished" not in fake.objects[f"{JOBS}/exp-0000"]["spec"]
    job["metadata"]["ownerReferences"][0]["uid"] = trials(fake)[0]["metadata"]["uid"]
    reconcile(fake)  # its own Job, found through the log: it expires
    assert fake.objects[f"{JOBS}/exp-0000"]["spec"]["ttlSecondsAfterFinished"] == 300
