"""The kopf hooks that run the metrics ingest endpoint beside the handlers.

Importing this module registers them with kopf's default registry, so the handlers
module needs one import line. KUBETUNE_INGEST_PORT (set by the Helm chart) is the port;
KUBETUNE_INGEST_HOST narrows the listening address (all interfaces by default).
"""

from __future__ import annotations

from collections.abc import Container
from typing import Any

import kopf
from aiohttp import web

from kubetune.k8s.custom import TRIALS
from kubetune.k8s.owned import OWNED_MEMO_KEY, WatchedObjects
from kubetune.k8s.rest import Document, Kube, connect
from kubetune.reconcile import settings
from kubetune.reconcile.ingest import start_ingest
from kubetune.reconcile.metrics import API_WRITES
from kubetune.reconcile.metrics_sink import (
    CachedTrial,
    KubeKeySource,
    TrialStatusWriter,
    ingest_threads,
)

RUNNER_MEMO_KEY = "kubetune_ingest_runner"
WATCHED_MEMO_KEY = "kubetune_watched_experiments"
INDEX_NAME = "known_experiments"  # the kopf index in `handlers`


class WatchedExperiments:
    """The experiments in kopf's index, for the ingest. kopf fills its indices before it
    runs any other resource handler, so the first pass marks the index `ready`; until
    then an experiment missing from it may just not be listed yet."""

    def __init__(self, index: Container[object] | None) -> None:
        self.index = index
        self.ready = False

    def __contains__(self, key: object) -> bool:
        return self.index is not None and key in self.index


def mark_watch_listed(memo: Any) -> None:
    """Called by every resource handler: the index is complete by then."""
    watched = memo.get(WATCHED_MEMO_KEY)
    if watched is not None:
        watched.ready = watched.index is not None


async def start_metrics_ingest(
    kube: Kube,
    port: int,
    host: str = "0.0.0.0",
    known: WatchedExperiments | None = None,
    cached: CachedTrial | None = None,
) -> web.AppRunner:
    """The endpoint, checking tokens against experiment keys and recording into trials,
    both on the ingest's own threads: a burst of passes never delays an answer. `cached`:
    where the operator's trial watch keeps trials (see `TrialStatusWriter`)."""
    threads = ingest_threads()
    keys = KubeKeySource(kube, known, threads)
    writer = TrialStatusWriter(kube, threads, cached)
    return await start_ingest(port, keys, writer, host=host)


def _watched_trial(memo: kopf.Memo) -> CachedTrial:
    """A trial from the handlers' watch; looked up per call, since the watch starts in a
    startup hook of its own."""

    def cached(namespace: str, name: str) -> Document | None:
        owned: WatchedObjects | None = memo.get(OWNED_MEMO_KEY)
        return owned.cached(namespace, TRIALS, name) if owned is not None else None

    return cached


@kopf.on.startup()
async def ingest_startup(memo: kopf.Memo, logger: Any, **kwargs: Any) -> None:
    """Starts the endpoint with the operator, sharing the handlers' connection when their
    startup hook (registered earlier) put one in `memo.kube`."""
    port = settings.INGEST_PORT.read()
    kube = memo.get("kube") or API_WRITES.track(connect())
    host = settings.INGEST_HOST.read()
    watched = memo[WATCHED_MEMO_KEY] = WatchedExperiments(kwargs.get(INDEX_NAME))
    runner = await start_metrics_ingest(kube, port, host, watched, _watched_trial(memo))
    memo[RUNNER_MEMO_KEY] = runner
    logger.info(f"metrics ingest listening on port {port}")


@kopf.on.cleanup()
async def ingest_cleanup(memo: kopf.Memo, **_: Any) -> None:
    runner = memo.get(RUNNER_MEMO_KEY)
    if runner is not None:
        await runner.cleanup()
