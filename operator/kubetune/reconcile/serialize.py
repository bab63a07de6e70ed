"""One reconcile pass at a time per experiment, and no pass wasted.

Many events arrive per trial (the Job, its Pod, the trial itself, timers). Passes of one
experiment must not overlap, or two of them could both see a free slot and launch two
trials for it. And a burst of events should cost one pass, not one each: a caller whose
event arrived before a pass began has nothing to add once that pass is done, so it
returns without running another one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")


@dataclass
class _Slot:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    requested: int = 0  # requests seen so far
    covered: int = 0  # requests that the latest started pass already reflects


class PassSerializer:
    """Runs at most one pass per key at a time, coalescing requests that queue up."""

    def __init__(self) -> None:
        self._slots: dict[Hashable, _Slot] = {}

    async def run(self, key: Hashable, work: Callable[[], Awaitable[T]]) -> T | None:
        """What `work` returned; None when a pass that began later already covered this
        request."""
        slot = self._slots.setdefault(key, _Slot())
        slot.requested += 1
        ticket = slot.requested
        async with slot.lock:
            if slot.covered >= ticket:
                return None  # a pass that started after this request has already finished
            slot.covered = slot.requested
            return await work()

    def forget(self, key: Hashable) -> None:
        """Drop a deleted experiment's slot (a later request just makes a new one)."""
        slot = self._slots.get(key)
        if slot is not None and not slot.lock.locked():
            del self._slots[key]
