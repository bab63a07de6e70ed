"""Where accepted reports go: the TuningTrial status, in coalesced writes.

Group commit: the first batch for a trial opens a short window; every batch for that
trial arriving within it joins the same read-modify-write of the status, and each
request is answered only once that write succeeded. So the API server sees one write per
trial per window however chatty the trainers are, and a reporter is told "recorded"
only when its points are in etcd: an operator killed mid-window loses nothing, because
the unanswered reporters resend.

Early stopping needs no call from here: the handlers run the experiment's reconcile pass
on every TuningTrial event, this status write included, and that pass applies the
stopping rule to the fresh curves, deletes the Jobs of losing trials, marks them
EarlyStopped (their last values stay in the status) and launches the next suggestions.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from kubetune.api import parse_trial
from kubetune.k8s.custom import patch_trial_status
from kubetune.k8s.metrics_io import get_trial, read_experiment_key
from kubetune.k8s.rest import Document, Kube, is_status
from kubetune.planning.ingest_rules import Rejection, ReportBatch, TrialRef
from kubetune.planning.lifecycle import Refusal, record_reports
from kubetune.planning.status import lifecycle_document, status_patch
from kubetune.reporting.protocol import MetricReport

COALESCE_WINDOW_S = 0.5
# The ingest's own threads: on asyncio's default executor its writes waited behind
# reconcile passes until reporters timed out and resent (issue: metrics lost at scale).
INGEST_THREADS = 4
KEY_REREAD_INTERVAL_S = 5.0  # a forged token cannot make us read Secrets faster than this
UNAVAILABLE = Rejection(503, "store_unavailable", "could not record now; retry")


def ingest_threads() -> ThreadPoolExecutor:
    """The pool the ingest's blocking reads and writes share, apart from the passes'."""
    return ThreadPoolExecutor(INGEST_THREADS, thread_name_prefix="ingest")


class KnownExperiments(Protocol):
    """The experiments the operator's watch has seen (see `handlers.known_experiments`)."""

    @property
    def ready(self) -> bool:
        """Whether the watch has listed them all yet (before that, nothing is unknown)."""

    def __contains__(self, key: object) -> bool: ...


class KubeKeySource:
    """Experiment keys read from their Secrets, cached: keys never change, but a
    re-created experiment of the same name has a new one, hence `fresh` re-reads. With
    `known`, a request naming an experiment the watch has not seen costs no API read.
    Reads run on `threads`, the ingest's (see `ingest_threads`)."""

    def __init__(
        self, kube: Kube, known: KnownExperiments | None = None, threads: Executor | None = None
    ) -> None:
        self.kube = kube
        self.known = known
        self.threads = threads or ingest_threads()
        self.keys: dict[tuple[str, str], tuple[bytes | None, float]] = {}

    async def key_for(self, namespace: str, experiment: str, fresh: bool = False) -> bytes | None:
        known = self.known
        if known is not None and known.ready and (namespace, experiment) not in known:
            return None
        cached = self.keys.get((namespace, experiment))
        if cached is not None:
            key, read_at = cached
            recent = time.monotonic() - read_at < KEY_REREAD_INTERVAL_S
            if recent or (key is not None and not fresh):
                return key
        loop = asyncio.get_running_loop()
        key = await loop.run_in_executor(
            self.threads, read_experiment_key, self.kube, namespace, experiment
        )
        self.keys[(namespace, experiment)] = (key, time.monotonic())
        return key


@dataclass
class _Group:
    reports: list[MetricReport] = field(default_factory=list)
    done: asyncio.Future[Rejection | None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


CachedTrial = Callable[[str, str], Document | None]  # (namespace, name) -> as last watched


class TrialStatusWriter:
    """Records batches into trial statuses. With `cached` (the operator's trial watch), a
    commit reads the trial from memory: one PATCH per commit instead of a GET and a PATCH.
    A cached trial may be a moment old; then the PATCH, conditional on its version, gets a
    409, and the commit reads the trial from the API server and records again."""

    def __init__(
        self, kube: Kube, threads: Executor | None = None, cached: CachedTrial | None = None
    ) -> None:
        self.kube = kube
        self.threads = threads or ingest_threads()
        self.cached = cached
        self.groups: dict[TrialRef, _Group] = {}
        self.locks: dict[TrialRef, tuple[asyncio.Lock, int]] = {}  # lock, commits using it

    async def record(self, batch: ReportBatch) -> Rejection | None:
        group = self.groups.get(batch.trial)
        if group is None:
            group = self.groups[batch.trial] = _Group()
            asyncio.get_running_loop().create_task(self._commit_later(batch.trial, group))
        group.reports.extend(batch.reports)
        return await asyncio.shield(group.done)

    async def _commit_later(self, trial: TrialRef, group: _Group) -> None:
        await asyncio.sleep(COALESCE_WINDOW_S)
        del self.groups[trial]  # later batches open the next group
        # One commit per trial at a time: two overlapping read-modify-writes would lose points.
        lock, users = self.locks.get(trial, (asyncio.Lock(), 0))
        self.locks[trial] = (lock, users + 1)
        async with lock:
            try:
                loop = asyncio.get_running_loop()
                outcome = await loop.run_in_executor(
                    self.threads, self._write, trial, group.reports
                )
            except Exception:  # any API failure: the reporter retries
                outcome = UNAVAILABLE
        lock, users = self.locks[trial]
        if users == 1:
            del self.locks[trial]
        else:
            self.locks[trial] = (lock, users - 1)
        group.done.set_result(outcome)

    def _write(self, ref: TrialRef, reports: list[MetricReport]) -> Rejection | None:
        """Record through the shared lifecycle. The patch names the resourceVersion it was
        computed from: had the pass settled the trial meanwhile, the write fails (409), the
        reporter resends, and the re-read trial refuses reports as finished."""
        cached = self.cached(ref.namespace, ref.trial) if self.cached else None
        if cached is not None:
            try:
                return self._record(ref, cached, reports)
            except Exception as error:  # a 409: the cached trial was older than stored
                if not is_status(error, 409):
                    raise
        return self._record(ref, get_trial(self.kube, ref.namespace, ref.trial), reports)

    def _record(
        self, ref: TrialRef, stored: Document | None, reports: list[MetricReport]
    ) -> Rejection | None:
        if stored is None or stored.get("spec", {}).get("experiment") != ref.experiment:
            return Rejection(404, "unknown_trial", f"no trial {ref.trial} in {ref.experiment}")
        trial = parse_trial(stored)
        objectives, strategies = trial.spec.judged_metrics, trial.spec.strategies
        recorded = record_reports(trial.status, reports, objectives, datetime.now(UTC), strategies)
        if isinstance(recorded, Refusal):
            return Rejection(recorded.status, recorded.reason, f"{ref.trial}: {recorded.message}")
        patch = status_patch(stored.get("status") or {}, lifecycle_document(recorded))
        if patch:
            version = stored["metadata"]["resourceVersion"]
            patch_trial_status(self.kube, ref.namespace, ref.trial, patch, version)
        return None
