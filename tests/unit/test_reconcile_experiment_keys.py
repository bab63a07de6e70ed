"""The experiment key is read once per experiment uid, not once per Job (issue 13)."""

from __future__ import annotations

import asyncio

import pytest

from kubetune.k8s.owned import ListedObjects
from kubetune.reconcile import handlers
from kubetune.reconcile.reporter_jobs import ExperimentKeys, experiment_keys
from kubetune.reconcile.serialize import PassSerializer
from tests.unit.fake_kube import FakeKube
from tests.unit.pass_helpers import (
    SECRETS,
    create,
    experiment_body,
    finish_pods,
    reconcile,
    stored,
)


def _key_reads(fake: FakeKube) -> int:
    return sum(1 for method, path in fake.requests if path.startswith(SECRETS) and method == "GET")


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeKube:
    monkeypatch.setenv("KUBETUNE_INGEST_URL", "http://ingest:8443")
    return FakeKube()


def test_passes_launching_40_trials_read_the_key_once(fake: FakeKube) -> None:
    create(fake, experiment_body(max_trials=40, parallel=20))
    for _ in range(4):  # a few launches per pass
        reconcile(fake)
    assert len(fake.of_kind("jobs")) == 20
    finish_pods(fake)
    for _ in range(5):
        reconcile(fake)  # the next 20 Jobs
    assert len(fake.of_kind("jobs")) == 40
    assert _key_reads(fake) == 1


def test_keys_of_the_least_recently_used_experiments_are_dropped(fake: FakeKube) -> None:
    keys = ExperimentKeys(capacity=2)
    experiments = [{"namespace": "team", "name": name, "uid": f"u-{name}"} for name in "abc"]
    first = [keys.key_of(fake, metadata) for metadata in experiments]
    assert "u-a" not in keys and "u-c" in keys
    assert keys.key_of(fake, experiments[0]) == first[0]  # read again from its Secret
    assert _key_reads(fake) == 4


def test_a_deleted_experiments_key_is_forgotten(fake: FakeKube) -> None:
    create(fake, experiment_body(max_trials=1, parallel=1))
    reconcile(fake)
    uid = stored(fake)["metadata"]["uid"]
    assert uid in experiment_keys
    memo = {"kube": fake, "passes": PassSerializer(), handlers.OWNED_MEMO_KEY: ListedObjects(fake)}
    meta = {"uid": uid, "generation": 1}
    event = {"type": "DELETED", "object": stored(fake)}
    coroutine = handlers.experiment_event(
        type="DELETED", namespace="team", name="exp", meta=meta, event=event, memo=memo
    )
    asyncio.run(coroutine)
    assert uid not in experiment_keys
