"""Polling helpers: wait for a condition while watching that no component has died.

A component that exits during startup fails the wait at once with its log tail, instead
of letting the caller time out later with no clue.
"""

from __future__ import annotations

import http.client
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path

from tests.cluster.processes import Component

POLL_SECONDS = 0.2


class ControlPlaneError(RuntimeError):
    """The control plane could not be started (the message carries the log tail)."""


def wait_until(
    condition: Callable[[], bool],
    description: str,
    timeout: float,
    watched: Iterable[Component] = (),
    blamed: Component | None = None,
) -> None:
    """Polls `condition`; fails fast if a watched component exits, else after `timeout`."""
    watched = list(watched)
    deadline = time.monotonic() + timeout
    while not condition():
        for component in watched:
            if component.exited():
                raise ControlPlaneError(component.describe_failure(f"exited while {description}"))
        if time.monotonic() > deadline:
            message = f"timed out after {timeout:.0f}s {description}"
            raise ControlPlaneError(blamed.describe_failure(message) if blamed else message)
        time.sleep(POLL_SECONDS)


def answers_ok(url: str, context: ssl.SSLContext | None = None) -> bool:
    """True when `url` answers 200; connection errors just mean 'not yet'."""
    try:
        with urllib.request.urlopen(url, context=context, timeout=2) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError, http.client.HTTPException):
        return False


def client_cert_context(ca_cert: Path, cert: Path, key: Path) -> ssl.SSLContext:
    """Verifies the API server against our CA and presents the admin client cert."""
    context = ssl.create_default_context(cafile=str(ca_cert))
    context.load_cert_chain(str(cert), str(key))
    return context


def self_signed_context() -> ssl.SSLContext:
    """For /healthz of kcm and scheduler, which serve self-signed certs (health is public)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context
