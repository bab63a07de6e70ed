"""Serving a small aiohttp app beside kopf: the metrics ingest endpoint and the Prometheus
endpoint both start and stop the same way, so they share these two functions.
"""

from __future__ import annotations

from aiohttp import web


async def serve(app: web.Application, host: str, port: int) -> web.AppRunner:
    """Serves `app` until the returned runner's `cleanup()`. Port 0 picks a free port
    (tests); `bound_port(runner)` tells which."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner


def bound_port(runner: web.AppRunner) -> int:
    """The port actually listened on (the chosen one when port 0 was asked for)."""
    for address in runner.addresses:
        return int(address[1])
    raise RuntimeError("the server is not listening")
