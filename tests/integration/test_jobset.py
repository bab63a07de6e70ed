"""Real JobSet beside the local control plane: its webhook defaults and validates JobSets,
its controller makes one Job per replica of each replicated job, and the JobSet completes
once they all do (their pods played by kwok on the fake GPU node), or fails when one
worker does. kubetune's built-in CEL rules for JobSet (`api.workload`, read by
`planning.workload_rules`) judge both statuses as the real controller writes them. The
operator runs an experiment whose trials are JobSets to the right best trial, fails a
trial whose worker is killed for memory with that reason, lets ASHA stop losing JobSet
trials (their pods all go) while only the designated pod's reporter sends, loses and
duplicates nothing when killed 5 times, and refuses the kind where its setting does not
allow it, naming it. Kueue, with its JobSet integration, admits queued JobSet trials
whole, within the quota.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from prometheus_client import REGISTRY

from kubetune.api.workload import JOBSET, KindRules, TrialWorkload, kind_rules
from kubetune.planning.jobs import TRIAL_LABEL as TRIAL
from kubetune.planning.sidecar import JOB_INDEX_LABEL, REPLICATED_JOB_LABEL
from kubetune.planning.workload_rules import Verdict, verdict
from tests.cluster import (
    CUSTOM_STATUS_ANNOTATION,
    GPU_RESOURCE,
    ClusterClient,
    ControlPlane,
    Ticker,
    eventually,
)
from tests.cluster.jobset import JOBSET_GROUP, JOBSET_VERSION, JobSetManager
from tests.cluster.kueue import FRAMEWORKS, JOBSET_FRAMEWORK, KueueManager
from tests.integration.curve_trainer import quality
from tests.integration.operator_harness import (
    Cluster,
    GatedTrainer,
    TrialPodDriver,
    condition,
    experiment,
    operator_running,
    run_through_kills,
    score,
    scoring_trainer,
)
from tests.integration.process_pods import ProcessPodDriver
from tests.integration.test_kueue import LOCAL_QUEUE, Queues, workloads_by_job
from tests.integration.test_metrics_flow import curve_experiment

# jobset_dir first, so that without a JobSet build the tests skip before a cluster starts.
pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("jobset_dir")]

Document = dict[str, Any]


@pytest.fixture(scope="module")
def cluster(bin_dir: Path) -> Iterator[ClusterClient]:
    """A control plane of its own, gone with this module: the JobSet CRD would otherwise
    outlive it, and tests that run the operator where JobSet is not installed would see it."""
    before = os.environ.get("KUBECONFIG")
    with ControlPlane(bin_dir) as plane:
        yield plane
    if before is not None:  # `kube` pointed it here; later modules' clients read it
        os.environ["KUBECONFIG"] = before


def _replicated_job(name: str, replicas: int, **pod_metadata: Any) -> Document:
    container = {"name": "worker", "image": "trainer", "command": ["train"],
                 "resources": {"limits": {GPU_RESOURCE: "1"}}}  # fmt: skip
    pod = {"metadata": pod_metadata, "spec": {"containers": [container], "restartPolicy": "Never"}}
    job_spec = {"backoffLimit": 0, "template": pod}
    return {"name": name, "replicas": replicas, "template": {"spec": job_spec}}


def _jobset(name: str, workers: Document) -> Document:
    replicated = [_replicated_job("leader", 1), workers]
    return {"apiVersion": f"{JOBSET_GROUP}/{JOBSET_VERSION}", "kind": "JobSet",
            "metadata": {"name": name}, "spec": {"replicatedJobs": replicated}}  # fmt: skip


def _built_in_rules() -> KindRules:
    workload = TrialWorkload.model_validate(
        {"kind": JOBSET, "spec": {"replicatedJobs": [{"name": "workers"}]}}
    )
    rules = kind_rules(workload)
    assert rules is not None
    return rules


def _verdict(objects: client.CustomObjectsApi, namespace: str, name: str) -> Verdict | None:
    jobset: Document = objects.get_namespaced_custom_object(  # type: ignore[assignment]
        JOBSET_GROUP, JOBSET_VERSION, namespace, "jobsets", name
    )
    return verdict(_built_in_rules(), jobset.get("status") or {})


def _fail_pod(core: client.CoreV1Api, namespace: str, name: str) -> None:
    """Writes the status a kubelet would for a worker whose trainer exited 1."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    terminated = {"exitCode": 1, "reason": "Error", "startedAt": now, "finishedAt": now}
    container = {"name": "worker", "image": "trainer", "imageID": "", "ready": False,
                 "restartCount": 0, "state": {"terminated": terminated}}  # fmt: skip
    status = {"phase": "Failed", "containerStatuses": [container]}
    core.patch_namespaced_pod_status(name, namespace, {"status": status})


