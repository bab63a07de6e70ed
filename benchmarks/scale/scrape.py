"""Counters read from Prometheus endpoints: the API server's and the operator's.

`apiserver_request_total` has no client label, so a delta counts every component's
requests; `operator_requests` keeps those only the operator makes (anything on
kubetune.dev, Job creation and expiry, listing Jobs and Pods, trainer logs, the
experiment-key Secret; the driver only watches and patches pod status). `job_queue`
reads kube-controller-manager's Job queue, whose backlog delays every trial's pod
whatever the operator does. Job deletions are left out: the TTL
controller makes nearly all of them (a finished Job expiring), and the operator deletes
a Job only to stop a trial early, which these scenarios do not do. The TTL controller
deletes in the foreground, so the garbage collector then PATCHes each such Job once, to
take off the `foregroundDeletion` finalizer when its Pods are gone: those PATCHes, one per
Job deletion, are not the operator's either. The operator's own endpoint gives the
reconcile-pass histogram, sampled over time by `PassTimeline`, and its own count of its
writes (`operator_writes`), which checks the attribution above.
"""

from __future__ import annotations

import os
import ssl
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from kubernetes import client
from prometheus_client.parser import text_string_to_metric_families
from tests.cluster import ControlPlane
from tests.cluster.readiness import self_signed_context

from kubetune.k8s.rest import WRITE_METHODS

RequestKey = tuple[str, str, str]  # verb, resource (with /subresource), group
PASS_HISTOGRAM = "kubetune_reconcile_duration_seconds"
# Reading a trainer's log (CONNECT pods/log) and expiring a settled trial's Job (PATCH
# jobs) are the operator's too: no other component does either in these scenarios, but
# for the garbage collector's PATCH of each Job the TTL controller deleted (see above).
JOB_PATCH: RequestKey = ("PATCH", "jobs", "batch")
OPERATOR_VERBS_ON = {"pods": {"LIST", "CONNECT"}, "jobs": {"LIST", "POST", "PATCH"},
                     "secrets": {"GET", "POST"}}  # fmt: skip


def samples(text: str, name: str) -> list[tuple[dict[str, str], float]]:
    """(labels, value) of every sample called `name` in a Prometheus text exposition."""
    found = []
    for family in text_string_to_metric_families(text):
        found += [(s.labels, s.value) for s in family.samples if s.name == name]
    return found


def apiserver_requests(api_client: client.ApiClient) -> Counter[RequestKey]:
    """The API server's request counts so far, by verb, resource and group."""
    method, url, headers, _, _ = api_client.param_serialize("GET", "/metrics")
    response = api_client.call_api(method, url, headers)
    text = response.read().decode()  # type: ignore[no-untyped-call]
    counts: Counter[RequestKey] = Counter()
    for labels, value in samples(text, "apiserver_request_total"):
        subresource = labels.get("subresource")
        resource = labels["resource"] + (f"/{subresource}" if subresource else "")
        counts[(labels["verb"], resource, labels["group"])] += int(value)
    return counts


def operator_requests(delta: Counter[RequestKey]) -> Counter[RequestKey]:
    """The part of an API server delta that only the operator sends."""

    def operators(key: RequestKey) -> bool:
        verb, resource, group = key
        base = resource.split("/")[0]
        if verb == "WATCH":  # long-lived streams, not per-trial work (the bench watches too)
            return False
        return group == "kubetune.dev" or verb in OPERATOR_VERBS_ON.get(base, set())

    ours = Counter({key: count for key, count in delta.items() if operators(key) and count})
    ours[JOB_PATCH] -= delta[("DELETE", "jobs", "batch")]  # the finalizers' removal
    return +ours


@dataclass(frozen=True)
class JobQueue:
    """kube-controller-manager's work queue of Jobs: its length now, and the seconds
    Jobs have waited in it (summed, with how many waits), since it started."""

    depth: float
    waits: float
    waited: float


