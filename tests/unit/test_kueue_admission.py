"""Trials admitted by Kueue, through the whole pass on the in-memory API server: Kueue is
played by the test (it clears a Job's suspend to admit it, sets it again to evict it, and
says on the Job's Workload why it waits)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from kubetune.k8s.workloads import kueue_workloads_path
from kubetune.local.prepare import load_document, prepare_experiment
from kubetune.planning.admission import waiting_outcome
from kubetune.planning.jobs import QUEUE_NAME_LABEL
from kubetune.planning.lifecycle import TrialReason
from kubetune.planning.outcome import trial_outcome
from tests.unit.fake_kube import FakeKube
from tests.unit.pass_helpers import (
    JOBS,
    NAMESPACE,
    add_pod,
    condition,
    create,
    events,
    experiment_body,
    reconcile,
    status,
    trials,
)

Document = dict[str, Any]
INSUFFICIENT = (
    "couldn't assign flavors to pod set main: insufficient unused quota for nvidia.com/gpu "
    "in flavor gpu, 1 more needed"
)
TOO_BIG = (
    "couldn't assign flavors to pod set main: insufficient quota for nvidia.com/gpu in flavor "
    "gpu, previously considered podsets requests (0) + current podset request (4) > maximum "
    "capacity (2)"
)
NO_RESOURCE = (
    "couldn't assign flavors to pod set main: resource nvidia.com/gpu unavailable in ClusterQueue"
)


@pytest.fixture
def fake() -> FakeKube:
    return FakeKube()


def queued_experiment(
    fake: FakeKube, *, parallel: int = 6, max_trials: int = 8, max_failed: int = 3
) -> None:
    create(fake, experiment_body(max_trials=max_trials, parallel=parallel,
                                 limits={"maxFailedTrials": max_failed},
                                 trial={"queue": {"name": "gpus", "maxWaiting": 2}}))  # fmt: skip


def jobs(fake: FakeKube) -> list[Document]:
    return fake.of_kind("jobs")


def admit(fake: FakeKube, job: Document, *, running: bool = True) -> None:
    """Kueue admits the Job; the Job controller makes its pod."""
    job["spec"]["suspend"] = False
    if running:
        add_pod(fake, job, "Running")


def evict(fake: FakeKube, job: Document) -> None:
    """Kueue suspends the Job again; the Job controller deletes its pod."""
    job["spec"]["suspend"] = True
    fake.objects.pop(f"/api/v1/namespaces/{NAMESPACE}/pods/{job['metadata']['name']}-pod")


def pending_workload(fake: FakeKube, job: Document, message: str) -> None:
    """The Workload Kueue made for `job`, not admitted, with the flavor assigner's reason."""
    name = f"job-{job['metadata']['name']}-1a2b3"
    owner = {"kind": "Job", "name": job["metadata"]["name"], "uid": job["metadata"]["uid"],
             "controller": True}  # fmt: skip
    fake.objects[f"{kueue_workloads_path(NAMESPACE)}/{name}"] = {
        "metadata": {"name": name, "namespace": NAMESPACE, "uid": str(uuid.uuid4()),
                     "ownerReferences": [owner]},
        "status": {"conditions": [{"type": "QuotaReserved", "status": "False",
                                   "reason": "Pending", "message": message}]},
    }  # fmt: skip


def phases(fake: FakeKube) -> list[str]:
    return [trial.get("status", {}).get("phase", "Pending") for trial in trials(fake)]


def test_at_most_max_waiting_trials_wait_and_new_ones_follow_admissions(fake: FakeKube) -> None:
    queued_experiment(fake)
    reconcile(fake)
    reconcile(fake)
    assert len(jobs(fake)) == 2 and all(job["spec"]["suspend"] for job in jobs(fake))
    assert phases(fake) == ["Queued", "Queued"]
    counts = status(fake)["trials"]
    assert (counts["queued"], counts["running"]) == (2, 0)
    reconcile(fake)
    assert len(jobs(fake)) == 2  # the bound holds however often the pass runs
    admit(fake, jobs(fake)[0])
    reconcile(fake)
    reconcile(fake)
    assert len(jobs(fake)) == 3  # one ran, one more may wait
    counts = status(fake)["trials"]
    assert (counts["running"], counts["queued"]) == (1, 2)


def test_an_admitted_trial_whose_pod_has_not_started_still_waits(fake: FakeKube) -> None:
    queued_experiment(fake)
    reconcile(fake)
    reconcile(fake)
    for job in jobs(fake):
        admit(fake, job, running=False)
    reconcile(fake)
    assert len(jobs(fake)) == 2
    assert status(fake)["trials"]["queued"] == 2


def test_waiting_for_quota_is_a_condition_with_the_counts(fake: FakeKube) -> None:
    queued_experiment(fake)
    reconcile(fake)
    reconcile(fake)
    waiting = condition(fake, "WaitingForQuota")
    assert waiting is not None and waiting["status"] == "True"
    assert "2 trials wait for admission to LocalQueue gpus; 0 running" in waiting["message"]
    for job in jobs(fake):
        admit(fake, job)
    reconcile(fake)
    for job in jobs(fake)[2:]:
        admit(fake, job)
    reconcile(fake)
    assert status(fake)["trials"]["running"] == 4


def test_kueues_reason_for_waiting_reaches_the_trial(fake: FakeKube) -> None:
    queued_experiment(fake)
    reconcile(fake)
    pending_workload(fake, jobs(fake)[0], INSUFFICIENT)
    reconcile(fake)
    first = trials(fake)[0]["status"]
    assert (first["phase"], first["reason"]) == ("Queued", "WaitingForQuota")
    assert "insufficient unused quota" in first["message"]


