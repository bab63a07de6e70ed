"""One narrow door to the API server: JSON documents in, JSON documents out.

The official client's typed models validate every field of every object and turn unknown
fields (a newer API server, a custom resource) into errors or silent drops. The operator
works with plain documents instead: it reads what the server stores and writes merge
patches. Authentication, TLS and kubeconfig handling still come from the official
`ApiClient`; only (de)serialization is bypassed. Every call goes through `Kube.request`
(or `Kube.read_text`, its plain-text twin for container logs), which also counts writes so
the overhead of the operator per trial can be measured.
"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from kubetune.planning.jobs import controller_uid
from kubetune.planning.refusals import REFUSED_CODES, Refusal, parse_refusal

Document = dict[str, Any]
MERGE_PATCH = "application/merge-patch+json"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
REQUEST_TIMEOUT_SECONDS = 30.0
STREAM_CHUNK_BYTES = 64 * 1024
DEFAULT_CONNECTIONS = 10


class Kube:
    """The operator's connection: an `ApiClient`, a thread-safe count of writes, and until
    when each (apiVersion, plural) found served may be taken as served (`served_until`,
    kept by `workloads.serves_resource`)."""

    def __init__(self, api_client: client.ApiClient) -> None:
        self.api_client = api_client
        self.writes: Counter[str] = Counter()
        self.served_until: dict[tuple[str, str], float] = {}
        self._writes_lock = threading.Lock()

    def request(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, str] | None = None,
        body: Any = None,
        content_type: str = "application/json",
    ) -> Document:
        """Send one request; raise `ApiException` (with `.status`) on a non-2xx answer."""
        headers = {"Accept": "application/json", "Content-Type": content_type}
        text = self._send(
            method, path, query=query, body=body, headers=headers,
            timeout_s=REQUEST_TIMEOUT_SECONDS,
        )  # fmt: skip
        document: Document = json.loads(text) if text else {}
        return document

    def read_text(self, path: str, *, query: dict[str, str], timeout_s: float) -> str:
        """GET a plain-text resource (a container's log); raise `ApiException` as `request`
        does. Undecodable bytes are replaced: a log is whatever the program wrote."""
        # The API server negotiates on its serializers (its errors are JSON) and refuses
        # `Accept: text/plain` with 406; the log itself comes back as plain text anyway.
        headers = {"Accept": "*/*", "Content-Type": "application/json"}
        return self._send("GET", path, query=query, body=None, headers=headers, timeout_s=timeout_s)

    def stream(self, path: str, *, query: dict[str, str], idle_s: float) -> Iterator[Document]:
        """GET a watch: the JSON events it sends, one per line, as they arrive. Ends when
        the server closes the stream (its `timeoutSeconds`); raises when nothing at all
        arrives for `idle_s` (bookmarks keep a healthy stream talking)."""
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        timeout = (REQUEST_TIMEOUT_SECONDS, idle_s)  # (connect, each read)
        response = self._open("GET", path, query=query, body=None, headers=headers,
                              timeout_s=timeout)  # fmt: skip
        pending = b""
        for chunk in response.response.stream(STREAM_CHUNK_BYTES):
            *lines, pending = (pending + chunk).split(b"\n")
            yield from (json.loads(line) for line in lines if line.strip())

    def _send(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, str] | None,
        body: Any,
        headers: dict[str, str],
        timeout_s: float,
    ) -> str:
        response = self._open(method, path, query=query, body=body, headers=headers,
                              timeout_s=timeout_s)  # fmt: skip
        raw: bytes = response.read()
        return raw.decode("utf-8", errors="replace")

    def _open(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, str] | None,
        body: Any,
        headers: dict[str, str],
        timeout_s: float | tuple[float, float],
    ) -> Any:
        """Send the request; the response with its body unread, or ApiException."""
        method_, url, headers, body, _ = self.api_client.param_serialize(
            method, path, query_params=list((query or {}).items()), header_params=headers,
            body=body, auth_settings=["BearerToken"],
        )  # fmt: skip
        self._count(method, path)
        response = self.api_client.call_api(method_, url, headers, body, _request_timeout=timeout_s)
        if not 200 <= response.status <= 299:
            text = response.read().decode("utf-8", errors="replace")  # type: ignore[no-untyped-call]
            raise ApiException.from_response(http_resp=response, body=text, data=None)
        return response

    def write_counts(self) -> Counter[str]:
        """The writes so far, "VERB resource" -> count, as one consistent copy."""
        with self._writes_lock:
            return Counter(self.writes)

    def _count(self, method: str, path: str) -> None:
        if method in WRITE_METHODS:
            with self._writes_lock:
                self.writes[f"{method} {_resource_of(path)}"] += 1


def _resource_of(path: str) -> str:
    """`jobs`, `tuningtrials/status`... from a request path, for the write counters."""
    parts = path.strip("/").split("/")
    if "namespaces" in parts:
        parts = parts[parts.index("namespaces") + 2 :]
    resource = parts[0] if parts else path
    return f"{resource}/{parts[2]}" if len(parts) > 2 else resource


class RefusedError(Exception):
    """The API server refused a write as invalid (400 or 422); retrying cannot help."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(f"{refusal.code}: {refusal.message}")
        self.refusal = refusal


class ForeignObjectError(Exception):
    """The name is taken by an object another owner made (an experiment deleted and
    re-created under the same name leaves its objects to the garbage collector): it is
    waited out, never adopted."""


def create_owned(kube: Kube, path: str, body: Document, *, listed: bool = False) -> Document:
    """Create `body`; when its name is taken, the stored object if it has the same
    controller (a retry after a crash). Raises ForeignObjectError for another owner's
    object and RefusedError for an invalid one. `listed`: look the stored object up by
    a list (the operator may list Jobs but not get them one by one)."""
    try:
        return kube.request("POST", path, body=body)
    except ApiException as error:
        if is_status(error, *REFUSED_CODES):
            raise RefusedError(parse_refusal(int(error.status), error.body)) from None
        if not is_status(error, 409):
            raise
    stored = _stored(kube, path, body["metadata"]["name"], listed)
    if stored is None or controller_uid(stored) != controller_uid(body):
        raise ForeignObjectError(f"{path}/{body['metadata']['name']} belongs to another owner")
    return stored


def _stored(kube: Kube, path: str, name: str, listed: bool) -> Document | None:
    if not listed:
        return kube.request("GET", f"{path}/{name}")
    query = {"fieldSelector": f"metadata.name={name}"}
    items: list[Document] = kube.request("GET", path, query=query)["items"]
    return items[0] if items else None


CORE_API = "/api/v1"


def namespaced_path(
    api: str, namespace: str, plural: str, name: str = "", subresource: str = ""
) -> str:
    """`/api/v1/namespaces/NS/pods/NAME/log` and the like; `api` is CORE_API or
    `/apis/GROUP/VERSION`."""
    path = f"{api}/namespaces/{namespace}/{plural}"
    return "/".join(part for part in (path, name, subresource) if part)


def connect(connections: int = DEFAULT_CONNECTIONS) -> Kube:
    """Use the in-cluster service account when there is one, else the local kubeconfig;
    keep up to `connections` open (one per request that may be in flight at once: the
    client's default keeps five per core and closes the rest, so each request beyond
    them pays a new connection and TLS handshake, on both ends)."""
    # The config loaders carry no annotations; both fill the client's default Configuration.
    try:
        config.load_incluster_config()  # type: ignore[no-untyped-call]
    except config.ConfigException:
        # The client reads $KUBECONFIG when it is imported; read it now, as kubectl does.
        config.load_kube_config(config_file=os.environ.get("KUBECONFIG"))  # type: ignore[no-untyped-call]
    configuration = client.Configuration.get_default_copy()
    configuration.connection_pool_maxsize = connections
    return Kube(client.ApiClient(configuration))


def get_stored(kube: Kube, path: str) -> Document | None:
    """The object at `path` as stored now, or None when there is none (404)."""
    try:
        return kube.request("GET", path)
    except ApiException as error:
        if is_status(error, 404):
            return None
        raise


def is_status(error: BaseException, *codes: int) -> bool:
    """Whether `error` is an API answer with one of the HTTP status `codes`."""
    return isinstance(error, ApiException) and error.status in codes