def test_a_jobset_of_two_replicated_jobs_runs_to_completion(
    jobset: JobSetManager, cluster: ClusterClient, namespace: str
) -> None:
    objects = client.CustomObjectsApi(cluster.api_client())
    objects.create_namespaced_custom_object(
        JOBSET_GROUP, JOBSET_VERSION, namespace, "jobsets",
        _jobset("smoke", _replicated_job("workers", 2)),
    )  # fmt: skip
    assert _verdict(objects, namespace, "smoke") is None  # no status yet: not decided
    eventually(lambda: _verdict(objects, namespace, "smoke"), "JobSet smoke finished", 90)
    assert _verdict(objects, namespace, "smoke") == Verdict.SUCCEEDED
    jobs = cluster.batch_v1().list_namespaced_job(namespace).items
    assert sorted(job.metadata.name for job in jobs) == [
        "smoke-leader-0", "smoke-workers-0", "smoke-workers-1"
    ]  # fmt: skip
    assert all(job.status.succeeded == 1 for job in jobs)
    pods = cluster.core_v1().list_namespaced_pod(namespace).items
    # JobSet's pod webhook labels every pod it makes with its replicated job and index.
    labels = sorted((p.metadata.labels["jobset.sigs.k8s.io/replicatedjob-name"],
                     p.metadata.labels["jobset.sigs.k8s.io/job-index"]) for p in pods)  # fmt: skip
    assert labels == [("leader", "0"), ("workers", "0"), ("workers", "1")]


def test_a_failing_worker_fails_the_jobset_by_the_built_in_rule(
    jobset: JobSetManager, cluster: ClusterClient, namespace: str
) -> None:
    objects, core = client.CustomObjectsApi(cluster.api_client()), cluster.core_v1()
    workers = _replicated_job("workers", 2, annotations=dict([CUSTOM_STATUS_ANNOTATION]))
    objects.create_namespaced_custom_object(
        JOBSET_GROUP, JOBSET_VERSION, namespace, "jobsets", _jobset("failing", workers)
    )
    selector = "jobset.sigs.k8s.io/replicatedjob-name=workers,jobset.sigs.k8s.io/job-index=1"
    pod = eventually(
        lambda: core.list_namespaced_pod(namespace, label_selector=selector).items,
        "the second worker's pod", 60,
    )[0]  # fmt: skip
    _fail_pod(core, namespace, pod.metadata.name)
    eventually(lambda: _verdict(objects, namespace, "failing"), "JobSet failing finished", 90)
    assert _verdict(objects, namespace, "failing") == Verdict.FAILED


def _jobset_experiment(name: str, *, max_trials: int, parallel: int) -> Document:
    """`experiment`, each trial a JobSet of 2 replicated jobs of 2 pods each (a leader Job
    of 2 indexed pods, 2 worker Jobs of one), every pod with one GPU."""
    body = experiment(name, max_trials=max_trials, parallel=parallel)
    leader = {"name": "leader", "replicas": 1,
              "template": {"spec": {"parallelism": 2, "completions": 2}}}  # fmt: skip
    replicated = [leader, {"name": "workers", "replicas": 2}]
    body["spec"]["trial"]["workload"] = {"kind": "JobSet", "spec": {"replicatedJobs": replicated}}
    return body


def _jobsets(kube: Cluster) -> list[Document]:
    found = kube.custom.list_namespaced_custom_object(
        JOBSET_GROUP, JOBSET_VERSION, kube.namespace, "jobsets"
    )
    return list(found["items"])


def _trial_pods(kube: Cluster, trial: str) -> list[Any]:
    return list(
        kube.core.list_namespaced_pod(kube.namespace, label_selector=f"{TRIAL}={trial}").items
    )


