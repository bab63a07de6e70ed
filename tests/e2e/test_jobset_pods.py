"""JobSet trials on real pods: the real JobSet controller (out of cluster, its webhooks by
URL, as in the integration tier) beside the real node, the quickstart's trainer in every
pod of each trial, and the real reporter sidecar in the designated pod only.

Each trial is a JobSet of 2 replicated jobs of one pod each, `leader` (designated by
default) and `workers`. Both pods train the same model on the same parameters. The
leader's trainer writes its report to the sidecar's file, so its value reaches the
operator only through the sidecar and the token-checked ingest; the worker, with no
sidecar and no metrics file, prints its report, which the test reads from its log to
check the value the leader's sidecar delivered.
"""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client import REGISTRY

from kubetune.planning.jobs import TRIAL_LABEL
from kubetune.planning.sidecar import REPLICATED_JOB_LABEL, REPORTER_CONTAINER
from kubetune.reporting.protocol import MetricReport, parse_line
from tests.cluster.jobset import JobSetManager
from tests.e2e.test_real_pods import example
from tests.integration.operator_harness import Cluster, operator_running

# jobset_dir first, so that without a JobSet build the test skips before a cluster starts;
# the first e2e test also builds images on a cold cache (minutes; docs/e2e.md).
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900), pytest.mark.usefixtures("jobset_dir")]

TRIALS = 3
Document = dict[str, Any]


def jobset_quickstart() -> Document:
    """The quickstart, each of its 3 trials a JobSet of a leader and a worker pod."""
    body = example("quickstart.yaml", maxTrials=TRIALS, parallelTrials=2)
    replicated = [{"name": "leader", "replicas": 1}, {"name": "workers", "replicas": 1}]
    body["spec"]["trial"]["workload"] = {"kind": "JobSet", "spec": {"replicatedJobs": replicated}}
    return body


def reports(result: str, reason: str) -> float:
    value = REGISTRY.get_sample_value(
        "kubetune_ingest_reports_total", {"result": result, "reason": reason}
    )
    return value or 0.0


def pods_by_replicated_job(kube: Cluster, trial: str) -> dict[str, Any]:
    pods = kube.core.list_namespaced_pod(kube.namespace, label_selector=f"{TRIAL_LABEL}={trial}")
    return {pod.metadata.labels[REPLICATED_JOB_LABEL]: pod for pod in pods.items}


def printed_accuracy(kube: Cluster, pod: Any) -> float:
    """The val_accuracy a pod's trainer printed (it had no metrics file)."""
    log = kube.core.read_namespaced_pod_log(pod.metadata.name, kube.namespace, container="trainer")
    (report,) = [parse_line(line) for line in log.splitlines() if line.startswith("kubetune")]
    assert isinstance(report, MetricReport), log
    return report.metrics["val_accuracy"]


def test_jobset_trials_run_on_real_pods_and_report_through_the_sidecar(
    jobset: JobSetManager, kube: Cluster
) -> None:
    accepted_before = reports("accepted", "ok")
    refused_before = reports("rejected", "bad_token")
    with operator_running(kube.namespace):
        kube.create(jobset_quickstart())
        done = kube.wait_for_phase("digits-svc", "Succeeded", "Failed", timeout=300)

    status, trials = done["status"], kube.trials()
    assert status["phase"] == "Succeeded", status
    assert [t["status"]["phase"] for t in trials] == ["Succeeded"] * TRIALS
    values = {}
    for trial in trials:
        name = trial["metadata"]["name"]
        pods = pods_by_replicated_job(kube, name)
        assert sorted(pods) == ["leader", "workers"], name
        assert {pod.status.phase for pod in pods.values()} == {"Succeeded"}, name
        sidecars = {p: [c.name for c in pod.spec.init_containers or []] for p, pod in pods.items()}
        assert sidecars == {"leader": [REPORTER_CONTAINER], "workers": []}, name
        values[name] = trial["status"]["metrics"]["val_accuracy"]
        # The worker trained the same model on the same parameters as the leader did.
        assert values[name] == printed_accuracy(kube, pods["workers"]), name
    assert reports("accepted", "ok") - accepted_before >= TRIALS  # through the sidecars
    assert reports("rejected", "bad_token") == refused_before
    assert status["best"]["value"] == max(values.values())
    assert values[status["best"]["trial"]] == max(values.values())
