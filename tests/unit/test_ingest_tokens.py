"""Trial tokens and the ingest endpoint's checks: forged, foreign, huge and malformed
reports are refused with a 4xx, counted, and change nothing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client import REGISTRY

from kubetune.planning.ingest_rules import (
    MAX_BODY_BYTES,
    MAX_POINTS_PER_REQUEST,
    Rejection,
    ReportBatch,
    TrialRef,
    bearer_token,
    check_token,
    parse_report_request,
)
from kubetune.planning.tokens import new_experiment_key, trial_token, verify_trial_token
from kubetune.reconcile.http_serving import bound_port
from kubetune.reconcile.ingest import start_ingest
from kubetune.reporting.ingest_client import Backoff, IngestClient, TrialIdentity
from kubetune.reporting.sidecar import Reporter, ReporterSettings
from kubetune.reporting.tail import MetricsFileTail

KEY = new_experiment_key()
TRIAL = TrialRef("team-a", "digits", "digits-0001")


def token_of(trial: TrialRef, key: bytes = KEY) -> str:
    return trial_token(key, trial.namespace, trial.experiment, trial.trial)


def body(trial: TrialRef = TRIAL, reports: Any = None) -> dict[str, Any]:
    points = reports if reports is not None else [{"step": 1, "metrics": {"acc": 0.5}}]
    return {"namespace": trial.namespace, "experiment": trial.experiment, "trial": trial.trial,
            "reports": points}  # fmt: skip


def test_a_token_vouches_for_exactly_one_trial() -> None:
    token = token_of(TRIAL)
    assert verify_trial_token(KEY, "team-a", "digits", "digits-0001", token)
    assert len(token) == 64 and token == token_of(TRIAL)  # deterministic: restart-safe
    assert not verify_trial_token(KEY, "team-a", "digits", "digits-0002", token)
    assert not verify_trial_token(KEY, "team-b", "digits", "digits-0001", token)
    assert not verify_trial_token(new_experiment_key(), "team-a", "digits", "digits-0001", token)
    assert not verify_trial_token(KEY, "team-a", "digits", "digits-0001", "é" + token[1:])


def test_bearer_token_parsing() -> None:
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token("bearer  abc ") == "abc"
    assert bearer_token("Basic abc") is None
    assert bearer_token("Bearer ") is None
    assert bearer_token(None) is None


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{", "malformed"),
        (b"[]", "malformed"),
        (b"\xff\xfe", "malformed"),
        (json.dumps(body(TrialRef("Team_A", "digits", "t"))).encode(), "malformed"),
        (json.dumps(body(reports=[])).encode(), "malformed"),
        (json.dumps(body(reports=[{"step": -1, "metrics": {"a": 1}}])).encode(), "malformed"),
        (json.dumps(body(reports=[{"metrics": {"a": True}}])).encode(), "malformed"),
        (b'{"reports": [{"metrics": {"a": NaN}}]}', "malformed"),
        (json.dumps(body(reports=[{"metrics": {"a": 1}}] * 257)).encode(), "too_many_points"),
        (b" " * (MAX_BODY_BYTES + 1), "too_large"),
    ],
)
def test_malformed_and_oversized_bodies_are_refused(raw: bytes, reason: str) -> None:
    refused = parse_report_request(raw)
    assert isinstance(refused, Rejection) and refused.reason == reason
    assert 400 <= refused.status < 500


def test_a_reporter_batch_parses_back() -> None:
    points = [{"step": step, "metrics": {"acc": step / 10}} for step in range(3)]
    parsed = parse_report_request(json.dumps(body(reports=points)).encode())
    assert isinstance(parsed, ReportBatch) and parsed.trial == TRIAL
    assert [report.step for report in parsed.reports] == [0, 1, 2]
    assert MAX_POINTS_PER_REQUEST >= 256  # the reporter's largest batch fits


def test_token_checks() -> None:
    sibling = TrialRef("team-a", "digits", "digits-0002")
    assert check_token(KEY, TRIAL, token_of(TRIAL)) is None
    assert check_token(KEY, TRIAL, None) == Rejection(
        401, "missing_token", "Authorization: Bearer <trial token> required"
    )
    for key, token, reason in [
        (KEY, "0" * 64, "bad_token"),
        (KEY, token_of(sibling), "bad_token"),  # another trial's token
        (None, token_of(TRIAL), "unknown_experiment"),
    ]:
        refused = check_token(key, TRIAL, token)
        assert refused is not None and (refused.status, refused.reason) == (401, reason)


class MemoryKeys:
    def __init__(self) -> None:
        self.keys = {("team-a", "digits"): KEY}

    async def key_for(self, namespace: str, experiment: str, fresh: bool = False) -> bytes | None:
        return self.keys.get((namespace, experiment))


class MemorySink:
    def __init__(self) -> None:
        self.batches: list[ReportBatch] = []

    async def record(self, batch: ReportBatch) -> Rejection | None:
        self.batches.append(batch)
        return None


Post = Callable[[bytes, dict[str, str]], Awaitable[tuple[int, Any]]]


def with_endpoint(scenario: Callable[[Post, MemorySink], Awaitable[None]]) -> None:
    """Runs `scenario` against the real aiohttp endpoint on a free loopback port."""

    async def main() -> None:
        sink = MemorySink()
        runner = await start_ingest(0, MemoryKeys(), sink, host="127.0.0.1")
        url = f"http://127.0.0.1:{bound_port(runner)}/v1/reports"
        try:
            async with aiohttp.ClientSession() as session:

                async def post(data: bytes, headers: dict[str, str]) -> tuple[int, Any]:
                    async with session.post(url, data=data, headers=headers) as response:
                        return response.status, await response.json()

                await scenario(post, sink)
        finally:
            await runner.cleanup()

    asyncio.run(main())


def counted(result: str, reason: str) -> float:
    labels = {"result": result, "reason": reason}
    return REGISTRY.get_sample_value("kubetune_ingest_reports_total", labels) or 0.0


def auth(trial: TrialRef) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_of(trial)}"}


def test_the_endpoint_records_a_genuine_report() -> None:
    async def scenario(post: Post, sink: MemorySink) -> None:
        before = counted("accepted", "ok")
        status, answer = await post(json.dumps(body()).encode(), auth(TRIAL))
        assert (status, answer) == (200, {"accepted": 1})
        assert sink.batches[0].trial == TRIAL
        assert counted("accepted", "ok") == before + 1

    with_endpoint(scenario)


def test_the_endpoint_refuses_forgeries_and_records_nothing() -> None:
    sibling = TrialRef("team-a", "digits", "digits-0002")
    stranger = TrialRef("team-a", "unknown", "unknown-0001")
    forgeries = [
        (json.dumps(body()).encode(), {}, 401, "missing_token"),
        (json.dumps(body()).encode(), {"Authorization": "Bearer " + "0" * 64}, 401, "bad_token"),
        (json.dumps(body()).encode(), auth(sibling), 401, "bad_token"),
        (json.dumps(body(stranger)).encode(), auth(stranger), 401, "unknown_experiment"),
        (b"x" * (MAX_BODY_BYTES + 1), auth(TRIAL), 413, "too_large"),
        (b'{"reports": "no"}', auth(TRIAL), 400, "malformed"),
    ]

    async def scenario(post: Post, sink: MemorySink) -> None:
        for data, headers, expected_status, reason in forgeries:
            before = counted("rejected", reason)
            status, answer = await post(data, headers)
            assert status == expected_status, reason
            assert "error" in answer and reason not in answer["error"]  # no hints to a prober
            assert counted("rejected", reason) == before + 1
        assert sink.batches == []

    with_endpoint(scenario)


def test_the_reporter_sidecar_speaks_the_endpoints_language(tmp_path: Path) -> None:
    """The real reporter, with a genuine token, against the real endpoint: accepted."""
    metrics = tmp_path / "metrics.jsonl"
    metrics.write_text("".join(f'{{"step": {s}, "metrics": {{"acc": 0.{s}}}}}\n' for s in range(5)))

    async def scenario(url: str, sink: MemorySink) -> None:
        identity = TrialIdentity(TRIAL.namespace, TRIAL.experiment, TRIAL.trial, token_of(TRIAL))
        settings = ReporterSettings(str(metrics), url, 2, 0.1, flush_timeout_s=5.0)
        client = IngestClient(url, identity, Backoff(0.05, 0.2))
        reporter = Reporter(MetricsFileTail(str(metrics)), client, settings)
        running = asyncio.create_task(asyncio.to_thread(reporter.run))
        for _ in range(100):  # bounded: 5 s at most
            if sum(len(b.reports) for b in sink.batches) == 5:
                break
            await asyncio.sleep(0.05)
        reporter.stop.set()
        await running
        assert [r.step for b in sink.batches for r in b.reports] == [0, 1, 2, 3, 4]
        assert reporter.delivered == 5

    async def main() -> None:
        sink = MemorySink()
        runner = await start_ingest(0, MemoryKeys(), sink, host="127.0.0.1")
        try:
            await scenario(f"http://127.0.0.1:{bound_port(runner)}", sink)
        finally:
            await runner.cleanup()

    asyncio.run(main())
