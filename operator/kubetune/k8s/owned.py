"""Where a reconcile pass finds an experiment and its trials, Jobs and Pods.

Two answers to the same question. `WatchedObjects`, the operator's: per-namespace
informers (see `informer`) keep the trials, Jobs and Pods in memory, and kopf's watch of
experiments (`saw`) the experiments, so a pass makes no read request at all and the API
server sends each change once, to a watch (JobSets and Kueue's Workloads only where an
experiment needs them: their CRDs may be absent). `ListedObjects`:
a fresh labelled list per pass, for callers without a running watch (one-off tools and
the unit tests' in-memory API). Both hear about the pass's own writes through `wrote`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

from kubetune.k8s import custom, workloads
from kubetune.k8s.custom import EXPERIMENTS, TRIALS, resource_path
from kubetune.k8s.informer import (
    Informer,
    Listener,
    Store,
    conditions_only,
    controller_name,
    pod_essentials,
    workload_essentials,
)
from kubetune.k8s.rest import Document, Kube
from kubetune.k8s.workloads import (
    JOBS,
    JOBSETS,
    KUEUE_WORKLOADS,
    PODS,
    jobs_path,
    jobsets_path,
    kueue_workloads_path,
    pods_path,
)
from kubetune.planning.history import SettledTrials, is_settled, split_settled
from kubetune.planning.jobs import EXPERIMENT_LABEL

SYNC_TIMEOUT_SECONDS = 120.0
OWNED_MEMO_KEY = "owned_objects"  # where the operator keeps its WatchedObjects (kopf memo)
NamespaceListener = Callable[[str, str, Document], None]  # (kind, event type, object)


class OwnedObjects(Protocol):
    """An experiment and its labelled objects, as last seen."""

    def experiment(self, namespace: str, name: str) -> Document | None:
        """None once it is deleted."""

    def trials(self, namespace: str, experiment: str) -> tuple[list[Document], SettledTrials]:
        """The unsettled trials, and the settled ones (see `planning.history`)."""

    def jobs(self, namespace: str, experiment: str) -> list[Document]: ...

    def jobsets(self, namespace: str, experiment: str) -> list[Document]:
        """The experiment's JobSets (asked only of JobSet experiments)."""

    def pods(self, namespace: str, experiment: str) -> list[Document]: ...

    def kueue_workloads(self, namespace: str, jobs: list[str]) -> dict[str, Document]:
        """Kueue's Workloads of the named Jobs, by Job name (see `planning.admission`)."""

    def wrote(self, kind: str, namespace: str, document: Document) -> None:
        """A pass created or patched `document` (as the API server answered)."""


class ListedObjects:
    """Lists from the API server on every call; nothing to remember."""

    def __init__(self, kube: Kube) -> None:
        self.kube = kube

    def experiment(self, namespace: str, name: str) -> Document | None:
        return custom.get_experiment(self.kube, namespace, name)

    def trials(self, namespace: str, experiment: str) -> tuple[list[Document], SettledTrials]:
        return split_settled(custom.list_trials(self.kube, namespace, experiment))

    def jobs(self, namespace: str, experiment: str) -> list[Document]:
        return workloads.list_jobs(self.kube, namespace, experiment)

    def jobsets(self, namespace: str, experiment: str) -> list[Document]:
        return workloads.list_jobsets(self.kube, namespace, experiment)

    def pods(self, namespace: str, experiment: str) -> list[Document]:
        return workloads.list_pods(self.kube, namespace, experiment)

    def kueue_workloads(self, namespace: str, jobs: list[str]) -> dict[str, Document]:
        listed = workloads.list_kueue_workloads(self.kube, namespace) if jobs else []
        by_job = {controller_name(workload): workload for workload in listed}
        return {job: by_job[job] for job in jobs if job in by_job}

    def wrote(self, kind: str, namespace: str, document: Document) -> None:
        """The next list reads it anyway."""

    def saw(self, namespace: str, experiment: Document, deleted: bool = False) -> None:
        """The next read asks the API server anyway."""


def _paths(namespace: str) -> dict[str, str]:
    return {
        TRIALS: resource_path(namespace, TRIALS),
        JOBS: jobs_path(namespace),
        PODS: pods_path(namespace),
    }


