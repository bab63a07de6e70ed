"""`spec.trial.workload`: the model's checks, the CEL rules it compiles, and the one
judgement (`planning.workload_support`) by which the operator and local mode fail an
experiment whose kind they cannot run, naming the field and the cause; local mode runs a
JobSet trial as a world of one."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubetune.api import SpecError, parse_experiment
from kubetune.api.workload import BUILT_IN_KINDS, JOBSET, KindRules, TrialWorkload, kind_rules
from kubetune.k8s.workloads import SERVED_MEMORY_SECONDS
from kubetune.local.prepare import prepare_experiment
from kubetune.planning.workload_rules import Verdict, WorkloadRuleError, verdict
from kubetune.planning.workload_support import (
    DEFAULT_ALLOWED,
    LOCAL_SUPPORT,
    WorkloadSupport,
    crd_name,
    workload_problem,
)
from kubetune.reconcile import settings
from tests.unit.fake_kube import FakeKube
from tests.unit.local_helpers import experiment_file, run, stored_trials
from tests.unit.pass_helpers import condition, create, events, experiment_body, reconcile, status

JOBSET_API = "/apis/jobset.x-k8s.io/v1alpha2"
Document = dict[str, Any]


def _replicated(name: str, replicas: int = 2, **job_spec: Any) -> Document:
    spec = {"parallelism": 2, "completions": 2, **job_spec}
    return {"name": name, "replicas": replicas, "template": {"spec": spec}}


def jobset_workload(**extra: Any) -> Document:
    jobs = [_replicated("leader", 1), _replicated("workers")]
    return {"kind": "JobSet", "spec": {"replicatedJobs": jobs}, **extra}


def _experiment(workload: Document) -> Document:
    return experiment_body(trial={"workload": workload})


def _error(workload: Document) -> str:
    with pytest.raises(SpecError) as raised:
        parse_experiment(_experiment(workload))
    return str(raised.value)


def test_a_jobset_workload_parses_with_the_reporter_in_the_first_pod_by_default() -> None:
    trial = parse_experiment(_experiment(jobset_workload())).spec.trial
    assert trial.workload is not None and trial.workload.kind == JOBSET
    assert trial.workload.reporter is None
    placed = TrialWorkload.model_validate(jobset_workload(reporter={"replicatedJob": "workers"}))
    assert placed.reporter is not None
    assert (placed.reporter.job_index, placed.reporter.completion_index) == (0, 0)


def test_an_experiment_without_workload_is_a_job_experiment_as_before() -> None:
    assert parse_experiment(experiment_body()).spec.trial.workload is None
    assert kind_rules(None) == BUILT_IN_KINDS["Job"]


@pytest.mark.parametrize(
    ("workload", "field", "words"),
    [
        ({"kind": "Job", "spec": {"x": 1}}, "spec", "must be unset for kind Job"),
        ({"kind": "Job", "successWhen": "true"}, "successWhen", "read from its pod"),
        ({"kind": "Job", "reporter": {}}, "reporter", "must be unset for kind Job"),
        ({"kind": "Job", "apiVersion": "batch/v2"}, "apiVersion", "trial Jobs are batch/v1"),
        ({"kind": "JobSet"}, "spec.replicatedJobs", "at least one replicated job"),
        ({"kind": "JobSet", "spec": {"replicatedJobs": []}}, "spec.replicatedJobs", "at least one"),
        ({"kind": "jobset"}, "kind", "should match '^[A-Z]"),
        (
            {"kind": "JobSet", "spec": {"replicatedJobs": [_replicated("w", template={})]}},
            "spec.replicatedJobs[0].template.spec.template",
            "every pod of the trial runs spec.trial.template",
        ),
        (
            jobset_workload(reporter={"replicatedJob": "chief"}),
            "reporter.replicatedJob",
            "must name one of spec.replicatedJobs ['leader', 'workers']",
        ),
        (jobset_workload(successWhen="status.("), "successWhen", "evaluates to a bool"),
        (jobset_workload(failureWhen="1 +"), "failureWhen", "Syntax error"),
    ],
)
def test_a_workload_the_operator_could_not_complete_names_its_field(
    workload: Document, field: str, words: str
) -> None:
    assert _error(workload).startswith(f"spec.trial.workload.{field}: ")
    assert words in _error(workload)


def test_the_experiment_s_own_rules_override_the_built_in_ones() -> None:
    rules = kind_rules(TrialWorkload.model_validate(jobset_workload(successWhen="true")))
    assert rules is not None
    assert rules.success_when == "true"
    assert rules.failure_when == BUILT_IN_KINDS[JOBSET].failure_when
    assert rules.api_version == "jobset.x-k8s.io/v1alpha2"


def _workload(kind: str) -> TrialWorkload:
    body = jobset_workload() if kind == JOBSET else {"kind": kind}
    return TrialWorkload.model_validate(body)


def test_a_kind_outside_the_allow_list_is_named_with_the_allowed_ones() -> None:
    support = WorkloadSupport(frozenset({"Job"}), frozenset({JOBSET}))
    problem = workload_problem(_workload(JOBSET), support)
    assert problem == (
        'spec.trial.workload.kind: Unsupported value: "JobSet": this operator allows Job'
    )
    unknown = workload_problem(_workload("TrainJob"), WorkloadSupport(DEFAULT_ALLOWED, frozenset()))
    assert unknown is not None and '"TrainJob"' in unknown and "allows Job, JobSet" in unknown


def test_a_missing_crd_is_named() -> None:
    problem = workload_problem(_workload(JOBSET), WorkloadSupport(DEFAULT_ALLOWED, frozenset()))
    assert crd_name(JOBSET) == "jobsets.jobset.x-k8s.io"
    assert problem == (
        "spec.trial.workload.kind: JobSet needs the CRD jobsets.jobset.x-k8s.io "
        "(jobset.x-k8s.io/v1alpha2), which this cluster does not serve"
    )


def test_both_runtimes_run_jobset_trials_where_allowed_and_served() -> None:
    installed = WorkloadSupport(DEFAULT_ALLOWED, frozenset({JOBSET}))
    assert workload_problem(_workload(JOBSET), installed) is None
    assert workload_problem(None, installed) is None
    assert workload_problem(_workload("Job"), installed) is None
    assert workload_problem(_workload(JOBSET), LOCAL_SUPPORT) is None
    assert prepare_experiment(_experiment(jobset_workload())).spec.trial.workload is not None


def test_local_mode_runs_a_jobset_trial_as_a_world_of_one(tmp_path: Path) -> None:
    """One process per trial, with the trial's parameters; valueFrom variables unset."""
    path = experiment_file(tmp_path, env=[{"name": "JOB_INDEX", "valueFrom": {"fieldRef": {
        "fieldPath": "metadata.labels['jobset.sigs.k8s.io/job-index']"}}}])  # fmt: skip
    document = yaml.safe_load(path.read_text())
    document["spec"]["trial"]["workload"] = jobset_workload()
    path.write_text(yaml.safe_dump(document))
    results = tmp_path / "results"
    assert run(path, results) == 0
    trials = stored_trials(results)
    assert [t["status"]["phase"] for t in trials] == ["Succeeded"] * 4
    starts = (results / "tiny" / "logs").glob("*.log")
    assert len(list(starts)) == 4  # one process per trial, not one per pod


