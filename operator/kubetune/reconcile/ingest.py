"""The ingest endpoint: ``POST /v1/reports`` from the reporter sidecars of trial pods.

An aiohttp server (aiohttp ships with kopf) on the operator's event loop, started by a
kopf startup hook. Every request is checked in order of cost: body size and shape (pure,
`planning.ingest_rules`), then the trial token against the experiment's key, then
recording. Each outcome is counted in ``kubetune_ingest_reports_total`` by result and
reason. Answers: 200 recorded; 4xx refused for good (the sidecar drops the batch);
503 not recorded now (the sidecar retries).
"""

from __future__ import annotations

from typing import Protocol

from aiohttp import web
from prometheus_client import Counter

from kubetune.planning.ingest_rules import (
    MAX_BODY_BYTES,
    Rejection,
    ReportBatch,
    TrialRef,
    bearer_token,
    check_token,
    parse_report_request,
)
from kubetune.reconcile.http_serving import serve

REPORTS_ROUTE = "/v1/reports"
INGEST_REPORTS = Counter(
    "kubetune_ingest_reports",
    "Report requests from trial sidecars, by result and reason.",
    ["result", "reason"],
)


class KeySource(Protocol):
    async def key_for(self, namespace: str, experiment: str, fresh: bool = False) -> bytes | None:
        """The experiment's token key; None when it has none. `fresh`: the cached key just
        failed, so re-read it (a re-created experiment has a new key)."""
        ...


class ReportSink(Protocol):
    async def record(self, batch: ReportBatch) -> Rejection | None:
        """Records the batch durably before returning None; or says why it cannot."""
        ...


def make_ingest_app(keys: KeySource, sink: ReportSink) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app.router.add_post(REPORTS_ROUTE, ReportsHandler(keys, sink).handle)
    app.router.add_get("/healthz", _healthz)
    return app


class ReportsHandler:
    def __init__(self, keys: KeySource, sink: ReportSink) -> None:
        self.keys = keys
        self.sink = sink

    async def handle(self, request: web.Request) -> web.Response:
        outcome = await self._accept(request)
        if isinstance(outcome, Rejection):
            INGEST_REPORTS.labels(result="rejected", reason=outcome.reason).inc()
            return web.json_response({"error": outcome.message}, status=outcome.status)
        INGEST_REPORTS.labels(result="accepted", reason="ok").inc()
        return web.json_response({"accepted": len(outcome.reports)})

    async def _accept(self, request: web.Request) -> ReportBatch | Rejection:
        body = await read_capped(request)
        batch = parse_report_request(body) if body is not None else None
        if batch is None:
            return Rejection(413, "too_large", f"body over {MAX_BODY_BYTES} bytes")
        if isinstance(batch, Rejection):
            return batch
        token = bearer_token(request.headers.get("Authorization"))
        refused = await self._check_token(batch.trial, token)
        if refused is None:
            refused = await self.sink.record(batch)
        return refused or batch

    async def _check_token(self, trial: TrialRef, token: str | None) -> Rejection | None:
        key = await self.keys.key_for(trial.namespace, trial.experiment)
        refused = check_token(key, trial, token)
        if refused is not None and token is not None:
            key = await self.keys.key_for(trial.namespace, trial.experiment, fresh=True)
            refused = check_token(key, trial, token)
        return refused


async def read_capped(request: web.Request) -> bytes | None:
    """The body, or None as soon as it exceeds the cap: a huge body is never buffered."""
    if (request.content_length or 0) > MAX_BODY_BYTES:
        return None
    chunks, size = [], 0
    async for chunk in request.content.iter_chunked(16 * 1024):
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def _healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def start_ingest(
    port: int, keys: KeySource, sink: ReportSink, host: str = "0.0.0.0"
) -> web.AppRunner:
    """Serves the endpoint until the returned runner's `cleanup()`."""
    return await serve(make_ingest_app(keys, sink), host, port)
