"""Kubernetes Events on an experiment: what `kubectl describe` shows a user.

Events are best effort: failing to record one must never fail a reconcile, so errors are
logged and swallowed. Names are unique per call, as the API server expects.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

from kubernetes.client.exceptions import ApiException

from kubetune.k8s.rest import CORE_API, Document, Kube, namespaced_path

COMPONENT = "kubetune-operator"
MAX_MESSAGE_CHARS = 1024
logger = logging.getLogger(__name__)


def emit_event(
    kube: Kube, involved: Document, reason: str, message: str, warning: bool = False
) -> None:
    """Record an Event about `involved` (a stored object with apiVersion, kind, metadata)."""
    metadata = involved["metadata"]
    namespace = metadata["namespace"]
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{metadata['name']}.{uuid.uuid4().hex[:12]}", "namespace": namespace},
        "involvedObject": {
            "apiVersion": involved["apiVersion"], "kind": involved["kind"],
            "name": metadata["name"], "namespace": metadata["namespace"], "uid": metadata["uid"],
        },
        "reason": reason,
        "message": message[:MAX_MESSAGE_CHARS],
        "type": "Warning" if warning else "Normal",
        "source": {"component": COMPONENT},
        "firstTimestamp": now, "lastTimestamp": now, "count": 1,
    }  # fmt: skip
    try:
        path = namespaced_path(CORE_API, metadata["namespace"], "events")
        kube.request("POST", path, body=event)
    except ApiException as error:
        logger.warning("could not record event %s on %s: %s", reason, metadata["name"], error)
