"""Raw watch streams of the API server, decoded as plain JSON.

The client library's `Watch` turns every event into generated model objects, which costs
more CPU than the operator under test spends on some events; on 2 shared cores that
would distort the figures. Here each event is one `json.loads`, and a stream that the
server closes (its timeout) is reopened, re-listing what exists as ADDED events, so
consumers must treat events idempotently.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from time import monotonic as now
from typing import Any

from kubernetes import client

Document = dict[str, Any]
EventHandler = Callable[[str, Document], None]
SERVER_TIMEOUT_S = 240
READ_TIMEOUT_S = SERVER_TIMEOUT_S + 30.0


def stream_events(api_client: client.ApiClient, path: str, selector: str) -> Iterator[Document]:
    """Events of one watch request (until the server ends it) as decoded documents."""
    query = [("watch", "true"), ("labelSelector", selector),
             ("timeoutSeconds", str(SERVER_TIMEOUT_S))]  # fmt: skip
    method, url, headers, _, _ = api_client.param_serialize(
        "GET", path, query_params=query, auth_settings=["BearerToken"]
    )
    response = api_client.call_api(method, url, headers, _request_timeout=(10, READ_TIMEOUT_S))
    pending = b""
    for chunk in response.response.stream(64 * 1024, decode_content=False):
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            if line.strip():
                yield json.loads(line)


class WatchThread(threading.Thread):
    """Feeds every event of `path` (label-selected) to `handle` until `halt` is set."""

    def __init__(
        self, api_client: client.ApiClient, path: str, selector: str, handle: EventHandler
    ) -> None:
        super().__init__(daemon=True, name=f"watch {path}")
        self.api_client, self.path, self.selector, self.handle = api_client, path, selector, handle
        self.halt = threading.Event()
        self.errors: list[BaseException] = []

    def run(self) -> None:
        while not self.halt.is_set():
            try:
                for event in stream_events(self.api_client, self.path, self.selector):
                    if self.halt.is_set():
                        return
                    if event["type"] != "ERROR":  # a Status, e.g. the stream expired
                        self.handle(str(event["type"]), event["object"])
            except Exception as error:  # a dropped connection: note it and watch again
                self.errors.append(error)
                self.halt.wait(1.0)


class JobClock:
    """When each trial Job was first seen (a watch sees it within milliseconds of its
    creation; `creationTimestamp` has only second resolution), by experiment."""

    def __init__(self, api_client: client.ApiClient, namespace: str, selector: str) -> None:
        self.seen: dict[str, dict[str, float]] = {}  # experiment -> Job name -> time
        self.selector_key = selector
        path = f"/apis/batch/v1/namespaces/{namespace}/jobs"
        self.watch = WatchThread(api_client, path, selector, self._on_event)

    def _on_event(self, kind: str, job: Document) -> None:
        if kind == "ADDED":
            experiment = job["metadata"]["labels"][self.selector_key]
            self.seen.setdefault(experiment, {}).setdefault(job["metadata"]["name"], now())

    def creation_times(self, experiment: str) -> list[float]:
        return sorted(self.seen.get(experiment, {}).values())
