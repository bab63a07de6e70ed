"""The operator's Prometheus metrics: what to graph and alert on when kubetune runs.

Every metric is defined here, with the few recording functions that the reconcile path
calls where things happen: a pass ends, a plan suggests trials, a trial is launched or
finishes, an experiment's status is read or written, an experiment is deleted; and the
API writes of the operator's connections, read from their own tallies at each scrape.
The handlers thus stay free of metric plumbing, and docs/install.md lists the same names.

Cardinality stays bounded. Labels other than namespace/experiment take a fixed set of
values (phase, outcome, algorithm, verb, resource). Series labelled by experiment exist
only for experiments alive in the cluster: `forget_experiment` removes them once it is
deleted. So the series count follows the live experiments, never the number of trials
or time. Everything here is rebuilt after a restart: resumed experiments report their
status again, and counters start from zero, as Prometheus counters may.
"""

from __future__ import annotations

import threading
import weakref
from collections import Counter as Tally
from collections.abc import Iterator, Mapping
from typing import Any

from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from kubetune.k8s.rest import Kube

EXPERIMENT_PHASES = ("Pending", "Running", "Succeeded", "Failed", "Stopped")
TRIAL_OUTCOMES = ("succeeded", "failed", "early_stopped", "stopped")
# Suggestions take milliseconds for random search and up to about a second for GP fits.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

EXPERIMENTS = Gauge(
    "kubetune_experiments", "TuningExperiments the operator watches, by phase.", ["phase"]
)
TRIALS_CREATED = Counter(
    "kubetune_trials_created", "Trials launched (TuningTrial and Job).", ["namespace", "experiment"]
)
TRIALS_COMPLETED = Counter(
    "kubetune_trials_completed",
    "Trials that ended: succeeded, failed, early_stopped (by the stopping rule) or stopped "
    "(still running when the experiment finished).",
    ["namespace", "experiment", "outcome"],
)
BEST_OBJECTIVE = Gauge(
    "kubetune_experiment_best_objective",
    "The objective value of the experiment's best trial so far.",
    ["namespace", "experiment"],
)
HYPERVOLUME = Gauge(
    "kubetune_experiment_hypervolume",
    "With several objectives, the hypervolume of the experiment's Pareto front so far "
    "(status.pareto.hypervolume).",
    ["namespace", "experiment"],
)
SUGGESTION_SECONDS = Histogram(
    "kubetune_suggestion_duration_seconds",
    "Time to plan a step that suggested new trials (dominated by the search algorithm).",
    ["algorithm"],
    buckets=LATENCY_BUCKETS,
)
RECONCILE_SECONDS = Histogram(
    "kubetune_reconcile_duration_seconds",
    "Time of one reconcile pass of one experiment: reads, planning and writes.",
    buckets=LATENCY_BUCKETS,
)


class ApiWrites(Collector):
    """`kubetune_api_writes_total`: what the operator asks the API server to change (POST,
    PUT, PATCH, DELETE), by verb and resource, summed over the connections it tracks. Read
    from each connection's own tally when scraped, so a request is counted where it is
    sent and nowhere else. Reads are left out: the operator reads through watches, a few
    long-lived streams rather than requests per trial. So are kopf's own requests, on its
    own connection: a few PATCHes of each experiment over its life, none per trial."""

    def __init__(self) -> None:
        self._connections: weakref.WeakSet[Kube] = weakref.WeakSet()

    def track(self, kube: Kube) -> Kube:
        self._connections.add(kube)
        return kube

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(
            "kubetune_api_writes",
            "Requests the operator sent to change objects in the API server, by verb and "
            "resource (jobs, tuningtrials/status, events...).",
            labels=["verb", "resource"],
        )
        tallies = [kube.write_counts() for kube in list(self._connections)]
        for key, count in sorted(sum(tallies, Tally()).items()):
            family.add_metric(key.split(" ", 1), count)
        yield family


API_WRITES = ApiWrites()
REGISTRY.register(API_WRITES)

_phases: dict[tuple[str, str], str] = {}
_phases_lock = threading.Lock()  # passes of different experiments run in parallel threads
for _phase in EXPERIMENT_PHASES:
    EXPERIMENTS.labels(phase=_phase).set(0)  # a phase with no experiment reads 0, not absent


def record_experiment(namespace: str, name: str, status: Mapping[str, Any] | None) -> None:
    """The experiment's status as read or just written; None when the experiment is gone."""
    if status is None:
        forget_experiment(namespace, name)
        return
    _set_phase((namespace, name), str(status.get("phase") or "Pending"))
    _set_gauge(BEST_OBJECTIVE, namespace, name, (status.get("best") or {}).get("value"))
    _set_gauge(HYPERVOLUME, namespace, name, (status.get("pareto") or {}).get("hypervolume"))


def _set_gauge(gauge: Gauge, namespace: str, name: str, value: object) -> None:
    """Set when the status holds the value; a single objective has no hypervolume series."""
    if isinstance(value, int | float):
        gauge.labels(namespace, name).set(value)


def forget_experiment(namespace: str, name: str) -> None:
    """Drop every series of a deleted experiment (bounded cardinality)."""
    _set_phase((namespace, name), None)
    BEST_OBJECTIVE.remove(namespace, name)
    HYPERVOLUME.remove(namespace, name)
    TRIALS_CREATED.remove(namespace, name)
    for outcome in TRIAL_OUTCOMES:
        TRIALS_COMPLETED.remove(namespace, name, outcome)


def _set_phase(key: tuple[str, str], phase: str | None) -> None:
    with _phases_lock:
        if phase is None:
            _phases.pop(key, None)
        else:
            _phases[key] = phase
        counts = Tally(_phases.values())
        for known in {*EXPERIMENT_PHASES, *counts}:
            EXPERIMENTS.labels(phase=known).set(counts[known])


def trial_created(namespace: str, experiment: str) -> None:
    TRIALS_CREATED.labels(namespace, experiment).inc()


def trial_status_written(namespace: str, experiment: str, written: Mapping[str, Any]) -> None:
    """Count a trial that ended, given the status fields just written to it."""
    outcome = _outcome(written)
    if outcome is not None:
        TRIALS_COMPLETED.labels(namespace, experiment, outcome).inc()


def _outcome(written: Mapping[str, Any]) -> str | None:
    phase = written.get("phase")
    if phase == "EarlyStopped":  # the operator ended it: its rule, or the experiment's end
        return "early_stopped" if written.get("reason") == "EarlyStopped" else "stopped"
    return {"Succeeded": "succeeded", "Failed": "failed"}.get(str(phase))


def planned(algorithm: str, suggested: int, seconds: float) -> None:
    """A planning step took `seconds`; only steps that asked for suggestions are timed,
    so the histogram shows what the search algorithm costs."""
    if suggested > 0:
        SUGGESTION_SECONDS.labels(algorithm=algorithm).observe(seconds)
