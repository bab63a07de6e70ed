"""Independent requests of one pass, sent to the API server side by side.

A pass's time is round trips: on a busy control plane each takes tens of milliseconds,
and a pass that settled five trials used to make some twenty in a row (issue 13, profiled
during a wave of completions: reading each finished trainer's log, writing each trial's
status, expiring each settled Job). Requests that touch different objects, none reading
what another writes, go out together instead, a few at a time per pass: with the pass
threads (`KUBETUNE_PASS_THREADS`) that bounds what the operator asks of the API server at
once. Results, and the first error, come back in the order given, as if the requests had
been sent one by one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

REQUESTS_AT_ONCE = 4  # per pass
Result = TypeVar("Result")


def side_by_side(calls: Sequence[Callable[[], Result]]) -> list[Result]:
    """Every call's result, in order; every call has run when the first error is raised."""
    if len(calls) <= 1:
        return [call() for call in calls]
    with ThreadPoolExecutor(min(REQUESTS_AT_ONCE, len(calls))) as pool:
        futures = [pool.submit(call) for call in calls]
    return [future.result() for future in futures]