def test_the_allow_list_setting_takes_known_kinds_only() -> None:
    assert settings.TRIAL_WORKLOADS.read({}) == DEFAULT_ALLOWED
    read = settings.TRIAL_WORKLOADS.read({"KUBETUNE_TRIAL_WORKLOADS": " Job "})
    assert read == frozenset({"Job"})
    with pytest.raises(settings.SettingError, match="KUBETUNE_TRIAL_WORKLOADS='TrainJob'"):
        settings.TRIAL_WORKLOADS.read({"KUBETUNE_TRIAL_WORKLOADS": "TrainJob"})


@pytest.fixture
def fake() -> FakeKube:
    return FakeKube()


def _fails_once_naming(fake: FakeKube, words: str) -> None:
    reconcile(fake)
    assert status(fake)["phase"] == "Failed"
    failed = condition(fake, "Failed")
    assert failed is not None and failed["reason"] == "InvalidSpec"
    assert words in failed["message"]
    assert [(reason, message) for reason, message, _ in events(fake)] == [
        ("InvalidSpec", failed["message"])
    ]
    assert not [path for path in fake.objects if "/jobs/" in path or "/tuningtrials/" in path]


def test_the_operator_fails_a_jobset_experiment_where_the_crd_is_missing(fake: FakeKube) -> None:
    create(fake, _experiment(jobset_workload()))
    _fails_once_naming(fake, "JobSet needs the CRD jobsets.jobset.x-k8s.io")


