"""Finished trials are parsed once: a pass over a long history costs its active trials."""

from __future__ import annotations

from typing import Any

import pytest

from kubetune.api import Objective, parse_experiment
from kubetune.planning import records
from kubetune.planning.records import FinishedRecords
from tests.unit.test_planning_jobs import experiment_document, stored_trial

OBJECTIVE = Objective(metric="loss", goal="minimize")


def _trial(phase: str, version: str, loss: float = 0.5) -> dict[str, Any]:
    document = stored_trial(parse_experiment(experiment_document()), {"lr": 0.01, "opt": "sgd"})
    document["metadata"]["resourceVersion"] = version
    document["status"] = {"phase": phase, "metrics": {"loss": loss}}
    return document


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    original = records.parse_trial

    def counting(document: dict[str, Any]) -> Any:
        seen.append(document["metadata"]["resourceVersion"])
        return original(document)

    monkeypatch.setattr(records, "parse_trial", counting)
    return seen


def test_a_finished_trial_is_parsed_once(parses: list[str]) -> None:
    memo = FinishedRecords()
    first = memo.record(_trial("Succeeded", "7"), OBJECTIVE)
    again = memo.record(_trial("Succeeded", "7"), OBJECTIVE)
    assert again is first and first.value == 0.5 and parses == ["7"]


def test_an_active_trial_or_a_new_version_is_parsed_again(parses: list[str]) -> None:
    memo = FinishedRecords()
    memo.record(_trial("Running", "3"), OBJECTIVE)
    memo.record(_trial("Running", "3"), OBJECTIVE)
    edited = memo.record(_trial("Succeeded", "9", loss=0.1), OBJECTIVE)
    assert parses == ["3", "3", "9"] and edited.value == 0.1


def test_the_memo_is_bounded(parses: list[str]) -> None:
    memo = FinishedRecords(limit=2)
    for version in ("1", "2", "3", "1"):
        memo.record(_trial("Failed", version), OBJECTIVE)
    assert parses == ["1", "2", "3", "1"]  # "1" was the least recently used
