"""The kopf handlers: which events run a pass, and what the index of experiments holds."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import kopf
import pytest

from kubetune.reconcile import handlers
from kubetune.reconcile.serialize import PassSerializer


@pytest.fixture
def passes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    ran: list[tuple[str, str]] = []

    def reconcile(_kube: Any, namespace: str, name: str, owned: Any) -> None:
        assert owned.watched == {namespace}  # the namespace's informers run
        assert threading.current_thread().name.startswith("pass")  # not the default executor
        ran.append((namespace, name))
        if name == "broken":
            raise RuntimeError("the API server is down")

    monkeypatch.setattr(handlers, "reconcile_experiment", reconcile)
    return ran


class _Watches:
    """Stands in for the informers: remembers which namespaces were asked for."""

    def __init__(self) -> None:
        self.watched: set[str] = set()

    def watch(self, namespace: str) -> None:
        self.watched.add(namespace)

    def saw(self, namespace: str, experiment: dict[str, Any], deleted: bool = False) -> None:
        self.seen = (namespace, experiment, deleted)

    def stop(self) -> None:
        self.watched.clear()


def _memo(threads: int = 2) -> dict[str, Any]:
    """What the startup hooks put in kopf's memo, without a cluster."""
    pool = ThreadPoolExecutor(threads, thread_name_prefix="pass")
    return {
        "kube": None, "passes": PassSerializer(), handlers.PASS_THREADS_MEMO_KEY: pool,
        handlers.OWNED_MEMO_KEY: _Watches(),
    }  # fmt: skip


def _event(memo: dict[str, Any], kind: str | None, name: str = "exp", **meta: Any) -> None:
    meta = {"uid": "u1", "generation": 1, **meta}
    event = {"type": kind, "object": {"metadata": {"name": name, **meta}}}
    coroutine = handlers.experiment_event(
        type=kind, namespace="team", name=name, meta=meta, event=event, memo=memo
    )
    asyncio.run(coroutine)


def test_only_a_new_generation_runs_a_pass(passes: list[tuple[str, str]]) -> None:
    memo = _memo()
    _event(memo, None)  # listed at start-up
    _event(memo, "MODIFIED")  # the pass's own status write: same generation
    _event(memo, "MODIFIED", generation=2)  # a spec edit
    _event(memo, "DELETED")
    _event(memo, "ADDED", uid="u2")  # re-created under the same name
    assert passes == [("team", "exp")] * 3


def test_a_failing_pass_is_logged_not_raised(passes: list[tuple[str, str]]) -> None:
    memo = _memo()
    _event(memo, "ADDED", name="broken")
    assert passes == [("team", "broken")]


def test_passes_of_many_experiments_share_the_bounded_pool(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    running, most = 0, 0
    guard = threading.Lock()

    def reconcile(_kube: Any, _namespace: str, _name: str, _owned: Any) -> None:
        nonlocal running, most
        with guard:
            running += 1
            most = max(most, running)
        threading.Event().wait(0.02)  # a pass's round trips
        with guard:
            running -= 1

    monkeypatch.setattr(handlers, "reconcile_experiment", reconcile)
    memo = _memo(threads=2)

    async def burst() -> None:
        events = [handlers._quietly(memo, "team", f"e{n}") for n in range(8)]
        await asyncio.gather(*events)

    asyncio.run(burst())
    assert most == 2
    handlers.release_pass_threads(memo=memo)


def test_the_index_maps_each_experiment_to_its_uid() -> None:
    assert handlers.known_experiments(namespace="team", name="exp", uid="u1") == {
        ("team", "exp"): "u1"
    }


def test_no_handler_makes_kopf_store_the_spec_in_an_annotation() -> None:
    """Change-detecting handlers (create, update, resume, delete) make kopf keep the last
    handled spec in an annotation, which breaks over 256 KB (docs/operator.md)."""
    registry = kopf.get_default_registry()
    assert list(registry._changing.get_all_handlers()) == []


def _pod(phase: str, waiting: str | None = None) -> dict[str, Any]:
    state = {"waiting": {"reason": waiting}} if waiting else {"running": {}}
    return {"metadata": {}, "status": {"phase": phase, "containerStatuses": [{"state": state}]}}


@pytest.mark.parametrize(
    ("kind", "event", "document", "wakes"),
    [
        ("tuningtrials", "MODIFIED", {}, True),  # a report recorded: early stopping may act
        ("jobs", "DELETED", {"spec": {}}, True),  # a vanished Job fails its trial
        ("jobs", "DELETED", {"spec": {"ttlSecondsAfterFinished": 300}}, False),  # expired
        ("pods", "MODIFIED", _pod("Running"), False),  # the Job says as much, later
        ("pods", "MODIFIED", _pod("Succeeded"), True),  # before the Job controller does
        ("pods", "MODIFIED", _pod("Pending", "ImagePullBackOff"), True),
        ("pods", "DELETED", _pod("Succeeded"), False),
    ],
)
def test_which_changes_wake_a_pass(
    kind: str, event: str, document: dict[str, Any], wakes: bool
) -> None:
    assert handlers._wakes_pass(kind, event, document) is wakes


def test_a_pass_that_launched_a_full_step_runs_the_next_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    answers = [True, True, False]  # launched 5, launched 5, then the slots were full
    ran: list[str] = []

    def reconcile(_kube: Any, _namespace: str, name: str, _owned: Any) -> bool:
        ran.append(name)
        return answers.pop(0)

    monkeypatch.setattr(handlers, "reconcile_experiment", reconcile)
    memo = _memo()
    _event(memo, "ADDED")
    assert ran == ["exp"] * 3
