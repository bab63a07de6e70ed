"""Stands in for kube-proxy for one Service: `kubernetes`, the API server's.

In-cluster clients (kopf's service-account login among them) dial
https://kubernetes.default.svc on port 443. This cluster runs no kube-proxy and no DNS,
so a pod maps that name to the node's address (hostAliases) and this forwarder relays
port 443 there to the API server on loopback. TLS passes through untouched: the API
server's certificate names kubernetes.default.svc, so clients verify it as usual.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType

CHUNK = 65536


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(CHUNK):
            sink.sendall(data)
    with contextlib.suppress(OSError):
        sink.shutdown(socket.SHUT_WR)  # the other direction may still be talking


class TcpForwarder:
    """Accepts on (listen_host, listen_port) and relays each connection to target."""

    def __init__(self, listen: tuple[str, int], target: tuple[str, int]) -> None:
        self.target = target
        self.server = socket.create_server(listen, reuse_port=False)
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        with contextlib.suppress(OSError):  # the listening socket closed: stop
            while True:
                client, _ = self.server.accept()
                upstream = socket.create_connection(self.target, timeout=10)
                upstream.settimeout(None)
                for source, sink in ((client, upstream), (upstream, client)):
                    threading.Thread(target=_pipe, args=(source, sink), daemon=True).start()

    def __enter__(self) -> TcpForwarder:
        self.thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with contextlib.suppress(OSError):
            self.server.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() on Linux
        self.server.close()
        self.thread.join(5)