def test_an_experiment_of_jobset_trials_runs_to_succeeded_with_the_true_best(
    jobset: JobSetManager,
    cluster: ClusterClient,
    namespace: str,
    kube: Cluster,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # An ingest URL, so the reporter sidecar is placed (no sidecar runs on kwok's pods).
    monkeypatch.setenv("KUBETUNE_INGEST_URL", "http://127.0.0.1:9")
    with TrialPodDriver(cluster, namespace, scoring_trainer), operator_running(namespace):
        kube.create(_jobset_experiment("multi-node", max_trials=3, parallel=2))
        done = kube.wait_for_phase("multi-node", "Succeeded", "Failed", timeout=120)

    assert done["status"]["phase"] == "Succeeded", done["status"]
    trials = kube.trials()
    assert [t["status"]["phase"] for t in trials] == ["Succeeded"] * 3
    best = max(trials, key=lambda t: score(t["spec"]["parameters"]))
    assert done["status"]["best"]["trial"] == best["metadata"]["name"]
    assert done["status"]["best"]["value"] == pytest.approx(score(best["spec"]["parameters"]))
    jobsets = {js["metadata"]["name"]: js for js in _jobsets(kube)}
    assert sorted(jobsets) == [t["metadata"]["name"] for t in trials]
    for trial in trials:
        _assert_built_for(
            trial, jobsets[trial["metadata"]["name"]], _trial_pods(kube, trial["metadata"]["name"])
        )


def _assert_built_for(trial: Document, jobset: Document, pods: list[Any]) -> None:
    """The trial's JobSet is owned by it; each of its 4 pods has the trial's parameters
    and one GPU; only the leader's pods carry the reporter."""
    assert jobset["metadata"]["ownerReferences"][0]["uid"] == trial["metadata"]["uid"]
    places = sorted(
        (p.metadata.labels[REPLICATED_JOB_LABEL], p.metadata.labels[JOB_INDEX_LABEL]) for p in pods
    )
    assert places == [("leader", "0"), ("leader", "0"), ("workers", "0"), ("workers", "1")]
    params = trial["spec"]["parameters"]
    for pod in pods:
        (trainer,) = pod.spec.containers
        assert trainer.args == [f"--x={params['x']!r}", f"--y={params['y']!r}"]
        assert trainer.resources.limits == {GPU_RESOURCE: "1"}
        reporters = [c.name for c in pod.spec.init_containers or []]
        leader = pod.metadata.labels[REPLICATED_JOB_LABEL] == "leader"
        assert reporters == (["kubetune-reporter"] if leader else []), pod.metadata.name


class OneWorkerOutOfMemory(TrialPodDriver):
    """Plays the pods; the second worker's trainer is killed for memory."""

    def _step(self, pod: Any) -> None:
        labels = pod.metadata.labels
        second = (labels[REPLICATED_JOB_LABEL], labels[JOB_INDEX_LABEL]) == ("workers", "1")
        if not second or pod.status.phase != "Running":
            super()._step(pod)
            return
        times = {"startedAt": "2026-01-01T00:00:00Z", "finishedAt": "2026-01-01T00:00:01Z"}
        self._write(pod.metadata.name, "Failed",
                    {"terminated": {"exitCode": 137, "reason": "OOMKilled", **times}})  # fmt: skip


def test_a_failing_worker_fails_its_jobset_trial_with_the_reason(
    jobset: JobSetManager, cluster: ClusterClient, namespace: str, kube: Cluster
) -> None:
    with OneWorkerOutOfMemory(cluster, namespace, GatedTrainer()), operator_running(namespace):
        kube.create(_jobset_experiment("oom", max_trials=1, parallel=1))
        kube.wait_for_phase("oom", "Succeeded", "Failed", timeout=120)
    (trial,) = kube.trials()
    assert trial["status"]["phase"] == "Failed", trial["status"]
    assert trial["status"]["reason"] == "OOMKilled"
    assert ("TrialFailed", "oom-0000: OOMKilled: the trainer ran out of memory") in kube.events(
        "oom"
    )


def test_a_jobset_trial_past_its_deadline_is_a_trial_timeout(
    jobset: JobSetManager, namespace: str, kube: Cluster
) -> None:
    """The real Job controller fails the trial's Jobs (DeadlineExceeded), JobSet fails the
    JobSet without saying why, and the trial says TrialTimeout, as a Job trial does."""
    body = _jobset_experiment("late", max_trials=1, parallel=1)
    body["spec"]["limits"] |= {"trialTimeout": "3s", "maxFailedTrials": 1}
    with operator_running(namespace):
        kube.create(body)
        eventually(lambda: _confirm_deletions(kube), "the Jobs' pods deleted at the deadline", 60)
        kube.wait_for_phase("late", "Succeeded", "Failed", timeout=60)
    (trial,) = kube.trials()
    assert (trial["status"]["phase"], trial["status"]["reason"]) == ("Failed", "TrialTimeout")
    assert trial["status"]["message"] == "ran longer than limits.trialTimeout (3 s)"


def _confirm_deletions(kube: Cluster) -> bool:
    """What a kubelet does for pods the Job controller deleted (no kubelet runs these):
    confirms they are gone, so the Jobs can be marked Failed. True once every Job has
    given up on its deadline and none of its pods is left."""
    pods = _trial_pods(kube, "late-0000")
    for pod in pods:
        if pod.metadata.deletion_timestamp:
            kube.core.delete_namespaced_pod(pod.metadata.name, kube.namespace,
                                            grace_period_seconds=0)  # fmt: skip
    reasons = [condition.get("reason") for job in kube.jobs()
               for condition in (job.get("status") or {}).get("conditions") or []]  # fmt: skip
    return not pods and reasons.count("DeadlineExceeded") >= 3  # one per Job (3 Jobs)


def test_the_operator_refuses_a_disallowed_kind_naming_it(
    jobset: JobSetManager, namespace: str, kube: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBETUNE_TRIAL_WORKLOADS", "Job")
    with operator_running(namespace):
        kube.create(_jobset_experiment("multi-node", max_trials=2, parallel=1))
        failed = kube.wait_for_phase("multi-node", "Failed", timeout=30)
    reason = condition(failed, "Failed")
    assert reason is not None and reason["reason"] == "InvalidSpec", failed
    assert reason["message"] == (
        'spec.trial.workload.kind: Unsupported value: "JobSet": this operator allows Job'
    )
    assert kube.trials() == [] and kube.jobs() == [] and _jobsets(kube) == []


def test_asha_stops_losing_jobset_trials_whose_pods_all_go(
    jobset: JobSetManager, cluster: ClusterClient, namespace: str, reporting_cluster: Cluster,
    tmp_path: Path,
) -> None:  # fmt: skip
    """Real trainers and reporters (processes): the leader Job's two pods both run the
    reporter, and only the designated one's sends (the other knows it is elsewhere)."""
    body = curve_experiment("asha-jobsets")
    body["spec"]["limits"] |= {"maxTrials": 5, "parallelTrials": 2}
    leader = {"name": "leader", "replicas": 1,
              "template": {"spec": {"parallelism": 2, "completions": 2}}}  # fmt: skip
    replicated = [leader, {"name": "workers", "replicas": 1}]
    body["spec"]["trial"]["workload"] = {"kind": "JobSet", "spec": {"replicatedJobs": replicated}}
    refused_before = _refused_reports()
    with ProcessPodDriver(cluster, namespace, tmp_path), operator_running(namespace):
        reporting_cluster.create(body)
        done = reporting_cluster.wait_for_phase("asha-jobsets", "Succeeded", "Failed", timeout=240)
        trials = {t["metadata"]["name"]: t for t in reporting_cluster.trials()}
        stopped = [name for name, t in trials.items() if t["status"]["phase"] == "EarlyStopped"]
        eventually(lambda: not any(_trial_pods(reporting_cluster, n) for n in stopped),
                   "the stopped trials' pods gone", 60)  # fmt: skip
    assert done["status"]["phase"] == "Succeeded", done["status"]
    assert stopped, {name: t["status"]["phase"] for name, t in trials.items()}
    left = {js["metadata"]["name"] for js in _jobsets(reporting_cluster)}
    assert not left & set(stopped)
    for name, trial in trials.items():  # each curve came through the designated reporter
        assert trial["status"]["curve"][0]["step"] == 1, name
    best = max(trials, key=lambda name: quality(trials[name]["spec"]["parameters"]["x"]))
    assert done["status"]["best"]["trial"] == best
    assert _refused_reports() == refused_before  # the second leader pod's reporter is idle


def _refused_reports() -> float:
    value = REGISTRY.get_sample_value(
        "kubetune_ingest_reports_total", {"result": "rejected", "reason": "bad_token"}
    )
    return value or 0.0


def test_the_operator_killed_5_times_loses_and_duplicates_no_jobset_trial(
    jobset: JobSetManager, cluster: ClusterClient, namespace: str, kube: Cluster
) -> None:
    # Each kill waits for a new trial, and one operator's life may launch two or three:
    # room for every kill, or the last ones wait for a trial that cannot come.
    kills = 5
    max_trials = 3 * kills + 1
    with TrialPodDriver(cluster, namespace, scoring_trainer, hold=0.1):
        kube.create(_jobset_experiment("restarts", max_trials=max_trials, parallel=2))
        done, trials_at_kill = run_through_kills(
            kube, "restarts", kills=kills, seed=20261130, pause=0.5, timeout=180
        )
    assert trials_at_kill[-1] < max_trials, trials_at_kill  # every kill hit a live search
    assert done["status"]["phase"] == "Succeeded", done["status"]
    assert done["status"]["trials"]["succeeded"] == max_trials
    trials = kube.trials()
    assert [trial["spec"]["index"] for trial in trials] == list(range(max_trials))
    owners = {js["metadata"]["name"]: js["metadata"]["ownerReferences"][0]["uid"]
              for js in _jobsets(kube)}  # fmt: skip
    assert owners == {t["metadata"]["name"]: t["metadata"]["uid"] for t in trials}
    assert len({repr(sorted(t["spec"]["parameters"].items())) for t in trials}) == max_trials


# Kueue with its JobSet integration, last in this module: its CRDs outlive its manager
# with conversion webhooks that then point nowhere, and this module's control plane goes
# with the module (see test_kueue's `cluster`).
JOBSET_TRIAL_GPUS = 4  # a leader Job of 2 pods and 2 workers, one GPU each


@pytest.fixture(scope="module")
def kueue_for_jobsets(
    kueue_dir: Path,
    jobset: JobSetManager,
    cluster: ClusterClient,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[KueueManager]:
    """Kueue managing Jobs and JobSets, started after JobSet (its integration needs the
    JobSet CRD)."""
    frameworks = (*FRAMEWORKS, JOBSET_FRAMEWORK)
    manager = KueueManager(cluster, kueue_dir, tmp_path_factory.mktemp("kueue"), frameworks)
    manager.start()
    yield manager
    manager.stop()


class JobSetSampler(Ticker):
    """The most JobSets running at once (not suspended, not finished), and the phases of
    the trials while one ran, sampled every few tenths of a second."""

    period = 0.3

    def __init__(self, kube: Cluster) -> None:
        super().__init__()
        self.kube, self.most_running = kube, 0
        self.phases_beside_running: set[str] = set()

    def tick(self) -> None:
        rules = _built_in_rules()
        running = [js for js in _jobsets(self.kube) if _running(js, rules)]
        self.most_running = max(self.most_running, len(running))
        if running:
            trials = self.kube.trials()
            self.phases_beside_running |= {t.get("status", {}).get("phase", "") for t in trials}


def _running(jobset: Document, rules: KindRules) -> bool:
    """Admitted and not yet decided by the built-in rules the operator judges it by."""
    undecided = verdict(rules, jobset.get("status") or {}) is None
    return not jobset["spec"].get("suspend") and undecided


def test_kueue_admits_queued_jobset_trials_whole_within_the_quota(
    kueue_for_jobsets: KueueManager, cluster: ClusterClient, namespace: str, kube: Cluster
) -> None:
    """A GPU quota that holds one JobSet trial (4 GPUs), parallelTrials 2: Kueue admits
    one JobSet at a time, the other trial is Queued meanwhile, and all run to the end."""
    queues = Queues(kueue_for_jobsets, namespace)
    try:
        queues.queue(namespace, namespace, quota=JOBSET_TRIAL_GPUS)
        body = _jobset_experiment("queued-jobsets", max_trials=3, parallel=2)
        body["spec"]["trial"]["queue"] = {"name": LOCAL_QUEUE}
        driver = TrialPodDriver(cluster, namespace, scoring_trainer, hold=1.0)
        with driver, JobSetSampler(kube) as sampler, operator_running(namespace):
            kube.create(body)
            done = kube.wait_for_phase("queued-jobsets", "Succeeded", "Failed", timeout=180)
        workloads = workloads_by_job(queues.api, namespace)
    finally:
        queues.remove()
    assert done["status"]["phase"] == "Succeeded", done["status"]
    assert done["status"]["trials"]["succeeded"] == 3
    assert sampler.most_running == 1, sampler.most_running
    assert driver.most_running <= JOBSET_TRIAL_GPUS, driver.most_running
    # While one JobSet ran, another trial waited, Queued (its JobSet suspended by Kueue).
    assert "Queued" in sampler.phases_beside_running, sampler.phases_beside_running
    assert sorted(workloads) == [t["metadata"]["name"] for t in kube.trials()], workloads.keys()
    assert {w["metadata"]["ownerReferences"][0]["kind"] for w in workloads.values()} == {JOBSET}
