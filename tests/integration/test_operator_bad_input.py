"""Bad input never wedges the operator, against the real API server: a trial template the
server refuses as a Job fails the experiment in one pass, naming the field, so does a
trial workload of a kind the operator does not allow or whose CRD is not installed, and a
spec far over kopf's annotation budget (a 600 KB env value) runs like any other."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from tests.cluster import ClusterClient
from tests.integration.operator_harness import (
    Cluster,
    TrialPodDriver,
    condition,
    experiment,
    operator_running,
    scoring_trainer,
)

pytestmark = pytest.mark.integration

BAD_CONTAINERS: dict[str, tuple[dict[str, Any], str]] = {
    "no-image": ({"name": "trainer"}, "spec.trial.template.spec.containers[0].image"),
    "env-map": ({"name": "trainer", "image": "t:1", "env": {"A": "1"}}, "containers.env"),
    "resources-string": ({"name": "trainer", "image": "t:1", "resources": "4Gi"}, "resources"),
    "bad-name": (
        {"name": "Trainer_1", "image": "t:1"},
        "spec.trial.template.spec.containers[0].name",
    ),
}


def _with_container(name: str, container: dict[str, Any]) -> dict[str, Any]:
    body = experiment(name, max_trials=2, parallel=1)
    body["spec"]["trial"]["template"]["spec"]["containers"] = [container]
    return body


def test_refused_templates_fail_at_once_naming_the_field(
    cluster: ClusterClient, namespace: str, kube: Cluster
) -> None:
    with operator_running(namespace):
        for name, (container, _) in BAD_CONTAINERS.items():
            kube.create(_with_container(name, container))
        failed = {name: kube.wait_for_phase(name, "Failed", timeout=30) for name in BAD_CONTAINERS}
    for name, (_, field) in BAD_CONTAINERS.items():
        reason = condition(failed[name], "Failed")
        assert reason is not None and reason["reason"] == "InvalidTrialTemplate", failed[name]
        assert field in reason["message"], reason["message"]
        events = kube.events(name)
        assert [r for r, _ in events] == ["InvalidTrialTemplate"], events
        assert field in events[0][1]
    assert kube.trials() == [] and kube.jobs() == []


JOBSET_WORKLOAD = {
    "kind": "JobSet",
    "spec": {"replicatedJobs": [{"name": "workers", "replicas": 2}]},
}
UNRUNNABLE_WORKLOADS: dict[str, tuple[dict[str, Any], str]] = {
    "not-allowed": ({"kind": "TrainJob"}, 'Unsupported value: "TrainJob": this operator allows'),
    "no-crd": (JOBSET_WORKLOAD, "JobSet needs the CRD jobsets.jobset.x-k8s.io"),
}


def test_a_workload_kind_it_cannot_run_fails_at_once_naming_kind_and_cause(
    namespace: str, kube: Cluster
) -> None:
    """This cluster has no JobSet CRD (tests/integration/test_jobset.py runs its own)."""
    with operator_running(namespace):
        for name, (workload, _) in UNRUNNABLE_WORKLOADS.items():
            body = experiment(name, max_trials=2, parallel=1)
            body["spec"]["trial"]["workload"] = workload
            kube.create(body)
        failed = {
            name: kube.wait_for_phase(name, "Failed", timeout=30) for name in UNRUNNABLE_WORKLOADS
        }
    for name, (_, words) in UNRUNNABLE_WORKLOADS.items():
        reason = condition(failed[name], "Failed")
        assert reason is not None and reason["reason"] == "InvalidSpec", failed[name]
        assert reason["message"].startswith("spec.trial.workload.kind: ")
        assert words in reason["message"], reason["message"]
        assert kube.events(name) == [("InvalidSpec", reason["message"])]
    assert kube.trials() == [] and kube.jobs() == []


def test_a_gpu_resource_that_is_no_resource_name_is_refused_at_apply(kube: Cluster) -> None:
    body = experiment("bad-gpu", max_trials=1, parallel=1)
    body["spec"]["trial"]["gpuResource"] = "nvidia gpu"
    with pytest.raises(ApiException) as refused:
        kube.create(body)
    assert refused.value.status == 422
    assert "spec.trial.gpuResource" in str(refused.value.body)


def test_a_600_kb_env_value_runs_to_the_end(
    cluster: ClusterClient, namespace: str, kube: Cluster
) -> None:
    body = experiment("big", max_trials=2, parallel=1)
    container = body["spec"]["trial"]["template"]["spec"]["containers"][0]
    container["env"] = [{"name": "BIG", "value": "x" * 600_000}]
    with TrialPodDriver(cluster, namespace, scoring_trainer), operator_running(namespace):
        kube.create(body)
        done = kube.wait_for_phase("big", "Succeeded", "Failed", timeout=120)
    assert done["status"]["phase"] == "Succeeded", done["status"]
    annotations = done["metadata"].get("annotations") or {}
    assert sum(len(value) for value in annotations.values()) < 1000, list(annotations)
    assert len(kube.trials()) == 2


def test_a_metrics_format_that_does_not_compile_fails_the_experiment_naming_it(
    namespace: str, kube: Cluster
) -> None:
    """The API server can only bound a regex; the operator's parse judges it (Failed)."""
    body = experiment("bad-format", max_trials=1, parallel=1)
    body["spec"]["trial"]["metricsFormat"] = [r"(?P<name>\w+)=(?P<value>[\d.]+"]
    with operator_running(namespace):
        kube.create(body)
        failed = kube.wait_for_phase("bad-format", "Failed", timeout=30)
    reason = condition(failed, "Failed")
    assert reason is not None and reason["reason"] == "InvalidSpec", failed["status"]
    assert "spec.trial.metricsFormat[0]: must be a valid regular expression" in reason["message"]
    assert kube.trials() == [] and kube.jobs() == []
