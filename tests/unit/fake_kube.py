"""An in-memory API server behind the operator's one seam, `Kube.request`.

The way kopf tests its handlers against a mocked API: the reconcile pass runs unchanged,
and this fake answers its requests the way kube-apiserver would for the few resources
the operator touches. Objects live in a dict keyed by path; GET, POST, PATCH (JSON merge
patch, the status subresource included) and DELETE answer 404 and 409 like the real
server, creates get a uid, a generation and a creationTimestamp, list GETs honour an
equality `labelSelector`, and `?dryRun=All` validates without storing. `collect_garbage`
plays the garbage collector: it deletes every object whose controller is gone.

Validation covers what the tests need of the Pod schema, with the real server's codes
and shapes: 400 for a body that does not decode into a Job, 422 with field causes for
invalid fields. `refuse` lets a test make the server refuse any create.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import uuid
from collections.abc import Callable
from typing import Any

from kubernetes.client.exceptions import ApiException

from kubetune.k8s.rest import Kube

Document = dict[str, Any]
Refuser = Callable[[str, Document, bool], ApiException | None]
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
RESOURCE_NAME = re.compile(
    r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
)
NAMED_PATH = re.compile(
    r"^(?P<collection>.*/namespaces/[^/]+/[^/]+)/(?P<name>[^/]+)(?P<sub>/status)?$"
)


def api_error(status: int, message: str, causes: list[Document] | None = None) -> ApiException:
    error = ApiException(status=status, reason=message)
    details = {"causes": causes} if causes else {}
    error.body = json.dumps(
        {
            "kind": "Status",
            "status": "Failure",
            "code": status,
            "message": message,
            "details": details,
        }
    )
    return error


class FakeKube(Kube):
    """A `Kube` whose requests never leave the process."""

    def __init__(self) -> None:
        super().__init__(api_client=None)  # type: ignore[arg-type]
        self.objects: dict[str, Document] = {}
        self.requests: list[tuple[str, str]] = []
        self.refusers: list[Refuser] = []
        self.logs: dict[str, str] = {}
        self._clock = 0
        # One request at a time, as the API server serializes writes of one object: a
        # pass sends some side by side (`reconcile.side_by_side`).
        self._lock = threading.RLock()

    def read_text(self, path: str, *, query: dict[str, str], timeout_s: float) -> str:
        """A container's log from `logs` (by pod name); 404 for a pod without one."""
        with self._lock:
            return self._read_log(path)

    def _read_log(self, path: str) -> str:
        self.requests.append(("GET", path))
        pod = path.split("/pods/")[1].split("/", maxsplit=1)[0]
        if pod not in self.logs:
            raise api_error(404, f"no log of {pod}")
        return self.logs[pod]

    def request(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, str] | None = None,
        body: Any = None,
        content_type: str = "application/json",
    ) -> Document:
        with self._lock:
            return self._answer(method, path, query, body)

    def _answer(self, method: str, path: str, query: dict[str, str] | None, body: Any) -> Document:
        self.requests.append((method, path))
        self._count(method, path)
        query = query or {}
        handler = {
            "GET": self._get,
            "POST": self._post,
            "PATCH": self._patch,
            "DELETE": self._delete,
        }[method]
        return copy.deepcopy(handler(path, query, copy.deepcopy(body)))

    # -- verbs ------------------------------------------------------------------------

    def _get(self, path: str, query: dict[str, str], _body: Any) -> Document:
        if path in self.objects:
            return self.objects[path]
        if NAMED_PATH.match(path):
            raise api_error(404, f"{path} not found")
        labels, fields = query.get("labelSelector"), query.get("fieldSelector")
        items = [obj for key, obj in self.objects.items() if key.rsplit("/", 1)[0] == path]
        return {"items": [obj for obj in items if _selected(obj, labels, fields)]}

    def _post(self, path: str, query: dict[str, str], body: Document) -> Document:
        dry_run = query.get("dryRun") == "All"
        refusal = self._refusal(path, body, dry_run)
        if refusal is not None:
            raise refusal
        key = f"{path}/{body['metadata']['name']}"
        if key in self.objects:
            raise api_error(409, f"{body['metadata']['name']} already exists")
        if dry_run:
            return body
        self._clock += 1
        created = f"2030-01-01T00:00:{self._clock % 60:02d}Z"
        body["metadata"] |= {"uid": str(uuid.uuid4()), "generation": 1}
        body["metadata"]["resourceVersion"] = str(self._clock)
        body["metadata"]["creationTimestamp"] = created
        self.objects[key] = body
        return body

    def _patch(self, path: str, _query: dict[str, str], body: Document) -> Document:
        match = NAMED_PATH.match(path)
        key = path.removesuffix("/status")
        if match is None or key not in self.objects:
            raise api_error(404, f"{path} not found")
        stored = self.objects[key]
        self._check_precondition(stored, body)
        self._clock += 1
        if match.group("sub"):
            stored["status"] = merge_patch(stored.get("status") or {}, body.get("status") or {})
            stored["metadata"]["resourceVersion"] = str(self._clock)
            return stored
        before = copy.deepcopy(stored.get("spec"))
        self.objects[key] = merge_patch(stored, {k: v for k, v in body.items() if k != "status"})
        if self.objects[key].get("spec") != before:
            self.objects[key]["metadata"]["generation"] += 1
        self.objects[key]["metadata"]["resourceVersion"] = str(self._clock)
        return self.objects[key]

    @staticmethod
    def _check_precondition(stored: Document, body: Document) -> None:
        """A patch naming a resourceVersion applies only to that version, as on the server."""
        wanted = (body.get("metadata") or {}).get("resourceVersion")
        if wanted is not None and wanted != stored["metadata"].get("resourceVersion"):
            raise api_error(409, "the object has been modified; please apply your changes")

    def _delete(self, path: str, _query: dict[str, str], _body: Any) -> Document:
        if path not in self.objects:
            raise api_error(404, f"{path} not found")
        return self.objects.pop(path)

    # -- helpers for tests ------------------------------------------------------------

    def _refusal(self, path: str, body: Document, dry_run: bool) -> ApiException | None:
        for refuse in [*self.refusers, validate_job]:
            refusal = refuse(path, body, dry_run)
            if refusal is not None:
                return refusal
        return None

    def collect_garbage(self) -> None:
        """Delete every object whose controller no longer exists, until none is left."""
        while True:
            uids = {obj["metadata"].get("uid") for obj in self.objects.values()}
            orphans = [
                key for key, obj in self.objects.items() if _owner_uid(obj) not in (None, *uids)
            ]
            if not orphans:
                return
            for key in orphans:
                del self.objects[key]

    def of_kind(self, plural: str) -> list[Document]:
        return [obj for key, obj in sorted(self.objects.items()) if f"/{plural}/" in key]

    def write_requests(self) -> list[tuple[str, str]]:
        return [(method, path) for method, path in self.requests if method != "GET"]


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: mappings merge, None removes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


