"""optuna-dashboard over the mirror's storage, read-only, plus each trial's log.

The dashboard's own API can write (rename or delete a study, tell a trial, save a note);
here the studies mirror experiments that kubetune owns, so every request but GET and HEAD
is refused (405). ``/logs/<trial>`` answers a trial's log as plain text, read by the
function the command passes in (locally the captured file, on a cluster the pod's log).
"""

from __future__ import annotations

import socketserver
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from optuna.storages import BaseStorage
from optuna_dashboard import wsgi

from kubetune.dashboard.trials import LOGS_ROUTE

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

ReadLog = Callable[[str], str]  # trial name -> its log; LookupError or ValueError: none
READING = ("GET", "HEAD")


def application(storage: BaseStorage, read_log: ReadLog) -> WSGIApplication:
    dashboard: WSGIApplication = wsgi(storage)

    def route(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] not in READING:
            return answer(start_response, "405 Method Not Allowed", "read-only dashboard\n")
        path = str(environ.get("PATH_INFO", ""))
        if path.startswith(LOGS_ROUTE):
            return trial_log(start_response, read_log, path.removeprefix(LOGS_ROUTE))
        return dashboard(environ, start_response)

    return route


def trial_log(start_response: StartResponse, read_log: ReadLog, trial: str) -> Iterable[bytes]:
    try:
        return answer(start_response, "200 OK", read_log(trial))
    except (LookupError, ValueError) as missing:
        return answer(start_response, "404 Not Found", f"{missing}\n")


def answer(start_response: StartResponse, status: str, text: str) -> list[bytes]:
    body = text.encode("utf-8")
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"),
                            ("Content-Length", str(len(body)))])  # fmt: skip
    return [body]


class ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    """The page fetches several plots at once: one thread per request."""

    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    """No line per request on stderr: the page polls every few seconds."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve(app: WSGIApplication, host: str, port: int) -> WSGIServer:
    """Bound and listening (port 0 picks a free one); the caller runs `serve_forever`."""
    return make_server(host, port, app, ThreadingServer, QuietHandler)


def address(server: WSGIServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host!s}:{port}/dashboard"
