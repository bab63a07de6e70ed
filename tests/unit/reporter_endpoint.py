"""A real HTTP endpoint on 127.0.0.1 that records what reporters post, for the reporter
tests: it can answer with a chosen status, and be started after the reporter (to test
retries while the operator is down)."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RecordingEndpoint:
    def __init__(self, port: int, status: int = 200) -> None:
        self.port = port
        self.status = status
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reports(self) -> list[dict[str, Any]]:
        return [report for body in self.requests for report in body["reports"]]

    def start(self) -> RecordingEndpoint:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                endpoint.requests.append(json.loads(self.rfile.read(length)))
                endpoint.headers.append(dict(self.headers))
                self.send_response(endpoint.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output quiet

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def wait_for_reports(self, count: int, timeout_s: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout_s
        while len(self.reports()) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.reports()
