"""`eventually`: the one way tests wait for the cluster's controllers to catch up.

Controllers are asynchronous, so a test asserts on the state it expects to see within a
deadline; on timeout the message shows the last value observed, not just "False".
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(
    probe: Callable[[], T], description: str, timeout: float = 30.0, interval: float = 0.25
) -> T:
    """Calls `probe` until it returns something truthy, and returns that."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not {description} within {timeout:.0f}s; last saw {value!r}")
        time.sleep(interval)
