"""The kopf hooks that run the metrics ingest endpoint beside the handlers.

Importing this module registers them with kopf's default registry, so the handlers
module needs one import line. KUBETUNE_INGEST_PORT (set by the Helm chart) is the port;
KUBETUNE_INGEST_HOST narrows the listening address (all interfaces by default).
"""

from __future__ import annotations

import os
from typing import Any

import kopf
from aiohttp import web

from kubetune.k8s.rest import Kube, connect
from kubetune.reconcile.ingest import start_ingest
from kubetune.reconcile.metrics_sink import KubeKeySource, TrialStatusWriter

DEFAULT_INGEST_PORT = 8443
RUNNER_MEMO_KEY = "kubetune_ingest_runner"


async def start_metrics_ingest(kube: Kube, port: int, host: str = "0.0.0.0") -> web.AppRunner:
    """The endpoint, checking tokens against experiment keys and recording into trials."""
    return await start_ingest(port, KubeKeySource(kube), TrialStatusWriter(kube), host=host)


@kopf.on.startup()
async def ingest_startup(memo: kopf.Memo, logger: Any, **_: Any) -> None:
    """Starts the endpoint with the operator, sharing the handlers' connection when their
    startup hook (registered earlier) put one in `memo.kube`."""
    port = int(os.environ.get("KUBETUNE_INGEST_PORT", DEFAULT_INGEST_PORT))
    kube = memo.get("kube") or connect()
    host = os.environ.get("KUBETUNE_INGEST_HOST", "0.0.0.0")
    runner = await start_metrics_ingest(kube, port, host)
    memo[RUNNER_MEMO_KEY] = runner
    logger.info(f"metrics ingest listening on port {port}")


@kopf.on.cleanup()
async def ingest_cleanup(memo: kopf.Memo, **_: Any) -> None:
    runner = memo.get(RUNNER_MEMO_KEY)
    if runner is not None:
        await runner.cleanup()