def _selected(obj: Document, labels: str | None, fields: str | None) -> bool:
    """Equality selectors only: `key=value` on labels, `metadata.name=value` on fields."""
    if fields:
        return bool(obj["metadata"]["name"] == fields.removeprefix("metadata.name="))
    if not labels:
        return True
    key, _, value = labels.partition("=")
    return bool((obj["metadata"].get("labels") or {}).get(key) == value)


def _owner_uid(obj: Document) -> str | None:
    for reference in obj["metadata"].get("ownerReferences") or []:
        if reference.get("controller"):
            return str(reference["uid"])
    return None


def validate_job(path: str, body: Document, _dry_run: bool) -> ApiException | None:
    """The few Pod rules the tests exercise, answered as kube-apiserver answers them."""
    if not path.endswith("/jobs"):
        return None
    containers = body["spec"]["template"]["spec"]["containers"]
    for container in containers:
        for field, kind in (("env", list), ("resources", dict), ("command", list)):
            if field in container and not isinstance(container[field], kind):
                go_type = {"env": "[]v1.EnvVar", "command": "[]string"}.get(field, "v1.Resources")
                return api_error(400, _decoding_message(field, go_type))
    causes = [
        cause for i, container in enumerate(containers) for cause in _container_causes(i, container)
    ]
    if causes:
        return api_error(422, f'Job.batch "{body["metadata"]["name"]}" is invalid', causes)
    return None


def _decoding_message(field: str, go_type: str) -> str:
    return (
        'Job in version "v1" cannot be handled as a Job: json: cannot unmarshal into Go struct'
        f" field Container.spec.template.spec.containers.{field} of type {go_type}"
    )


def _container_causes(position: int, container: Document) -> list[Document]:
    where = f"spec.template.spec.containers[{position}]"
    causes = []
    if not container.get("image"):
        causes.append({"field": f"{where}.image", "message": "Required value"})
    if not DNS_LABEL.match(str(container.get("name", ""))):
        causes.append(
            {"field": f"{where}.name", "message": "Invalid value: a lowercase RFC 1123 label"}
        )
    for kind in ("limits", "requests"):
        for resource in (container.get("resources") or {}).get(kind) or {}:
            if not RESOURCE_NAME.match(resource):
                field = f"{where}.resources.{kind}[{resource}]"
                causes.append({"field": field, "message": "Invalid value: not a resource name"})
    return causes
