"""Reading a container's log through the API server (`pods/log`).

The operator reads the trainer's log to collect the metric lines a trainer printed, so a
trainer needs neither credentials nor the SDK to report. The API server proxies the read
to the node's kubelet, which serves the log the container runtime kept on the node.

Bounded on every axis, because the log is untrusted output of any size: the last
`tail_lines` lines, at most `limit_bytes` bytes of them, within `timeout_s`. A read that
fails for any reason (pod gone, node unreachable, no `pods/log` permission, a kubelet that
keeps no logs) yields None: the caller settles the trial with what it already has rather
than retrying forever behind a node that may never answer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from kubetune.k8s.rest import CORE_API, Kube, namespaced_path

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LogBounds:
    tail_lines: int
    limit_bytes: int
    timeout_s: float


@dataclass(frozen=True)
class ContainerLog:
    text: str
    # The byte limit cut the read short: the last line may be a fragment.
    truncated: bool


def read_container_log(
    kube: Kube, namespace: str, pod: str, container: str, bounds: LogBounds
) -> ContainerLog | None:
    """The container's log within `bounds`, or None when it cannot be read now."""
    path = namespaced_path(CORE_API, namespace, "pods", pod, "log")
    query = {"container": container, "tailLines": str(bounds.tail_lines),
             "limitBytes": str(bounds.limit_bytes)}  # fmt: skip
    try:
        text = kube.read_text(path, query=query, timeout_s=bounds.timeout_s)
    except Exception as error:  # any failure: the trial is settled without the log
        logger.warning("could not read the log of %s/%s [%s]: %s",
                       namespace, pod, container, _short(error))  # fmt: skip
        return None
    return ContainerLog(text, truncated=len(text.encode()) >= bounds.limit_bytes)


def _short(error: Exception) -> str:
    """The API's answer in one line (an ApiException's str spans headers and body)."""
    status = getattr(error, "status", None)
    reason = getattr(error, "reason", None) or type(error).__name__
    return f"{status} {reason}" if status else f"{reason}: {error}"[:300]
