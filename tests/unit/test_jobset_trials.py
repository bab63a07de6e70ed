"""JobSet trials, piece by piece: the JobSet a trial is built as, where its reporter runs and
whose reports its token admits, and the outcome read from its status and pods."""

from __future__ import annotations

from typing import Any

from kubetune.api import TuningExperiment, parse_experiment, parse_trial
from kubetune.api.workload import kind_rules
from kubetune.planning.ingest_rules import TrialRef, check_token, parse_report_request
from kubetune.planning.jobs import TRIAL_LABEL, build_trial_jobset, build_trial_resource
from kubetune.planning.lifecycle import TrialReason
from kubetune.planning.outcome import job_finished, jobset_outcome
from kubetune.planning.sidecar import (
    COMPLETION_INDEX_ANNOTATION,
    JOB_INDEX_LABEL,
    REPLICATED_JOB_LABEL,
    REPORTER_CONTAINER,
    add_reporter,
    designated_replica,
)
from kubetune.planning.tokens import trial_token
from kubetune.reporting import env as trial_env
from tests.unit.fake_kube import FakeKube
from tests.unit.pass_helpers import NAMESPACE, create, experiment_body, reconcile, status, trials
from tests.unit.test_trial_workload import JOBSET_API, jobset_workload

Document = dict[str, Any]
KEY = b"k" * 32


def _body(**workload: Any) -> Document:
    body = experiment_body(trial={"workload": jobset_workload(**workload)})
    body["metadata"]["uid"] = "exp-uid"
    return body


def _experiment(**workload: Any) -> TuningExperiment:
    return parse_experiment(_body(**workload))


def _jobset(**workload: Any) -> Document:
    trial = build_trial_resource(_body(**workload), 3, "exp-0003", {"x": 0.25, "y": -0.5})
    trial["metadata"]["uid"] = "trial-uid"
    return build_trial_jobset(_experiment(**workload), parse_trial(trial))


def _pods(jobset: Document) -> list[Document]:
    return [job["template"]["spec"]["template"] for job in jobset["spec"]["replicatedJobs"]]


def test_every_pod_of_every_replicated_job_runs_the_trial_with_its_gpu() -> None:
    jobset = _jobset()
    assert jobset["kind"] == "JobSet" and jobset["metadata"]["name"] == "exp-0003"
    assert jobset["metadata"]["ownerReferences"][0]["uid"] == "trial-uid"
    assert jobset["spec"]["suspend"] is False
    for replicated, pod in zip(jobset["spec"]["replicatedJobs"], _pods(jobset), strict=True):
        assert replicated["template"]["metadata"]["labels"][TRIAL_LABEL] == "exp-0003"
        assert pod["metadata"]["labels"][TRIAL_LABEL] == "exp-0003"
        (trainer,) = pod["spec"]["containers"]
        assert trainer["args"] == ["--x=0.25", "--y=-0.5"]
        env = {variable["name"]: variable.get("value") for variable in trainer["env"]}
        assert env["KUBETUNE_PARAM_X"] == "0.25" and env[trial_env.TRIAL] == "exp-0003"
        assert trainer["resources"]["limits"] == {"nvidia.com/gpu": "1"}
        assert pod["spec"]["restartPolicy"] == "Never"
    # the workload's own Job fields are kept; the builder is deterministic
    leader = jobset["spec"]["replicatedJobs"][0]
    assert (leader["replicas"], leader["template"]["spec"]["parallelism"]) == (1, 2)
    assert _jobset() == jobset


def _with_reporter(jobset: Document, placement: tuple[str, str] | None) -> Document:
    replicated, replica = placement or (None, None)
    return add_reporter(jobset, image="r:1", ingest_url="http://in", experiment="exp",
                        trial="exp-0003", token="t", replicated_job=replicated,
                        replica=replica)  # fmt: skip


def test_the_reporter_runs_in_the_designated_replicated_job_only() -> None:
    placement = designated_replica(_experiment().spec.trial.workload)
    assert placement == ("leader", "leader/0/0")
    leader, workers = _pods(_with_reporter(_jobset(), placement))
    (reporter,) = leader["spec"]["initContainers"]
    assert reporter["name"] == REPORTER_CONTAINER
    fields = {e["name"]: e["valueFrom"]["fieldRef"]["fieldPath"] for e in reporter["env"]
              if e["name"] in trial_env.REPLICA_ENV}  # fmt: skip
    assert fields == {
        trial_env.REPLICATED_JOB: f"metadata.labels['{REPLICATED_JOB_LABEL}']",
        trial_env.JOB_INDEX: f"metadata.labels['{JOB_INDEX_LABEL}']",
        trial_env.COMPLETION_INDEX: f"metadata.annotations['{COMPLETION_INDEX_ANNOTATION}']",
    }
    assert {"name": trial_env.REPORTING_REPLICA, "value": "leader/0/0"} in reporter["env"]
    assert "initContainers" not in workers["spec"]
    chosen = _experiment(reporter={"replicatedJob": "workers", "jobIndex": 1}).spec.trial.workload
    assert designated_replica(chosen) == ("workers", "workers/1/0")


