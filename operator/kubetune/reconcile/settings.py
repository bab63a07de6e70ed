"""The operator's settings from its environment: each variable's name, default and meaning
live here, once. The Helm chart sets them (charts/kubetune/templates/deployment.yaml);
docs/operator.md lists them.

A value of the wrong kind stops the operator with a message naming the variable and
what it takes, instead of a traceback from deep inside a handler.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from kubetune.api.workload import BUILT_IN_KINDS
from kubetune.planning.settle import DEFAULT_FINISHED_JOB_TTL_SECONDS
from kubetune.planning.workload_support import DEFAULT_ALLOWED

T = TypeVar("T")


class SettingError(ValueError):
    """An environment variable the operator cannot use."""


@dataclass(frozen=True)
class Setting(Generic[T]):
    env: str
    default: T
    parse: Callable[[str], T]
    takes: str  # what the variable takes, in words, for the error message

    def read(self, environ: Mapping[str, str] = os.environ) -> T:
        text = environ.get(self.env)
        if text is None:
            return self.default
        try:
            return self.parse(text.strip())
        except ValueError:
            raise SettingError(f"{self.env}={text!r}: takes {self.takes}") from None


def _port(text: str) -> int:
    port = int(text)
    if not 0 <= port <= 65535:
        raise ValueError(text)
    return port


def _positive(text: str) -> int:
    count = int(text)
    if count < 1:
        raise ValueError(text)
    return count


def _seconds(text: str) -> float:
    seconds = float(text)
    if not seconds > 0:
        raise ValueError(text)
    return seconds


def _ttl(text: str) -> int | None:
    """Empty keeps finished Jobs for ever."""
    if not text:
        return None
    seconds = int(text)
    if seconds < 0:
        raise ValueError(text)
    return seconds


def _kinds(text: str) -> frozenset[str]:
    """Comma-separated kinds, each one with built-in rules."""
    kinds = frozenset(kind.strip() for kind in text.split(",") if kind.strip())
    if not kinds or not kinds <= BUILT_IN_KINDS.keys():
        raise ValueError(text)
    return kinds


INGEST_PORT = Setting("KUBETUNE_INGEST_PORT", 8443, _port, "a port number (0 picks a free one)")
INGEST_HOST = Setting("KUBETUNE_INGEST_HOST", "0.0.0.0", str, "a listening address")
# What trial sidecars call; without it trials report final metrics only.
INGEST_URL = Setting("KUBETUNE_INGEST_URL", "", str, "the ingest endpoint's URL")
REPORTER_IMAGE = Setting(
    "KUBETUNE_REPORTER_IMAGE", "kubetune/trial:0.1.0", str, "an image with kubetune-reporter"
)
METRICS_PORT = Setting("KUBETUNE_METRICS_PORT", 9090, _port, "a port number (0 picks a free one)")
METRICS_HOST = Setting("KUBETUNE_METRICS_HOST", "0.0.0.0", str, "a listening address")
PASS_THREADS = Setting("KUBETUNE_PASS_THREADS", 4, _positive, "a whole number of threads >= 1")
RESYNC_SECONDS = Setting("KUBETUNE_RESYNC_SECONDS", 10.0, _seconds, "seconds > 0")
FINISHED_JOB_TTL_SECONDS: Setting[int | None] = Setting(
    "KUBETUNE_FINISHED_JOB_TTL_SECONDS",
    DEFAULT_FINISHED_JOB_TTL_SECONDS,
    _ttl,
    "whole seconds >= 0, or empty to keep finished Jobs",
)
TRIAL_WORKLOADS = Setting(
    "KUBETUNE_TRIAL_WORKLOADS",
    DEFAULT_ALLOWED,
    _kinds,
    f"comma-separated kinds of trial workload, of {', '.join(sorted(BUILT_IN_KINDS))}",
)
# Every setting above, found rather than listed, so a new one cannot miss the docs test.
ALL: tuple[Setting[Any], ...] = tuple(v for v in list(globals().values()) if isinstance(v, Setting))
