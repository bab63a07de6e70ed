"""Requests sent side by side come back as if sent one by one: results in order, every
call made, the first error (in order) raised."""

from __future__ import annotations

import functools
import threading

import pytest

from kubetune.reconcile.side_by_side import REQUESTS_AT_ONCE, side_by_side


def test_results_come_back_in_the_order_given_while_the_calls_overlap() -> None:
    inside = threading.Barrier(REQUESTS_AT_ONCE, timeout=10)  # only overlapping calls pass

    def call(index: int) -> int:
        inside.wait()
        return index

    calls = [functools.partial(call, index) for index in range(2 * REQUESTS_AT_ONCE)]
    assert side_by_side(calls) == list(range(2 * REQUESTS_AT_ONCE))


def test_every_call_runs_and_the_first_error_in_order_is_raised() -> None:
    made: list[int] = []

    def call(index: int) -> int:
        made.append(index)
        if index in (1, 3):
            raise ValueError(f"call {index}")
        return index

    with pytest.raises(ValueError, match="call 1"):
        side_by_side([functools.partial(call, index) for index in range(5)])
    assert sorted(made) == [0, 1, 2, 3, 4]
