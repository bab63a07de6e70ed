"""One scenario end to end: N experiments created at once, trials played until every
experiment has finished (or the deadline passes), everything the figures need recorded.

The operator starts fresh for each scenario in a namespace of its own, so its RSS and
CPU belong to that scenario alone; the control plane and its extra nodes are shared.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from kubernetes import client
from tests.cluster import ClusterClient
from tests.integration.operator_harness import GROUP, VERSION, experiment, score

from benchmarks.scale import cluster_setup, scrape
from benchmarks.scale.driver import EXPERIMENT_LABEL, TrialPodDriver, TrialRecord
from benchmarks.scale.operator_process import OperatorProcess, Usage
from benchmarks.scale.watching import Document, JobClock, WatchThread

TERMINAL_PHASES = ("Succeeded", "Failed", "Stopped")
OBJECTIVE_METRIC = "score"  # what operator_harness.experiment() maximizes


@dataclass(frozen=True)
class Scenario:
    """N experiments x `parallel` trials at a time, `max_trials` each; every trial runs
    a duration drawn uniformly from `duration_s` (seeded per trial name)."""

    name: str
    experiments: int
    parallel: int
    max_trials: int
    duration_s: tuple[float, float]
    deadline_s: float = 1800.0
    seed: int = 13
    timeline_interval_s: float = 10.0

    def duration(self, trial: str) -> float:
        low, high = self.duration_s
        return low if low == high else random.Random(f"{self.seed}/{trial}").uniform(low, high)

    @property
    def trials(self) -> int:
        return self.experiments * self.max_trials


@dataclass
class ScenarioResult:
    scenario: Scenario
    records: list[TrialRecord]
    jobs_seen: dict[str, list[float]]  # experiment -> Job first-seen times, sorted
    created_at: dict[str, float]  # experiment -> when its create returned
    experiments: list[Document]
    trials: list[Document]
    usage: Usage
    requests: Counter[scrape.RequestKey]  # API server delta over the run
    timeline: list[scrape.PassSample]
    ingest: Counter[str]
    wall_s: float
    finished: bool  # every experiment reached a terminal phase before the deadline
    bench_cpu_s: float  # this process's own CPU (driver, watches): it shares the cores
    errors: list[str] = field(default_factory=list)
    writes: Counter[tuple[str, str]] = field(default_factory=Counter)  # the operator's own count


class ScenarioRun:
    """The operator, the driver and the clocks around one scenario's experiments."""

    def __init__(self, cluster: ClusterClient, scenario: Scenario, work_dir: Path) -> None:
        self.cluster, self.scenario, self.work_dir = cluster, scenario, work_dir
        self.namespace = f"kt-scale-{scenario.name}-{random.randrange(16**4):04x}"
        self.api = cluster_setup.api_client_for(cluster.kubeconfig)
        self.custom = client.CustomObjectsApi(self.api)
        self.phases: dict[str, str] = {}  # experiment -> latest phase seen

    def run(self) -> ScenarioResult:
        cluster_setup.add_gpu_nodes(self.cluster.core_v1(), self._concurrent_pods())
        cluster_setup.create_namespace(self.cluster, self.namespace)
        log_path = self.work_dir / f"operator-{self.namespace}.log"
        operator = OperatorProcess(self.cluster.kubeconfig, self.namespace, log_path)
        try:
            operator.wait_ready()
            return self._drive(operator)
        finally:
            operator.stop()

    def _concurrent_pods(self) -> int:
        return self.scenario.experiments * self.scenario.parallel

    def _drive(self, operator: OperatorProcess) -> ScenarioResult:
        scenario = self.scenario
        driver = TrialPodDriver(self.api, self.namespace, OBJECTIVE_METRIC, score,
                                scenario.duration)  # fmt: skip
        jobs = JobClock(self.api, self.namespace, EXPERIMENT_LABEL)
        path = f"/apis/{GROUP}/{VERSION}/namespaces/{self.namespace}/tuningexperiments"
        phases = WatchThread(self.api, path, "", self._on_experiment)
        timeline = scrape.PassTimeline(operator.metrics_url, lambda: _completed(driver),
                                       scenario.timeline_interval_s)  # fmt: skip
        for watch in (driver.watch, jobs.watch, phases):
            watch.start()
        timeline.start()
        time.sleep(1.0)  # the watches connect before the first object exists
        try:
            return self._measure(operator, driver, jobs, timeline)
        finally:
            for halt in (driver.stop, jobs.watch.halt.set, phases.halt.set, timeline.halt.set):
                halt()

    def _on_experiment(self, kind: str, document: Document) -> None:
        phase = (document.get("status") or {}).get("phase") or "Pending"
        self.phases[document["metadata"]["name"]] = str(phase)

    def _measure(self, operator: OperatorProcess, driver: TrialPodDriver, jobs: JobClock,
                 timeline: scrape.PassTimeline) -> ScenarioResult:  # fmt: skip
        before = scrape.apiserver_requests(self.api)
        started, cpu_before = time.monotonic(), time.process_time()
        created_at = self._create_experiments()
        finished = self._wait_until_finished(operator, started + self.scenario.deadline_s)
        wall_s = time.monotonic() - started
        requests = scrape.apiserver_requests(self.api) - before
        requests[("POST", "tuningexperiments", GROUP)] -= len(created_at)  # our own creates
        timeline.sample()
        served = scrape.read_text(operator.metrics_url)
        ingest, writes = scrape.ingest_outcomes(served), scrape.operator_writes(served)
        driver.stop()
        experiments, trials = self._list(), self._list("tuningtrials")
        errors = [repr(e) for e in [*driver.errors, *driver.watch.errors, *jobs.watch.errors]]
        return ScenarioResult(
            self.scenario, list(driver.records.values()),
            {name: jobs.creation_times(name) for name in created_at}, created_at,
            experiments, trials, operator.usage, +requests, timeline.samples, ingest, wall_s,
            finished, time.process_time() - cpu_before, errors, writes,
        )  # fmt: skip

    def _create_experiments(self) -> dict[str, float]:
        """All at once, as a team submitting a sweep would; returns their creation times."""
        created_at = {}
        for index in range(self.scenario.experiments):
            name = f"exp-{index:03d}"
            body = experiment(name, max_trials=self.scenario.max_trials,
                              parallel=self.scenario.parallel)  # fmt: skip
            body["spec"]["algorithm"]["seed"] = self.scenario.seed + index
            self.custom.create_namespaced_custom_object(
                GROUP, VERSION, self.namespace, "tuningexperiments", body
            )
            created_at[name] = time.monotonic()
        return created_at

    def _wait_until_finished(self, operator: OperatorProcess, deadline: float) -> bool:
        while time.monotonic() < deadline and operator.process.poll() is None:
            phases = list(self.phases.values())
            if len(phases) == self.scenario.experiments and all(
                phase in TERMINAL_PHASES for phase in phases
            ):
                return True
            time.sleep(1.0)
        return False

    def _list(self, plural: str = "tuningexperiments") -> list[Document]:
        found = self.custom.list_namespaced_custom_object(GROUP, VERSION, self.namespace, plural)
        return list(cast(Document, found)["items"])


def _completed(driver: TrialPodDriver) -> int:
    return sum(1 for record in list(driver.records.values()) if record.completed_at is not None)


def run_scenario(cluster: ClusterClient, scenario: Scenario, work_dir: Path) -> ScenarioResult:
    return ScenarioRun(cluster, scenario, work_dir).run()


def object_bytes(document: Any) -> int:
    """The size of an object as JSON, roughly what etcd stores."""
    return len(json.dumps(document, separators=(",", ":")))
