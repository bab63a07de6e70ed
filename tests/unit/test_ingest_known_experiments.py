"""The ingest answers reports naming an unknown experiment without reading the API."""

from __future__ import annotations

import asyncio
import base64
import threading

import pytest

from kubetune.reconcile import metrics_sink
from kubetune.reconcile.ingest_service import WatchedExperiments, mark_watch_listed
from kubetune.reconcile.metrics_sink import KubeKeySource
from tests.unit.fake_kube import FakeKube
from tests.unit.pass_helpers import SECRETS


def _key_source(fake: FakeKube, index: dict[tuple[str, str], str]) -> KubeKeySource:
    watched = WatchedExperiments(index)
    mark_watch_listed({"kubetune_watched_experiments": watched})
    return KubeKeySource(fake, watched)


def test_unknown_experiments_cost_no_read() -> None:
    fake = FakeKube()
    keys = _key_source(fake, {("team", "exp"): "uid"})
    for number in range(500):
        assert asyncio.run(keys.key_for("team", f"probe-{number}")) is None
    assert fake.requests == []


def test_known_experiments_read_their_key() -> None:
    fake = FakeKube()
    secret = {
        "metadata": {"name": "exp-kubetune-key"},
        "data": {"key": base64.b64encode(b"k").decode()},
    }
    fake.objects[f"{SECRETS}/exp-kubetune-key"] = secret
    keys = _key_source(fake, {("team", "exp"): "uid"})
    assert asyncio.run(keys.key_for("team", "exp")) == b"k"


def test_before_the_watch_has_listed_everything_reads_as_before() -> None:
    fake = FakeKube()
    keys = KubeKeySource(fake, WatchedExperiments({}))
    assert asyncio.run(keys.key_for("team", "exp")) is None
    assert len(fake.requests) == 1
    mark_watch_listed({})  # no ingest running: nothing to mark
    assert "x" not in WatchedExperiments(None)


def test_key_reads_run_on_the_ingest_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Not on asyncio's default executor, where they would queue behind other work."""
    readers: list[str] = []

    def read(_kube: object, _namespace: str, _experiment: str) -> bytes:
        readers.append(threading.current_thread().name)
        return b"k"

    monkeypatch.setattr(metrics_sink, "read_experiment_key", read)
    keys = KubeKeySource(FakeKube(), threads=metrics_sink.ingest_threads())
    assert asyncio.run(keys.key_for("team", "exp")) == b"k"
    assert readers[0].startswith("ingest")