def test_the_operator_creates_a_jobset_per_trial_where_the_crd_is_served(fake: FakeKube) -> None:
    fake.objects[JOBSET_API] = {"resources": [{"name": "jobsets"}]}
    create(fake, _experiment(jobset_workload()))
    reconcile(fake)
    assert status(fake).get("phase") != "Failed", status(fake)
    jobsets = [path for path in fake.objects if path.startswith(f"{JOBSET_API}/namespaces/")]
    assert len(jobsets) == 2 and not [path for path in fake.objects if "/jobs/" in path]


def test_a_served_kind_is_asked_once_a_minute_not_every_pass(fake: FakeKube) -> None:
    fake.objects[JOBSET_API] = {"resources": [{"name": "jobsets"}]}
    create(fake, _experiment(jobset_workload()))
    for _ in range(3):
        reconcile(fake)
    assert fake.requests.count(("GET", JOBSET_API)) == 1
    (until,) = fake.served_until.values()
    assert until - time.monotonic() == pytest.approx(SERVED_MEMORY_SECONDS, abs=5)
    fake.served_until[("jobset.x-k8s.io/v1alpha2", "jobsets")] = time.monotonic() - 1
    reconcile(fake)  # a minute on: asked again
    assert fake.requests.count(("GET", JOBSET_API)) == 2


def test_the_crd_is_looked_up_at_the_experiment_s_api_version(fake: FakeKube) -> None:
    fake.objects[JOBSET_API] = {"resources": [{"name": "jobsets"}]}
    create(fake, _experiment(jobset_workload(apiVersion="jobset.x-k8s.io/v1alpha3")))
    _fails_once_naming(fake, "jobsets.jobset.x-k8s.io (jobset.x-k8s.io/v1alpha3), which this")
    assert ("GET", "/apis/jobset.x-k8s.io/v1alpha3") in fake.requests


def test_the_operator_fails_a_kind_its_setting_leaves_out(
    fake: FakeKube, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBETUNE_TRIAL_WORKLOADS", "Job")
    create(fake, _experiment(jobset_workload()))
    _fails_once_naming(fake, 'Unsupported value: "JobSet": this operator allows Job')
    assert ("GET", JOBSET_API) not in fake.requests  # a refused kind costs no discovery


def _jobset_rules(**overrides: str) -> KindRules:
    rules = kind_rules(TrialWorkload.model_validate(jobset_workload(**overrides)))
    assert rules is not None
    return rules


def _conditions(*types: str) -> Document:
    return {"conditions": [{"type": kind, "status": "True"} for kind in types]}


def test_the_built_in_jobset_rules_read_its_terminal_conditions() -> None:
    rules = _jobset_rules()
    assert verdict(rules, {}) is None  # just created: no conditions yet
    assert verdict(rules, {"conditions": [{"type": "Completed", "status": "False"}]}) is None
    assert verdict(rules, _conditions("Completed")) == Verdict.SUCCEEDED
    assert verdict(rules, _conditions("Failed")) == Verdict.FAILED
    assert verdict(rules, _conditions("Completed", "Failed")) == Verdict.FAILED


def test_an_experiment_s_rule_reads_any_status_field_and_waits_for_missing_ones() -> None:
    rules = _jobset_rules(successWhen="status.replicatedJobsStatus.all(r, r.succeeded == 2)")
    assert verdict(rules, {}) is None
    done = {"replicatedJobsStatus": [{"name": "workers", "succeeded": 2}]}
    assert verdict(rules, done) == Verdict.SUCCEEDED
    assert verdict(_jobset_rules(successWhen="status.items[3].done"), {"items": []}) is None


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ("status.restarts > 'a'", "No such overload"),
        ("status.restarts", "gave 2, not a bool"),
        ("restarts > 1", "Undefined variable"),
    ],
)
def test_a_rule_that_cannot_judge_names_its_field(rule: str, words: str) -> None:
    with pytest.raises(WorkloadRuleError) as raised:
        verdict(_jobset_rules(failureWhen=rule), {"restarts": 2})
    assert str(raised.value).startswith("spec.trial.workload.failureWhen: ")
    assert words in str(raised.value)
