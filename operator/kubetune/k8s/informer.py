"""Watch-fed caches of what the operator owns, so a pass reads memory, not the API server.

An `Informer` lists one kind (TuningTrials, Jobs or Pods) in one namespace, narrowed on
the server to objects carrying the experiment label (Kueue's Workloads, which carry none
of ours, are grouped by their Job instead), then follows a watch from that
list's resourceVersion, listing again only when the server says the version is too old
(410). Its `Store` keeps each object trimmed to what the operator reads (no
managedFields; of a Pod only its metadata and status; of a Job or JobSet no pod template
but its containers' names), grouped by experiment, so a pass costs what the experiment
has, not what the namespace has, and never decodes history.

A cache may lag the API server by a moment. That is safe because every write a pass
decides names what it saw: settling writes are conditional on the trial's
resourceVersion (a stale read gets 409 and the next pass decides again), creates accept
the object the same owner made before, and what a pass creates or patches is put back
into the store at once (the newer resourceVersion wins), so the next pass of that
experiment sees its own writes even before their watch events arrive.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from kubetune.k8s.rest import Document, Kube, is_status
from kubetune.planning.history import SettledLog, SettledTrials
from kubetune.planning.jobs import EXPERIMENT_LABEL

logger = logging.getLogger(__name__)
Trim = Callable[[Document], Document]
Listener = Callable[[str, Document], None]  # (event type, object), after the store has it
LIST_PAGE = 500  # objects per list request: bounds the memory a relist takes at once
WATCH_SECONDS = 290  # the server ends each watch after this; it is then resumed
IDLE_SECONDS = 330  # no byte for this long (not even a bookmark): the stream is dead
RETRY_SECONDS = 2.0
ABSENT_KIND_RETRY_SECONDS = 30.0


def version_of(document: Document) -> int:
    """etcd's revision behind a resourceVersion; 0 when it is not a number (then any
    other version replaces it)."""
    version = str(document.get("metadata", {}).get("resourceVersion", ""))
    return int(version) if version.isdigit() else 0


def without_managed_fields(document: Document) -> Document:
    metadata = {k: v for k, v in document["metadata"].items() if k != "managedFields"}
    return {**document, "metadata": metadata}


def pod_essentials(pod: Document) -> Document:
    """A trial's outcome needs only a pod's metadata and status (phases, exit codes)."""
    return {"metadata": without_managed_fields(pod)["metadata"], "status": pod.get("status", {})}


def workload_essentials(workload: Document) -> Document:
    """A trial's Job or JobSet as a pass reads it: metadata, status and its spec, of whose
    pod templates only the containers' names are kept (which one is the trainer). The
    templates are most of a Job's size in memory (20 KiB), and a finished Job stays
    cached until its TTL deletes it: thousands at once at scale."""
    kept = without_managed_fields(workload)
    return {**kept, "spec": _spec_essentials(workload.get("spec") or {})}


def _spec_essentials(spec: Document) -> Document:
    """A Job's spec with its pod template reduced; a JobSet's with each replicated job's."""
    kept = dict(spec)
    if "template" in spec:
        containers = (spec["template"].get("spec") or {}).get("containers") or []
        kept["template"] = {"spec": {"containers": [{"name": c.get("name")} for c in containers]}}
    if "replicatedJobs" in spec:
        kept["replicatedJobs"] = [_replicated_job_essentials(job) for job in spec["replicatedJobs"]]
    return kept


def _replicated_job_essentials(job: Document) -> Document:
    template = job.get("template") or {}
    return {**job, "template": {**template, "spec": _spec_essentials(template.get("spec") or {})}}


def _never(document: Document) -> bool:
    return False


class Store:
    """The objects of one kind in one namespace, by name and by experiment.

    With `settles` (a predicate: the object will never change again, as a finished
    trial), each experiment's settled objects are also kept in a `SettledLog` that only
    grows, so a pass takes the experiment's unsettled objects and a view of that log
    (`split`) without touching its history. A settled object that changes or goes away
    (an edit by hand, the experiment's deletion) drops the log; the next `split` builds
    it again."""

    def __init__(
        self,
        trim: Trim = without_managed_fields,
        settles: Callable[[Document], bool] = _never,
        group: Callable[[Document], str] | None = None,
    ) -> None:
        """`group`: the key objects are grouped by (default: their experiment label)."""
        self.trim, self.settles = trim, settles
        self.group = group or _experiment_of
        self.synced = threading.Event()
        self._lock = threading.Lock()
        self._objects: dict[str, Document] = {}
        self._by_experiment: defaultdict[str, set[str]] = defaultdict(set)
        self._unsettled: defaultdict[str, set[str]] = defaultdict(set)
        self._logs: dict[str, SettledLog] = {}

    def put(self, document: Document) -> bool:
        """Keep `document` unless the store has it or a newer version already; whether it
        was kept. So the watch event of a pass's own write, put at once, changes nothing
        and wakes no pass."""
        with self._lock:
            return self._put(document)

    def remove(self, document: Document) -> bool:
        """Forget the object unless the store has a version newer than its deletion."""
        with self._lock:
            return self._remove(document)

    def replace(self, documents: Sequence[Document], listed_version: int) -> None:
        """A fresh list: what it holds is put, what it lacks (and was not changed since
        the list was taken) is forgotten."""
        with self._lock:
            listed = {document["metadata"]["name"] for document in documents}
            for document in documents:
                self._put(document)
            for name in [n for n in self._objects if n not in listed]:
                if version_of(self._objects[name]) <= listed_version:
                    self._forget(name)

    def get(self, name: str) -> Document | None:
        with self._lock:
            return self._objects.get(name)

    def of_experiment(self, experiment: str) -> list[Document]:
        with self._lock:
            return [self._objects[name] for name in self._by_experiment.get(experiment, ())]

    def split(self, experiment: str) -> tuple[list[Document], SettledTrials]:
        """The experiment's unsettled objects, and its settled ones as a log view."""
        with self._lock:
            unsettled = [self._objects[name] for name in self._unsettled.get(experiment, ())]
            log = self._logs.get(experiment)
            if log is None:
                names = self._by_experiment.get(experiment, set())
                settled = (self._objects[name] for name in sorted(names))
                log = self._logs[experiment] = SettledLog(d for d in settled if self.settles(d))
            return unsettled, log.view()

    def __len__(self) -> int:
        return len(self._objects)

    def _put(self, document: Document) -> bool:
        name = document["metadata"]["name"]
        stored = self._objects.get(name)
        if stored is not None and version_of(stored) >= version_of(document) > 0:
            return False  # older, or the pass's own write coming back: nothing new
        self._forget(name)
        kept = self._objects[name] = self.trim(document)
        experiment = self.group(document)
        self._by_experiment[experiment].add(name)
        if not self.settles(kept):
            self._unsettled[experiment].add(name)
        elif experiment in self._logs:
            self._logs[experiment].append(kept)
        return True

    def _remove(self, document: Document) -> bool:
        stored = self._objects.get(document["metadata"]["name"])
        if stored is None or version_of(stored) > version_of(document):
            return False
        self._forget(document["metadata"]["name"])
        return True

    def _forget(self, name: str) -> None:
        stored = self._objects.pop(name, None)
        if stored is None:
            return
        experiment = self.group(stored)
        _discard(self._by_experiment, experiment, name)
        _discard(self._unsettled, experiment, name)
        if name in self._logs.get(experiment, ()):
            del self._logs[experiment]  # a settled object changed or went: build anew


