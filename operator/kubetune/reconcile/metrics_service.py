"""The kopf hooks that serve ``GET /metrics`` for Prometheus beside the handlers.

Importing this module registers them with kopf's default registry (the handlers module
imports it). The endpoint is a tiny aiohttp server on the operator's own event loop, like
the ingest endpoint: no extra thread, and it stops with the operator. KUBETUNE_METRICS_PORT
(set by the Helm chart; 9090 by default, 0 picks a free port) is the port, and
KUBETUNE_METRICS_HOST narrows the listening address (all interfaces by default).
"""

from __future__ import annotations

from typing import Any

import kopf
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from kubetune.reconcile import settings
from kubetune.reconcile.http_serving import bound_port, serve

METRICS_ROUTE = "/metrics"
RUNNER_MEMO_KEY = "kubetune_metrics_runner"


async def _metrics(request: web.Request) -> web.Response:
    # generate_latest is synchronous but takes microseconds for the few series we keep.
    response = web.Response(body=generate_latest(REGISTRY))
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response


async def start_metrics_server(port: int, host: str = "0.0.0.0") -> web.AppRunner:
    """Serves the default registry until the returned runner's `cleanup()`."""
    app = web.Application()
    app.router.add_get(METRICS_ROUTE, _metrics)
    return await serve(app, host, port)


@kopf.on.startup()
async def metrics_startup(memo: kopf.Memo, logger: Any, **_: Any) -> None:
    port, host = settings.METRICS_PORT.read(), settings.METRICS_HOST.read()
    runner = await start_metrics_server(port, host)
    memo[RUNNER_MEMO_KEY] = runner
    logger.info(f"Prometheus metrics on port {bound_port(runner)}{METRICS_ROUTE}")


@kopf.on.cleanup()
async def metrics_cleanup(memo: kopf.Memo, **_: Any) -> None:
    runner = memo.get(RUNNER_MEMO_KEY)
    if runner is not None:
        await runner.cleanup()
