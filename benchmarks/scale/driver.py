"""Plays kubelet and reporter sidecar for every trial pod, as a real node would.

No trainer runs. Once the scheduler binds a trial pod, a thread of its own (as each pod
has its own sidecar) writes the pod Running, waits the scenario's trial duration, then
delivers one report through the real `IngestClient`, with the identity and token the
pod's reporter container carries and the reporter's own flush deadline, exactly as the
sidecar does after the trainer exits. Then it writes the pod Succeeded, as the kubelet
does once the sidecar has exited. Every step's time is recorded in a `TrialRecord`.

Trial pods carry `kwok.x-k8s.io/status: custom`, so kwok leaves their status to us; a
pod being deleted (a stopped trial) is force-deleted, since no kubelet confirms it.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from benchmarks.scale.watching import Document, WatchThread
from kubetune.reporting.ingest_client import Backoff, IngestClient, TrialIdentity
from kubetune.reporting.protocol import MetricReport
from kubetune.reporting.sidecar import FLUSH_TIMEOUT_S

EXPERIMENT_LABEL = "kubetune.dev/experiment"
TRIAL_LABEL = "kubetune.dev/trial"
REPORTER_CONTAINER = "kubetune-reporter"
PARAM_PREFIX = "KUBETUNE_PARAM_"
# Sleeping player threads need little stack; thousands of them run at N = 100.
PLAYER_STACK_BYTES = 256 * 1024
TrialDuration = Callable[[str], float]  # trial name -> seconds its trainer "runs"
Objective = Callable[[dict[str, float]], float]


@dataclass
class TrialRecord:
    """What happened to one trial pod, in this process's monotonic clock."""

    experiment: str
    trial: str
    pod: str
    bound_at: float
    report_sent_at: float | None = None
    acknowledged: bool | None = None  # the IngestClient's outcome
    completed_at: float | None = None  # the Succeeded status accepted by the API server
    deleted: bool = False  # the operator deleted it first (a stopped trial)


def now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def container_status(name: str, state: Document) -> Document:
    running = "running" in state
    return {"name": name, "image": "kubetune/trial:bench", "imageID": "", "ready": running,
            "restartCount": 0, "started": running, "state": state}  # fmt: skip


def pod_status(phase: str, trainer_state: Document, reporter_state: Document) -> Document:
    """The status a kubelet writes: the trainer's and the native sidecar's states."""
    return {
        "status": {
            "phase": phase,
            "containerStatuses": [container_status("trainer", trainer_state)],
            "initContainerStatuses": [container_status(REPORTER_CONTAINER, reporter_state)],
        }
    }


def reporter_env(pod: Document) -> dict[str, str]:
    """The reporter container's environment as the kubelet resolves it (the namespace
    comes from the downward API)."""
    init = pod["spec"].get("initContainers") or []
    (reporter,) = [c for c in init if c["name"] == REPORTER_CONTAINER]
    env = {var["name"]: var.get("value", "") for var in reporter.get("env") or []}
    env["KUBETUNE_NAMESPACE"] = pod["metadata"]["namespace"]
    return env


def trial_parameters(pod: Document) -> dict[str, float]:
    """The trainer's parameters, from the KUBETUNE_PARAM_* variables of its container."""
    env = pod["spec"]["containers"][0].get("env") or []
    return {var["name"][len(PARAM_PREFIX) :].lower(): float(var["value"])
            for var in env if var["name"].startswith(PARAM_PREFIX)}  # fmt: skip


def ingest_client_for(pod: Document) -> IngestClient:
    """The client the pod's sidecar would build from its environment."""
    env = reporter_env(pod)
    identity = TrialIdentity(env["KUBETUNE_NAMESPACE"], env["KUBETUNE_EXPERIMENT"],
                             env["KUBETUNE_TRIAL"], env["KUBETUNE_TRIAL_TOKEN"])  # fmt: skip
    return IngestClient(env["KUBETUNE_INGEST_URL"], identity, Backoff())


