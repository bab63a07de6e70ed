"""Coalesced status writes: concurrent batches for one trial share one write, each is
answered only after it, failures are answered with a retryable 503, and two writes of
one trial never overlap. The store is replaced (the API server is not the logic here)."""

from __future__ import annotations

import asyncio
import threading
import time

from kubetune.planning.ingest_rules import Rejection, ReportBatch, TrialRef
from kubetune.reconcile.metrics_sink import UNAVAILABLE, TrialStatusWriter
from kubetune.reporting.protocol import MetricReport

TRIAL = TrialRef("ns", "exp", "exp-0001")


class CountingWriter(TrialStatusWriter):
    def __init__(self, fail: bool = False, write_seconds: float = 0.0) -> None:
        super().__init__(kube=None)  # type: ignore[arg-type]
        self.fail, self.write_seconds = fail, write_seconds
        self.writes: list[list[MetricReport]] = []
        self.active, self.most_active = 0, 0
        self.counter_lock = threading.Lock()

    def _write(self, ref: TrialRef, reports: list[MetricReport]) -> Rejection | None:
        with self.counter_lock:
            self.active += 1
            self.most_active = max(self.most_active, self.active)
        time.sleep(self.write_seconds)
        with self.counter_lock:
            self.active -= 1
        if self.fail:
            raise ConnectionError("API server unreachable")
        self.writes.append(list(reports))
        return None


def batch(step: int, trial: TrialRef = TRIAL) -> ReportBatch:
    return ReportBatch(trial, (MetricReport(step, {"acc": step / 100}),))


def test_concurrent_batches_share_one_write() -> None:
    writer = CountingWriter()

    async def main() -> list[Rejection | None]:
        return await asyncio.gather(*(writer.record(batch(step)) for step in range(20)))

    assert asyncio.run(main()) == [None] * 20
    assert len(writer.writes) == 1
    assert [report.step for report in writer.writes[0]] == list(range(20))


def test_a_failed_write_answers_every_batch_with_a_retryable_503() -> None:
    writer = CountingWriter(fail=True)

    async def main() -> list[Rejection | None]:
        return await asyncio.gather(writer.record(batch(1)), writer.record(batch(2)))

    assert asyncio.run(main()) == [UNAVAILABLE, UNAVAILABLE]
    assert UNAVAILABLE.status == 503


def test_writes_of_one_trial_never_overlap() -> None:
    writer = CountingWriter(write_seconds=0.8)  # longer than the coalescing window

    async def main() -> None:
        first = asyncio.ensure_future(writer.record(batch(1)))
        await asyncio.sleep(0.6)  # the first group is committing now
        await asyncio.gather(first, writer.record(batch(2)))

    asyncio.run(main())
    assert len(writer.writes) == 2 and writer.most_active == 1
    assert writer.locks == {}  # nothing kept once the trial is quiet


def test_different_trials_are_written_separately() -> None:
    writer = CountingWriter()
    other = TrialRef("ns", "exp", "exp-0002")

    async def main() -> None:
        await asyncio.gather(writer.record(batch(1)), writer.record(batch(1, other)))

    asyncio.run(main())
    assert len(writer.writes) == 2