def test_a_preempted_trial_waits_again_keeps_its_parameters_and_is_no_failure(
    fake: FakeKube,
) -> None:
    queued_experiment(fake, parallel=1, max_trials=1, max_failed=0)
    reconcile(fake)
    [job] = jobs(fake)
    params = trials(fake)[0]["spec"]["parameters"]
    admit(fake, job)
    reconcile(fake)
    assert phases(fake) == ["Running"]
    evict(fake, job)
    reconcile(fake)
    trial = trials(fake)[0]
    assert trial["status"]["phase"] == "Preempted"
    assert (trial["status"]["reason"], trial["status"]["preemptions"]) == ("Preempted", 1)
    assert any(reason == "TrialPreempted" for reason, _, _ in events(fake))
    counts = status(fake)["trials"]
    assert (counts["failed"], counts["queued"], counts["created"]) == (0, 1, 1)
    reconcile(fake)
    assert trials(fake)[0]["status"]["preemptions"] == 1  # counted once, not per pass
    admit(fake, job)
    reconcile(fake)
    trial = trials(fake)[0]
    assert trial["status"]["phase"] == "Running" and "reason" not in trial["status"]
    assert trial["spec"]["parameters"] == params and len(jobs(fake)) == 1
    fake.objects.pop(f"/api/v1/namespaces/{NAMESPACE}/pods/{job['metadata']['name']}-pod")
    add_pod(fake, job, "Succeeded", message='{"metrics": {"score": 0.5}}')
    reconcile(fake)
    assert status(fake)["phase"] == "Succeeded"
    assert status(fake)["trials"]["failed"] == 0 and status(fake)["best"]["value"] == 0.5


@pytest.mark.parametrize(
    ("message", "reason"),
    [(TOO_BIG, "ExceedsMaxQuota"), (NO_RESOURCE, "NoMatchingFlavor")],
)
def test_a_trial_kueue_can_never_admit_fails_the_experiment_in_one_pass(
    fake: FakeKube, message: str, reason: str
) -> None:
    queued_experiment(fake, parallel=1)
    reconcile(fake)
    [job] = jobs(fake)
    pending_workload(fake, job, message)
    reconcile(fake)
    assert status(fake)["phase"] == "Failed"
    failed = condition(fake, "Failed")
    assert failed is not None and failed["reason"] == reason
    assert "exp-0000 can never be admitted" in failed["message"] and message in failed["message"]
    assert trials(fake)[0]["status"]["reason"] == reason
    assert f"{JOBS}/exp-0000" not in fake.objects  # its place in the queue is given up
    assert not jobs(fake)


@pytest.mark.parametrize(
    ("message", "phase", "reason"),
    [
        (TOO_BIG, "Failed", TrialReason.EXCEEDS_MAX_QUOTA),
        (NO_RESOURCE, "Failed", TrialReason.NO_MATCHING_FLAVOR),
        ("couldn't assign flavors to pod set main: flavor gpu doesn't match node affinity",
         "Failed", TrialReason.NO_MATCHING_FLAVOR),
        (INSUFFICIENT, "Queued", TrialReason.WAITING_FOR_QUOTA),
        (f"{TOO_BIG}, {INSUFFICIENT.split(': ', 1)[1]}", "Queued", TrialReason.WAITING_FOR_QUOTA),
        ("LocalQueue gpus doesn't exist", "Queued", TrialReason.WAITING_FOR_QUOTA),
    ],
)  # fmt: skip
def test_kueues_words_tell_waiting_from_never(message: str, phase: str, reason: str) -> None:
    workload = {"status": {"conditions": [
        {"type": "QuotaReserved", "status": "False", "message": message}]}}  # fmt: skip
    outcome = waiting_outcome(workload)
    assert (outcome.phase, outcome.reason, outcome.message) == (phase, reason, message)


def test_a_job_waiting_without_a_workload_says_kueue_must_make_one() -> None:
    outcome = waiting_outcome(None)
    assert (outcome.phase, outcome.reason) == ("Queued", TrialReason.WAITING_FOR_QUOTA)
    assert "Kueue must be installed and manage batch/Job" in str(outcome.message)


def test_a_queued_jobset_is_judged_by_its_own_workload_and_named_as_a_jobset() -> None:
    queued = {"kind": "JobSet", "metadata": {"labels": {QUEUE_NAME_LABEL: "gpus"}},
              "spec": {"suspend": True}, "status": {}}  # fmt: skip
    alone = trial_outcome(queued, [], "trainer")
    assert "no Kueue Workload for the JobSet yet" in str(alone.message)
    assert "manage jobset.x-k8s.io/JobSet" in str(alone.message)
    workload = {"status": {"conditions": [
        {"type": "QuotaReserved", "status": "False", "message": TOO_BIG}]}}  # fmt: skip
    never = trial_outcome(queued, [], "trainer", workload)
    assert (never.phase, never.reason) == ("Failed", TrialReason.EXCEEDS_MAX_QUOTA)


def test_an_experiment_without_a_queue_counts_no_queued_trials(fake: FakeKube) -> None:
    create(fake, experiment_body(max_trials=4, parallel=2))
    reconcile(fake)
    assert "queued" not in status(fake)["trials"]
    assert condition(fake, "WaitingForQuota") is None


def test_local_mode_runs_the_same_yaml_as_if_no_queue_were_set(tmp_path: Path) -> None:
    body = experiment_body(trial={"queue": {"name": "gpus"}})
    body["spec"]["trial"]["template"]["spec"]["containers"][0]["command"] = ["python", "t.py"]
    path = tmp_path / "exp.yaml"
    path.write_text(json.dumps(body))
    assert prepare_experiment(load_document(path)).spec.trial.queue is None