def job_queue(plane: ControlPlane) -> JobQueue:
    """Read from kube-controller-manager's /metrics as the admin (its cert is self-signed)."""
    assert plane.layout is not None, "the control plane has started"
    context = self_signed_context()
    context.load_cert_chain(plane.layout.pki.admin_cert, plane.layout.pki.admin_key)
    url = f"https://127.0.0.1:{plane.ports.controller_manager}/metrics"
    text = read_text(url, context)

    def job(name: str) -> float:
        return sum(value for labels, value in samples(text, name) if labels.get("name") == "job")

    return JobQueue(job("workqueue_depth"), job("workqueue_queue_duration_seconds_sum"),
                    job("workqueue_queue_duration_seconds_count"))  # fmt: skip


def operator_writes(text: str) -> Counter[tuple[str, str]]:
    """The operator's own count of its writes (`kubetune_api_writes_total`), by verb and
    resource."""
    writes: Counter[tuple[str, str]] = Counter()
    for labels, value in samples(text, "kubetune_api_writes_total"):
        writes[(labels["verb"], labels["resource"])] += int(value)
    return writes


def operator_total(delta: Counter[RequestKey], writes: Counter[tuple[str, str]]) -> int:
    """The operator's requests: what `operator_requests` finds, each write (by verb and
    resource) raised to the operator's own count where that is larger. Each misses some:
    the API server's counters cannot tell the operator's Events from the kubelet's and
    the controllers', and its own count leaves out kopf's (a few PATCHes of each
    experiment, sent on kopf's connection). A run without its own count: as found."""
    ours = operator_requests(delta)
    found = _writes_of(ours)
    return sum(ours.values()) + sum(max(0, n - found[key]) for key, n in writes.items())


def _writes_of(ours: Counter[RequestKey]) -> Counter[tuple[str, str]]:
    """The writes among the operator's requests, by verb and resource (groups merged)."""
    found: Counter[tuple[str, str]] = Counter()
    for (verb, resource, _), n in ours.items():
        if verb in WRITE_METHODS:
            found[(verb, resource)] += n
    return found


def write_differences(
    delta: Counter[RequestKey], writes: Counter[tuple[str, str]]
) -> dict[tuple[str, str], tuple[int, int]]:
    """(verb, resource) -> (writes `operator_requests` finds, the operator's own count),
    where the two differ."""
    found = _writes_of(operator_requests(delta))
    keys = sorted(set(found) | set(writes))
    return {key: (found[key], writes[key]) for key in keys if found[key] != writes[key]}


def ingest_outcomes(text: str) -> Counter[str]:
    """The operator's ingest answers by result (and reason, for refusals)."""
    outcomes: Counter[str] = Counter()
    for labels, value in samples(text, "kubetune_ingest_reports_total"):
        reason = labels.get("reason")
        outcomes[labels.get("result", "?") + (f" ({reason})" if reason else "")] += int(value)
    return outcomes


def read_text(url: str, context: ssl.SSLContext | None = None) -> str:
    with urllib.request.urlopen(url, timeout=10, context=context) as response:
        return bytes(response.read()).decode()


@dataclass
class PassSample:
    at: float  # monotonic
    passes: float  # passes finished so far
    seconds: float  # their total duration
    finished_trials: int  # trial pods completed by then (the history a pass may re-read)
    load1: float  # the machine's 1-minute load average


@dataclass
class PassTimeline:
    """Samples the operator's pass histogram every `interval` seconds until `halt`."""

    metrics_url: str
    finished_trials: Callable[[], int]
    interval: float = 10.0
    samples: list[PassSample] = field(default_factory=list)
    halt: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while True:
            self.sample()
            if self.halt.wait(self.interval):
                return

    def sample(self) -> None:
        try:
            text = read_text(self.metrics_url)
        except OSError:
            return  # the operator is busy or gone; the next sample will tell
        count = sum(v for _, v in samples(text, f"{PASS_HISTOGRAM}_count"))
        total = sum(v for _, v in samples(text, f"{PASS_HISTOGRAM}_sum"))
        load1 = os.getloadavg()[0]
        sample = PassSample(time.monotonic(), count, total, self.finished_trials(), load1)
        self.samples.append(sample)
