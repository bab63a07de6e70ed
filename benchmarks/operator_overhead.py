"""What the operator itself costs per trial, against a real local control plane.

- latency from `create TuningExperiment` to the first trial's Job;
- latency from a trial's completion (its pod written Succeeded) to its successor's Job,
  with parallelTrials=1 so every completion frees exactly one slot;
- API writes per trial: by the operator's own client (counted by `Kube`), and every write
  to kubetune.dev objects seen by the API server (`apiserver_request_total`), which adds
  kopf's own bookkeeping.

Trials are played by the test harness (kwok node, pods driven to Succeeded), so the
figures are the operator's overhead, not training time. Run:
    .venv/bin/python -m benchmarks.operator_overhead [--trials 10]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import threading
import time
from collections import Counter
from typing import Any

from kubernetes import client
from tests.cluster import ControlPlane, find_bin_dir
from tests.integration.operator_harness import (
    Cluster,
    TrialPodDriver,
    experiment,
    install_crds,
    kubeconfig_env,
    operator_running,
    scoring_trainer,
)

from kubetune.k8s.rest import Kube, connect
from kubetune.reconcile import handlers

clients: list[Kube] = []


def counting_connect() -> Kube:
    kube = connect()
    clients.append(kube)
    return kube


class JobClock(threading.Thread):
    """Notes when each Job of the namespace is first seen (20 ms polling)."""

    def __init__(self, batch: client.BatchV1Api, namespace: str) -> None:
        super().__init__(daemon=True)
        self.batch, self.namespace = batch, namespace
        self.seen: dict[str, float] = {}
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.02):
            for job in self.batch.list_namespaced_job(self.namespace).items:
                self.seen.setdefault(job.metadata.name, time.monotonic())


def kubetune_writes(api: client.ApiClient) -> int:
    """Writes to kubetune.dev resources counted by the API server so far."""
    text = api.call_api("GET", api.configuration.host + "/metrics").read().decode()
    total = 0.0
    for line in text.splitlines():
        ours = line.startswith("apiserver_request_total{") and 'group="kubetune.dev"' in line
        if ours and any(f'verb="{verb}"' in line for verb in ("POST", "PATCH", "PUT", "DELETE")):
            total += float(line.rsplit(" ", 1)[1])
    return int(total)


def run_once(plane_client: Any, namespace: str, algorithm: str, trials: int) -> dict[str, Any]:
    kube = Cluster(plane_client, namespace)
    clock = JobClock(kube.batch, namespace)
    clock.start()
    spec = experiment(f"bench-{algorithm}", max_trials=trials, parallel=1)
    spec["spec"]["algorithm"] = {"name": algorithm, "seed": 1}
    api = plane_client.api_client()
    writes_before = kubetune_writes(api)
    with (
        TrialPodDriver(plane_client, namespace, scoring_trainer, hold=0.0) as driver,
        operator_running(namespace),
    ):
        created = time.monotonic()
        kube.create(spec)
        kube.wait_for_phase(spec["metadata"]["name"], "Succeeded", timeout=300)
    clock.done.set()
    clock.join()
    names = sorted(clock.seen)
    pods = {pod.metadata.labels["kubetune.dev/trial"]: pod.metadata.name
            for pod in kube.core.list_namespaced_pod(namespace).items}  # fmt: skip
    handoffs = [
        clock.seen[nxt] - driver.finished[pods[prev]] for prev, nxt in itertools.pairwise(names)
    ]
    return {
        "first_job": clock.seen[names[0]] - created,
        "handoffs": handoffs,
        "server_writes": kubetune_writes(api) - writes_before - 1,  # minus our own create
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--algorithms", default="random,bayesian")
    args = parser.parse_args()
    handlers.connect = counting_connect  # count the operator client's writes
    plane = ControlPlane(find_bin_dir())
    cluster = plane.start()
    try:
        kubeconfig_env(cluster)
        install_crds(cluster)
        core = cluster.core_v1()
        for algorithm in args.algorithms.split(","):
            namespace = f"bench-{algorithm}"
            core.create_namespace({"metadata": {"name": namespace}})
            time.sleep(2)  # the default ServiceAccount, which pods need
            clients.clear()
            result = run_once(cluster, namespace, algorithm, args.trials)
            report(algorithm, args.trials, result)
    finally:
        plane.stop()


def report(algorithm: str, trials: int, result: dict[str, Any]) -> None:
    handoffs = sorted(result["handoffs"])
    writes: Counter[str] = Counter()
    for kube in clients:
        writes.update(kube.writes)
    total = sum(writes.values())
    print(f"== {algorithm}: {trials} trials, parallelTrials=1")
    print(f"creation -> first Job:         {result['first_job'] * 1000:7.0f} ms")
    p90 = handoffs[int(0.9 * (len(handoffs) - 1))]
    print(f"completion -> next Job median: {statistics.median(handoffs) * 1000:7.0f} ms"
          f"  (p90 {p90 * 1000:.0f} ms, max {handoffs[-1] * 1000:.0f} ms)")  # fmt: skip
    print(f"operator client writes:        {total} ({total / trials:.1f} per trial)")
    for key, count in sorted(writes.items()):
        print(f"    {key:32s} {count:4d}")
    print(f"kubetune.dev writes at the API server (incl. kopf's): {result['server_writes']}"
          f" ({result['server_writes'] / trials:.1f} per trial)")  # fmt: skip


if __name__ == "__main__":
    main()