def test_the_token_admits_the_designated_pod_and_refuses_its_siblings() -> None:
    token = trial_token(KEY, "ns", "exp", "exp-0003", "leader/0/0")
    designated = TrialRef("ns", "exp", "exp-0003", "leader/0/0")
    assert check_token(KEY, designated, token) is None
    for replica in ("leader/0/1", "workers/0/0", None):
        refused = check_token(KEY, TrialRef("ns", "exp", "exp-0003", replica), token)
        assert refused is not None and refused.status == 401, replica
    body = b'{"namespace": "ns", "experiment": "exp", "trial": "exp-0003", "replica": "%s",' \
        b' "reports": [{"step": 1, "metrics": {"score": 1}}]}'  # fmt: skip
    parsed = parse_report_request(body % b"leader/0/0")
    assert not isinstance(parsed, type(refused)) and parsed.trial == designated
    malformed = parse_report_request(body % b"../etc")
    assert getattr(malformed, "status", None) == 400


def _pod(place: tuple[str, int, int], phase: str, **terminated: Any) -> Document:
    name, job_index, completion = place
    container = {"name": "trainer", "state": {"terminated": terminated} if terminated else {}}
    return {
        "metadata": {
            "name": f"{name}-{job_index}-{completion}",
            "labels": {REPLICATED_JOB_LABEL: name, JOB_INDEX_LABEL: str(job_index)},
            "annotations": {COMPLETION_INDEX_ANNOTATION: str(completion)},
        },
        "status": {"phase": phase, "containerStatuses": [container]},
    }


def _status(*conditions: str) -> Document:
    found = [{"type": kind, "status": "True", "reason": kind} for kind in conditions]
    return {"kind": "JobSet", "metadata": {}, "spec": {}, "status": {"conditions": found}}


def test_a_completed_jobset_succeeds_with_the_designated_pod_s_metrics() -> None:
    pods = [
        _pod(("leader", 0, 1), "Succeeded", exitCode=0, message="kubetune metric score=9"),
        _pod(("leader", 0, 0), "Succeeded", exitCode=0, message="kubetune metric score=0.5"),
    ]
    outcome = jobset_outcome(_status("Completed"), pods, "trainer", None, "leader/0/0")
    assert (outcome.phase, outcome.reason, outcome.metrics) == ("Succeeded", "Completed", {
        "score": 0.5})  # fmt: skip
    assert job_finished(_status("Completed")) and not job_finished(_status())


def test_a_finished_pod_alone_does_not_end_a_jobset_trial() -> None:
    pods = [_pod(("leader", 0, 0), "Succeeded", exitCode=0), _pod(("workers", 0, 0), "Running")]
    assert jobset_outcome(_status(), pods, "trainer", None, "leader/0/0").phase == "Running"


def test_a_failed_jobset_fails_with_its_failing_pod_s_reason() -> None:
    oom = [_pod(("leader", 0, 0), "Running"),
           _pod(("workers", 1, 0), "Failed", exitCode=137, reason="OOMKilled")]  # fmt: skip
    failed = jobset_outcome(_status("Failed"), oom, "trainer", None, "leader/0/0")
    assert (failed.phase, failed.reason) == ("Failed", TrialReason.OOM_KILLED)
    exited = [_pod(("workers", 0, 0), "Failed", exitCode=3, reason="Error")]
    failed = jobset_outcome(_status("Failed"), exited, "trainer", None, "leader/0/0")
    assert (failed.reason, failed.message) == (
        TrialReason.EXIT_CODE,
        "the trainer exited with code 3",
    )


def test_the_experiment_s_rules_decide_and_a_rule_that_cannot_judge_fails_the_trial() -> None:
    workload = _experiment(successWhen="status.restarts < 1").spec.trial.workload
    rules = kind_rules(workload)
    jobset = {"kind": "JobSet", "metadata": {}, "spec": {}, "status": {"restarts": 0}}
    assert jobset_outcome(jobset, [], "trainer", rules, "leader/0/0").phase == "Succeeded"
    jobset["status"] = {"restarts": "none"}  # a string < 1: no such overload
    failed = jobset_outcome(jobset, [], "trainer", rules, "leader/0/0")
    assert failed.phase == "Failed" and "spec.trial.workload.successWhen" in str(failed.message)


