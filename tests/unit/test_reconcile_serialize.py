"""Passes of one experiment never overlap, and queued requests share one pass."""

from __future__ import annotations

import asyncio

from kubetune.reconcile.serialize import PassSerializer


def test_requests_queued_behind_a_pass_share_the_next_one() -> None:
    async def scenario() -> tuple[int, int]:
        serializer = PassSerializer()
        running, most_at_once, passes = 0, 0, 0
        release = asyncio.Event()

        async def work() -> None:
            nonlocal running, most_at_once, passes
            running += 1
            passes += 1
            most_at_once = max(most_at_once, running)
            await release.wait()
            running -= 1

        first = asyncio.create_task(serializer.run("exp", work))
        await asyncio.sleep(0)
        queued = [asyncio.create_task(serializer.run("exp", work)) for _ in range(5)]
        await asyncio.sleep(0)
        release.set()
        await asyncio.gather(first, *queued)
        return passes, most_at_once

    passes, most_at_once = asyncio.run(scenario())
    assert (passes, most_at_once) == (2, 1)  # the first pass, then one for all five


def test_keys_do_not_block_each_other() -> None:
    async def scenario() -> list[str]:
        serializer = PassSerializer()
        order: list[str] = []
        gate = asyncio.Event()

        async def slow() -> None:
            await gate.wait()
            order.append("a")

        async def fast() -> None:
            order.append("b")
            gate.set()

        await asyncio.gather(serializer.run("a", slow), serializer.run("b", fast))
        return order

    assert asyncio.run(scenario()) == ["b", "a"]