def _discard(index: defaultdict[str, set[str]], experiment: str, name: str) -> None:
    names = index.get(experiment)
    if names is not None:
        names.discard(name)
        if not names:
            del index[experiment]


def _experiment_of(document: Document) -> str:
    return str((document["metadata"].get("labels") or {}).get(EXPERIMENT_LABEL, ""))


def controller_name(document: Document) -> str:
    """The name of the object's controlling owner ('' if none): Kueue's Workloads carry
    no label of ours, but their Job, named after its trial, controls them."""
    for reference in document["metadata"].get("ownerReferences") or []:
        if reference.get("controller"):
            return str(reference.get("name", ""))
    return ""


def conditions_only(document: Document) -> Document:
    """Of a Kueue Workload, the operator reads its owner and why it waits."""
    conditions = (document.get("status") or {}).get("conditions") or []
    return {"metadata": without_managed_fields(document)["metadata"],
            "status": {"conditions": conditions}}  # fmt: skip


class Informer:
    """Keeps one `Store` in step with the API server, in a daemon thread of its own."""

    def __init__(
        self,
        kube: Kube,
        path: str,
        store: Store,
        listener: Listener,
        selector: str | None = EXPERIMENT_LABEL,
    ) -> None:
        """`selector`: the label selector (None: every object of the namespace)."""
        self.kube, self.path, self.store, self.listener = kube, path, store, listener
        self.selector = {"labelSelector": selector} if selector else {}
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"watch {path}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._follow(self._relist())
            except Exception as error:  # the API server restarting, a dropped connection...
                if is_status(error, 404):  # no such kind (yet): its CRD may come later
                    self.store.synced.set()
                    self._stopping.wait(ABSENT_KIND_RETRY_SECONDS)
                    continue
                logger.warning("watch of %s broke; listing again", self.path, exc_info=True)
                self._stopping.wait(RETRY_SECONDS)

    def _relist(self) -> str:
        """List every labelled object, page by page; the list's resourceVersion."""
        items, query = [], {**self.selector, "limit": str(LIST_PAGE)}
        while True:
            page = self.kube.request("GET", self.path, query=query)
            items += page["items"]
            if not page["metadata"].get("continue"):
                break
            query = {**query, "continue": page["metadata"]["continue"]}
        version: str = page["metadata"]["resourceVersion"]
        self.store.replace(items, version_of(page))
        self.store.synced.set()
        return version

    def _follow(self, version: str | None) -> None:
        """Watch from `version` until the server says it is too old (then return)."""
        while version is not None and not self._stopping.is_set():
            version = self._watch_once(version)

    def _watch_once(self, version: str) -> str | None:
        query = {
            "watch": "1", "resourceVersion": version, "allowWatchBookmarks": "true",
            **self.selector, "timeoutSeconds": str(WATCH_SECONDS),
        }  # fmt: skip
        try:
            for event in self.kube.stream(self.path, query=query, idle_s=IDLE_SECONDS):
                version = self._apply(event, version)
                if not version:
                    return None
        except Exception as error:
            if is_status(error, 410):
                return None
            raise
        return version

    def _apply(self, event: dict[str, Any], version: str) -> str:
        """Take one watch event into the store; the version to resume from ('' when the
        server says `version` has expired)."""
        kind, document = event["type"], event["object"]
        if kind == "ERROR":
            if document.get("code") == 410:
                return ""
            raise RuntimeError(f"watch of {self.path}: {document.get('message')}")
        if kind != "BOOKMARK":
            changed = self.store.remove(document) if kind == "DELETED" else self.store.put(document)
            if changed and not self._stopping.is_set():  # a stopped operator hears nothing
                self.listener(kind, document)
        return str(document["metadata"]["resourceVersion"])