def _play_jobset(fake: FakeKube, jobset: Document, message: str) -> None:
    """What JobSet, the Job controller and the kubelet would leave: a Job per replica,
    a finished pod per completion, the JobSet Completed."""
    labels = jobset["metadata"]["labels"]
    for replicated in jobset["spec"]["replicatedJobs"]:
        for job_index in range(replicated["replicas"]):
            name = f"{jobset['metadata']['name']}-{replicated['name']}-{job_index}"
            metadata = {"name": name, "namespace": NAMESPACE, "labels": labels,
                        "ownerReferences": [_owner(jobset)]}  # fmt: skip
            job = {"metadata": metadata, "spec": replicated["template"]["spec"]}
            job = fake.request("POST", f"/apis/batch/v1/namespaces/{NAMESPACE}/jobs", body=job)
            for completion in range(replicated["template"]["spec"].get("completions", 1)):
                place = (replicated["name"], job_index, completion)
                pod = _pod(place, "Succeeded", exitCode=0, message=message)
                pod["metadata"] |= {"namespace": NAMESPACE, "name": f"{name}-{completion}",
                                    "ownerReferences": [_owner(job)]}  # fmt: skip
                pod["metadata"]["labels"] |= labels
                fake.request("POST", f"/api/v1/namespaces/{NAMESPACE}/pods", body=pod)
    path = f"{JOBSET_API}/namespaces/{NAMESPACE}/jobsets/{jobset['metadata']['name']}"
    fake.request("PATCH", f"{path}/status", body={"status": _status("Completed")["status"]})


def _owner(owner: Document) -> Document:
    metadata = owner["metadata"]
    return {"name": metadata["name"], "uid": metadata["uid"], "controller": True}


def test_the_operator_settles_a_jobset_trial_and_stops_the_rest_as_whole_jobsets() -> None:
    fake = FakeKube()
    fake.objects[JOBSET_API] = {"resources": [{"name": "jobsets"}]}
    body = experiment_body(max_trials=4, parallel=2, objective={"target": 1.0},
                           trial={"workload": jobset_workload()})  # fmt: skip
    create(fake, body)
    reconcile(fake)
    first, second = sorted(fake.of_kind("jobsets"), key=lambda js: js["metadata"]["name"])
    _play_jobset(fake, first, "kubetune metric score=2")
    reconcile(fake)
    done = trials(fake)
    assert [trial["status"]["phase"] for trial in done] == ["Succeeded", "EarlyStopped"]
    assert done[0]["status"]["metrics"]["score"] == 2.0, done[0]["status"]
    assert status(fake)["phase"] == "Succeeded"
    deleted = f"{JOBSET_API}/namespaces/{NAMESPACE}/jobsets/{second['metadata']['name']}"
    assert ("DELETE", deleted) in fake.requests
    assert not [path for path in fake.objects if path.startswith("/apis/batch/v1/namespaces/")
                and "/jobs/exp-0001" in path]  # fmt: skip


def _child_job(reason: str, deadline: int | None = 30) -> Document:
    condition = {"type": "Failed", "status": "True", "reason": reason}
    spec = {} if deadline is None else {"activeDeadlineSeconds": deadline}
    return {"kind": "Job", "metadata": {}, "spec": spec, "status": {"conditions": [condition]}}


def test_a_jobset_whose_job_ran_past_its_deadline_is_a_trial_timeout_as_a_job_trial() -> None:
    killed = [_pod(("leader", 0, 0), "Failed", exitCode=143, reason="Error")]
    children = [_child_job("BackoffLimitExceeded"), _child_job("DeadlineExceeded", 30)]
    failed = jobset_outcome(_status("Failed"), killed, "trainer", None, "leader/0/0",
                            children=children)  # fmt: skip
    assert (failed.phase, failed.reason) == ("Failed", TrialReason.TIMEOUT)
    assert failed.message == "ran longer than limits.trialTimeout (30 s)"
    crashed = jobset_outcome(_status("Failed"), killed, "trainer", None, "leader/0/0",
                             children=[_child_job("BackoffLimitExceeded")])  # fmt: skip
    assert crashed.reason == TrialReason.EXIT_CODE


def test_the_pass_reads_a_jobset_trial_s_own_jobs_and_names_its_timeout() -> None:
    fake = FakeKube()
    fake.objects[JOBSET_API] = {"resources": [{"name": "jobsets"}]}
    body = experiment_body(max_trials=1, parallel=1, trial={"workload": jobset_workload()})
    body["spec"]["limits"] = {**body["spec"].get("limits", {}), "trialTimeout": "45s"}
    create(fake, body)
    reconcile(fake)
    (jobset,) = fake.of_kind("jobsets")
    replicated = jobset["spec"]["replicatedJobs"][0]
    assert replicated["template"]["spec"]["activeDeadlineSeconds"] == 45
    metadata = {"name": f"{jobset['metadata']['name']}-{replicated['name']}-0",
                "namespace": NAMESPACE, "labels": jobset["metadata"]["labels"],
                "ownerReferences": [_owner(jobset)]}  # fmt: skip
    expired = {"metadata": metadata, "spec": replicated["template"]["spec"],
               "status": _child_job("DeadlineExceeded")["status"]}  # fmt: skip
    fake.request("POST", f"/apis/batch/v1/namespaces/{NAMESPACE}/jobs", body=expired)
    path = f"{JOBSET_API}/namespaces/{NAMESPACE}/jobsets/{jobset['metadata']['name']}"
    fake.request("PATCH", f"{path}/status", body={"status": _status("Failed")["status"]})
    reconcile(fake)
    (trial,) = trials(fake)
    assert (trial["status"]["phase"], trial["status"]["reason"]) == ("Failed", "TrialTimeout")
    assert trial["status"]["message"] == "ran longer than limits.trialTimeout (45 s)"