class WatchedObjects:
    """Informers per namespace, started when a pass first needs that namespace, so the
    operator watches only where experiments live and needs no cluster-wide access."""

    def __init__(self, kube: Kube, listener: NamespaceListener) -> None:
        self.kube, self.listener = kube, listener
        self._lock = threading.Lock()
        self._stores: dict[str, dict[str, Store]] = {}
        self._informers: list[Informer] = []
        # Fed by kopf's watch of experiments (`saw`) and the passes' own writes; read
        # from the API server only when neither has brought it yet.
        self._experiments: dict[str, Store] = {}
        # Started per namespace on first need (see `_optional_store`).
        self._optional: dict[tuple[str, str], Store] = {}

    def experiment(self, namespace: str, name: str) -> Document | None:
        store = self._experiment_store(namespace)
        stored = store.get(name)
        if stored is None:
            stored = custom.get_experiment(self.kube, namespace, name)
            if stored is not None:
                store.put(stored)
        return stored

    def saw(self, namespace: str, experiment: Document, deleted: bool = False) -> None:
        """An experiment as a watch event brought it."""
        store = self._experiment_store(namespace)
        if deleted:
            store.remove(experiment)
        else:
            store.put(experiment)

    def trials(self, namespace: str, experiment: str) -> tuple[list[Document], SettledTrials]:
        return self._store(namespace, TRIALS).split(experiment)

    def jobs(self, namespace: str, experiment: str) -> list[Document]:
        return self._store(namespace, JOBS).of_experiment(experiment)

    def pods(self, namespace: str, experiment: str) -> list[Document]:
        return self._store(namespace, PODS).of_experiment(experiment)

    def kueue_workloads(self, namespace: str, jobs: list[str]) -> dict[str, Document]:
        """From a watch of the namespace's Workloads, started with the first queued
        experiment there. Never waits for its list: until it is in, or where Kueue is not
        installed, trials simply wait without Kueue's reason."""
        if not jobs:
            return {}
        store = self._optional_store(namespace, KUEUE_WORKLOADS)
        found = {job: store.of_experiment(job) for job in jobs}
        return {job: owned[0] for job, owned in found.items() if owned}

    def jobsets(self, namespace: str, experiment: str) -> list[Document]:
        """From a watch of the namespace's JobSets, started with the first JobSet
        experiment there. Waits for its first list, as the Jobs' (a trial whose JobSet
        is not listed yet would be judged to have lost it); where the CRD is absent the
        watch counts as listed, empty, and retries until the CRD is served."""
        store = self._optional_store(namespace, JOBSETS)
        if not store.synced.wait(SYNC_TIMEOUT_SECONDS):
            raise TimeoutError(f"the JobSets of namespace {namespace} are not listed yet")
        return store.of_experiment(experiment)

    def _optional_store(self, namespace: str, kind: str) -> Store:
        """The store of a kind watched only where an experiment needs it."""
        with self._lock:
            store = self._optional.get((namespace, kind))
            if store is None:
                store = self._optional[namespace, kind] = self._start_optional(namespace, kind)
            return store

    def _start_optional(self, namespace: str, kind: str) -> Store:
        if kind == KUEUE_WORKLOADS:  # grouped by their Job: they carry no label of ours
            store, path = Store(conditions_only, group=controller_name), kueue_workloads_path
            selector = None
        else:
            store, path, selector = Store(workload_essentials), jobsets_path, EXPERIMENT_LABEL
        informer = Informer(self.kube, path(namespace), store, self._listener_of(kind), selector)
        self._informers.append(informer)
        informer.start()
        return store

    def cached(self, namespace: str, kind: str, name: str) -> Document | None:
        """The object as last watched, if its namespace's watch is listed already; never
        starts a watch or waits for one."""
        with self._lock:
            store = self._stores.get(namespace, {}).get(kind)
        return store.get(name) if store is not None and store.synced.is_set() else None

    def wrote(self, kind: str, namespace: str, document: Document) -> None:
        if kind == EXPERIMENTS:
            self._experiment_store(namespace).put(document)
        elif kind == JOBSETS:
            self._optional_store(namespace, kind).put(document)
        else:
            self._store(namespace, kind).put(document)

    def _experiment_store(self, namespace: str) -> Store:
        with self._lock:
            return self._experiments.setdefault(namespace, Store())

    def watch(self, namespace: str) -> None:
        """Start the namespace's informers (once); returns without waiting for them."""
        with self._lock:
            if namespace not in self._stores:
                self._stores[namespace] = self._start(namespace)

    def stop(self) -> None:
        for informer in self._informers:
            informer.stop()

    def _store(self, namespace: str, kind: str) -> Store:
        """The namespace's store of `kind`, once its first list is in (a pass must never
        judge from a half-filled cache: it would launch trials it already has)."""
        self.watch(namespace)
        store = self._stores[namespace][kind]
        if not store.synced.wait(SYNC_TIMEOUT_SECONDS):
            raise TimeoutError(f"the {kind} of namespace {namespace} are not listed yet")
        return store

    def _start(self, namespace: str) -> dict[str, Store]:
        trials = Store(settles=is_settled)
        stores = {TRIALS: trials, JOBS: Store(workload_essentials), PODS: Store(pod_essentials)}
        for kind, path in _paths(namespace).items():
            informer = Informer(self.kube, path, stores[kind], self._listener_of(kind))
            self._informers.append(informer)
            informer.start()
        return stores

    def _listener_of(self, kind: str) -> Listener:
        return lambda event, document: self.listener(kind, event, document)
