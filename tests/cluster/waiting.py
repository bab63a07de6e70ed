"""`eventually`: the one way tests wait for the cluster's controllers to catch up; and
`Ticker`, the one way a test acts beside them while it runs (playing a kubelet, sampling).

Controllers are asynchronous, so a test asserts on the state it expects to see within a
deadline; on timeout the message shows the last value observed, not just "False".
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from kubernetes.client.exceptions import ApiException

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


class Ticker(threading.Thread):
    """Calls `tick` every `period` seconds while a `with` block runs, in a daemon thread.
    What `tick` raises is reported when the block ends, never lost in the thread; an API
    answer 404 or 409 (an object deleted or changed under it) only skips that tick.
    `stop_on_error`: whether the first other error ends the ticking."""

    period, join_seconds, stop_on_error = 0.2, 10.0, True

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.errors: list[BaseException] = []
        self._halt = threading.Event()

    def __enter__(self) -> Any:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._halt.set()
        self.join(self.join_seconds)
        self.stopped()
        assert not self.errors, self.errors

    def run(self) -> None:
        while not self._halt.wait(self.period):
            try:
                self.tick()
            except ApiException as error:
                if error.status not in (404, 409):
                    self.errors.append(error)
            except Exception as error:
                self.errors.append(error)
                if self.stop_on_error:
                    return

    def tick(self) -> None:
        raise NotImplementedError

    def stopped(self) -> None:
        """After the ticking ended, before its errors are checked."""