def deliver_final_report(pod: Document, metric: str, value: float) -> bool:
    """The sidecar's flush after SIGTERM: `stop` is set, the deadline is its own."""
    flushing = threading.Event()
    flushing.set()
    report = MetricReport(step=None, metrics={metric: value})
    deadline = time.monotonic() + FLUSH_TIMEOUT_S
    return ingest_client_for(pod).deliver([report], flushing, deadline)


class TrialPodDriver:
    """Watches the trial pods of one namespace and plays each bound one in its own thread."""

    def __init__(self, api_client: client.ApiClient, namespace: str, metric: str,
                 objective: Objective, duration: TrialDuration) -> None:  # fmt: skip
        self.core = client.CoreV1Api(api_client)
        self.namespace, self.metric = namespace, metric
        self.objective, self.duration = objective, duration
        self.records: dict[str, TrialRecord] = {}  # by pod name
        self.errors: list[BaseException] = []
        self.halt = threading.Event()
        self._force_deleted: set[str] = set()
        path = f"/api/v1/namespaces/{namespace}/pods"
        self.watch = WatchThread(api_client, path, EXPERIMENT_LABEL, self._on_event)

    def start(self) -> None:
        self.watch.start()

    def stop(self) -> None:
        """Players still waiting stop before reporting; reports in flight finish."""
        self.halt.set()
        self.watch.halt.set()

    def _on_event(self, kind: str, pod: Document) -> None:
        name = pod["metadata"]["name"]
        record = self.records.get(name)
        if kind == "DELETED" or pod["metadata"].get("deletionTimestamp"):
            if record is not None:
                record.deleted = True
            if kind != "DELETED":
                self._force_delete(name)
        elif pod["spec"].get("nodeName") and record is None:
            self._start_player(pod)

    def _force_delete(self, name: str) -> None:
        """A graceful delete waits forever for a kubelet; none exists."""
        if name in self._force_deleted:
            return
        self._force_deleted.add(name)
        with contextlib.suppress(ApiException):  # already gone
            self.core.delete_namespaced_pod(name, self.namespace, grace_period_seconds=0)

    def _start_player(self, pod: Document) -> None:
        labels = pod["metadata"]["labels"]
        record = TrialRecord(labels[EXPERIMENT_LABEL], labels[TRIAL_LABEL],
                             pod["metadata"]["name"], time.monotonic())  # fmt: skip
        self.records[record.pod] = record
        previous = threading.stack_size(PLAYER_STACK_BYTES)
        try:
            threading.Thread(target=self._play, args=(pod, record), daemon=True).start()
        finally:
            threading.stack_size(previous)

    def _play(self, pod: Document, record: TrialRecord) -> None:
        try:
            self._play_steps(pod, record)
        except ApiException as error:
            if error.status != 404:  # 404: the operator deleted the pod meanwhile
                self.errors.append(error)
        except Exception as error:  # surfaced by the scenario, never lost in a thread
            self.errors.append(error)

    def _play_steps(self, pod: Document, record: TrialRecord) -> None:
        running = {"running": {"startedAt": now_rfc3339()}}
        self._write_status(record.pod, pod_status("Running", running, running))
        if self.halt.wait(self.duration(record.trial)) or record.deleted:
            return
        value = self.objective(trial_parameters(pod))
        record.report_sent_at = time.monotonic()
        record.acknowledged = deliver_final_report(pod, self.metric, value)
        if record.deleted or self.halt.is_set():
            return
        self._write_status(record.pod, pod_status("Succeeded", *self._exited_states()))
        record.completed_at = time.monotonic()

    @staticmethod
    def _exited_states() -> tuple[Document, Document]:
        """Trainer exit 0 with no termination message (the metric went through the
        sidecar alone), then the sidecar's own exit 0 after its flush."""
        times = {"startedAt": now_rfc3339(), "finishedAt": now_rfc3339()}
        trainer = {"terminated": {"exitCode": 0, "reason": "Completed", **times}}
        return trainer, {"terminated": {"exitCode": 0, "reason": "Completed", **times}}

    def _write_status(self, name: str, body: Document) -> None:
        self.core.patch_namespaced_pod_status(name, self.namespace, body)

    def records_of(self, experiment: str) -> list[TrialRecord]:
        return [record for record in self.records.values() if record.experiment == experiment]
