"""The kopf handlers: thin triggers of one level-triggered reconcile pass.

Whatever happens (an experiment created, edited or listed after a restart, a Job or Pod
changing, a trial reporting metrics, a periodic timer), the handler runs the same pass
for the owning experiment. kopf watches the experiments; trials, Jobs and Pods come from
the operator's own label-selected informers (`k8s.owned`), which also keep them in
memory for the passes (kopf cannot narrow a watch by label, and would receive every Pod
of the namespace). Only event and timer handlers: kopf then keeps no copy of the spec in
annotations (see `configure`). The pass itself runs in a worker thread of a pool of its
own (KUBETUNE_PASS_THREADS), so the Kubernetes client and the suggesters never block
kopf's event loop, and passes of one experiment are serialized and coalesced: with at
most one pass of each experiment queued, the pool serves experiments in turn, and a
large one never starves the others.

Run with: kopf run --module=kubetune.reconcile.handlers --all-namespaces
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import kopf

from kubetune.api import API_GROUP, API_VERSION, TERMINAL_PHASES
from kubetune.k8s.owned import OWNED_MEMO_KEY, WatchedObjects
from kubetune.k8s.rest import Kube, connect
from kubetune.k8s.workloads import JOBS, JOBSETS, KUEUE_WORKLOADS, PODS
from kubetune.planning.jobs import EXPERIMENT_LABEL
from kubetune.planning.outcome import STUCK_WAITING_REASONS
from kubetune.reconcile import (
    ingest_service,  # noqa: F401  (registers the ingest endpoint's hooks)
    metrics_service,  # noqa: F401  (registers the /metrics server's hooks)
    settings,
)
from kubetune.reconcile.experiment import reconcile_experiment
from kubetune.reconcile.ingest_service import mark_watch_listed
from kubetune.reconcile.metrics import API_WRITES, forget_experiment
from kubetune.reconcile.metrics_sink import INGEST_THREADS
from kubetune.reconcile.reporter_jobs import experiment_keys
from kubetune.reconcile.serialize import PassSerializer
from kubetune.reconcile.side_by_side import REQUESTS_AT_ONCE

EXPERIMENTS = (API_GROUP, API_VERSION, "tuningexperiments")
Document = dict[Any, Any]
# A safety net for what no event announces (maxDuration passing) or an event missed.
RESYNC_SECONDS = settings.RESYNC_SECONDS.read()
# Passes are API round trips: more threads only queue more requests at the API server
# (issue 13's what-ifs). A pool of their own, not asyncio's default executor, whose size
# follows the node's cores and which the ingest used to wait on behind the passes.
PASS_THREADS = settings.PASS_THREADS.read()
PASS_THREADS_MEMO_KEY = "pass_threads"
# Every request the passes and the ingest may have in flight at once.
CONNECTIONS = PASS_THREADS * REQUESTS_AT_ONCE + INGEST_THREADS

logger = logging.getLogger(__name__)


@kopf.on.startup()
def configure(*, settings: kopf.OperatorSettings, memo: Any, **_: Any) -> None:
    """Keep kopf's bookkeeping out of the way and let it post no Events of its own (ours
    say more, and each is an API write).

    No handler here detects changes (on.create, on.update, on.resume, on.delete): those
    make kopf keep the last handled spec in an annotation, which breaks at the 256 KB
    limit on annotations while a spec may reach the 1.5 MB object limit. Every pass is
    level-triggered anyway, so watching events (on.event) and a timer is all it needs."""
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=API_GROUP)
    settings.posting.enabled = False
    settings.watching.server_timeout = 300
    memo["kube"] = API_WRITES.track(connect(CONNECTIONS))
    memo["passes"] = PassSerializer()  # per operator run: its locks belong to this loop
    memo[PASS_THREADS_MEMO_KEY] = ThreadPoolExecutor(PASS_THREADS, thread_name_prefix="pass")


@kopf.on.startup()
async def start_watching(*, memo: Any, **_: Any) -> None:
    """The informers get a connection of their own: their long-lived watches must not
    hold the connections that passes and the ingest take turns on."""
    loop = asyncio.get_running_loop()

    def changed(kind: str, event: str, document: Document) -> None:
        if _wakes_pass(kind, event, document):
            metadata = document["metadata"]
            experiment = metadata["labels"][EXPERIMENT_LABEL]
            coroutine = _quietly(memo, metadata["namespace"], experiment)
            asyncio.run_coroutine_threadsafe(coroutine, loop)

    memo[OWNED_MEMO_KEY] = WatchedObjects(API_WRITES.track(connect()), changed)


@kopf.on.cleanup()
def release_pass_threads(*, memo: Any, **_: Any) -> None:
    """Passes still running finish on their own; queued ones have nothing left to serve."""
    threads: ThreadPoolExecutor | None = memo.get(PASS_THREADS_MEMO_KEY)
    if threads is not None:
        threads.shutdown(wait=False, cancel_futures=True)
    owned: WatchedObjects | None = memo.get(OWNED_MEMO_KEY)
    if owned is not None:
        owned.stop()


@kopf.on.login()
def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
    """The service account in a cluster, else $KUBECONFIG as it is now (kopf's default
    goes through the client library, which reads $KUBECONFIG once, at import)."""
    return kopf.login_with_service_account(**kwargs) or kopf.login_with_kubeconfig(**kwargs)


async def _reconcile(memo: Any, namespace: str, name: str) -> None:
    mark_watch_listed(memo)
    kube: Kube = memo["kube"]
    passes: PassSerializer = memo["passes"]
    threads: ThreadPoolExecutor = memo[PASS_THREADS_MEMO_KEY]
    owned: WatchedObjects = memo[OWNED_MEMO_KEY]
    owned.watch(namespace)
    loop = asyncio.get_running_loop()
    # A pass that launched a full step asks for the next one at once: its own writes
    # wake no pass (see `k8s.informer.Store.put`).
    while await passes.run(
        (namespace, name),
        lambda: loop.run_in_executor(threads, reconcile_experiment, kube, namespace, name, owned),
    ):
        pass


@kopf.index(*EXPERIMENTS)
def known_experiments(*, namespace: str | None, name: str, uid: str, **_: Any) -> Document:
    """Every experiment the operator watches, kept by kopf from its own watch: the ingest
    answers reports naming any other experiment without an API read."""
    return {(str(namespace), name): uid}


@kopf.on.event(*EXPERIMENTS)
async def experiment_event(
    *,
    type: str | None,
    namespace: str | None,
    name: str,
    meta: kopf.Meta,
    event: Any,
    memo: Any,
    **_: Any,
) -> None:
    """Every event keeps the passes' copy of the experiment current (they read it from
    there, not from the API server). Listed at start-up (type None), created or its spec
    changed: one pass. Deleted: forget it (the garbage collector deletes what it owned)."""
    key = (str(namespace), name)
    seen: dict[tuple[str, str], object] = memo.setdefault("generations", {})
    memo[OWNED_MEMO_KEY].saw(str(namespace), event["object"], deleted=type == "DELETED")
    if type == "DELETED":
        memo["passes"].forget(key)
        seen.pop(key, None)
        forget_experiment(*key)
        experiment_keys.forget(str(meta.get("uid")))
        return
    # The pass's own status and annotation writes leave the generation alone: no pass.
    version = (meta.get("uid"), meta.get("generation"))
    if seen.get(key) != version:
        seen[key] = version
        await _quietly(memo, *key)


def _unfinished(*, status: kopf.Status, **_: Any) -> bool:
    """Finished experiments need no resync: nothing changes them any more."""
    return status.get("phase") not in TERMINAL_PHASES


@kopf.timer(*EXPERIMENTS, interval=RESYNC_SECONDS, initial_delay=RESYNC_SECONDS, when=_unfinished)
async def experiment_resync(*, namespace: str | None, name: str, memo: Any, **_: Any) -> None:
    await _quietly(memo, str(namespace), name)


def _wakes_pass(kind: str, event: str, document: Document) -> bool:
    """Every change of a trial or Job wakes its experiment's pass (except a Job expiring
    after its trial settled, see `settle.release_settled`); of a Pod, only what
    says more than its Job: a success (known before the Job controller records it) and a
    container stuck waiting (which would otherwise hang until its deadline)."""
    if kind == KUEUE_WORKLOADS:
        return False  # no label says whose: the Job's suspend flip and the resync do
    if kind in (JOBS, JOBSETS) and event == "DELETED":
        return (document.get("spec") or {}).get("ttlSecondsAfterFinished") is None
    if kind != PODS:
        return True
    if event == "DELETED":
        return False
    status = document.get("status") or {}
    containers = status.get("containerStatuses") or []
    reasons = [((c.get("state") or {}).get("waiting") or {}).get("reason") for c in containers]
    return status.get("phase") == "Succeeded" or any(
        reason in STUCK_WAITING_REASONS for reason in reasons
    )


async def _quietly(memo: Any, namespace: str, name: str) -> None:
    """A pass that fails (the API server unavailable, say) is logged, never retried by
    kopf: the next event or the resync timer runs a fresh pass anyway."""
    try:
        await _reconcile(memo, namespace, name)
    except Exception:
        logger.exception("reconcile pass of %s/%s failed", namespace, name)
