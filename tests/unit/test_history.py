"""An experiment's history folded once: the same decisions whether finished trials come
as records or as a summary folded forward pass by pass, and only what is new is read."""

from __future__ import annotations

import math
import random
from datetime import timedelta
from typing import Any

import pytest

from kubetune.api import Criteria, TrialPhase
from kubetune.planning.history import (
    Finished,
    FinishedSummaries,
    History,
    SettledLog,
    split_settled,
)
from kubetune.planning.plan import plan_next
from kubetune.planning.progress import best_trial, count_trials, finish_reason
from kubetune.planning.records import TrialRecord, trial_name
from tests.unit.test_planning_progress import make_spec

Document = dict[str, Any]
PHASES: tuple[TrialPhase, ...] = ("Succeeded", "Failed", "EarlyStopped", "Running", "Pending")


def random_records(seed: int, count: int) -> list[TrialRecord]:
    chance = random.Random(seed)
    records = []
    for index in range(count):
        phase = chance.choice(PHASES)
        value = chance.choice([None, float("nan"), round(chance.random(), 1)])
        records.append(TrialRecord(trial_name("exp", index), index, {"x": index / count},
                                   phase, value))  # fmt: skip
    return records


def folded(records: list[TrialRecord], criteria: Criteria) -> History:
    settled = [record for record in records if not record.active]
    active = tuple(record for record in records if record.active)
    return History(active, Finished().folded(criteria, settled))


@pytest.mark.parametrize("seed", range(20))
def test_a_folded_history_decides_as_the_records_do(seed: int) -> None:
    spec = make_spec(limits={"maxTrials": 40, "parallelTrials": 8, "maxFailedTrials": 30})
    records = random_records(seed, count=random.Random(seed).randint(0, 30))
    whole, summary = History(tuple(records)), folded(records, spec.criteria)
    assert count_trials(summary) == count_trials(whole)
    assert best_trial(spec, summary) == best_trial(spec, whole)
    assert summary.next_index == whole.next_index == len(records)
    seen = [summary.observations(spec.criteria), whole.observations(spec.criteria)]
    assert [[(o.params, repr(o.value)) for o in side] for side in seen] == 2 * [
        [(r.params, repr(-r.value if r.phase != "Failed" and r.value is not None else math.nan))
         for r in records if r.phase == "Failed" or (not r.active and r.value is not None)]
    ]  # fmt: skip
    assert finish_reason(spec, summary, timedelta(0)) == finish_reason(spec, whole, timedelta(0))
    assert plan_next("exp", spec, summary, timedelta(0)) == plan_next(
        "exp", spec, whole, timedelta(0)
    )


def _trial(index: int, phase: str, value: float, owner: str = "uid-exp") -> Document:
    owners = [{"controller": True, "uid": owner, "name": "exp"}]
    return {"metadata": {"name": trial_name("exp", index), "ownerReferences": owners},
            "spec": {"index": index}, "status": {"phase": phase, "value": value}}  # fmt: skip


def _record(document: Document) -> TrialRecord:
    index, status = document["spec"]["index"], document["status"]
    return TrialRecord(document["metadata"]["name"], index, {}, status["phase"], status["value"])


def test_summaries_fold_forward_only_what_the_log_gained() -> None:
    objective, read = make_spec().criteria, []
    summaries, log = FinishedSummaries(), SettledLog()

    def counting(document: Document) -> TrialRecord:
        read.append(document["metadata"]["name"])
        return _record(document)

    log.append(_trial(0, "Succeeded", 0.5))
    log.append(_trial(1, "Failed", 0.0))
    first = summaries.summary("uid-exp", objective, log.view(), counting)
    log.append(_trial(2, "Succeeded", 0.9))
    log.append(_trial(3, "Succeeded", 0.99, owner="uid-of-an-older-experiment"))
    second = summaries.summary("uid-exp", objective, log.view(), counting)
    assert read == ["exp-0000", "exp-0001", "exp-0002"]  # each once; not another's trial
    assert (first.succeeded, first.failed, second.succeeded, second.failed) == (1, 1, 2, 1)
    assert second.best is not None and second.best.name == "exp-0002"
    assert summaries.summary("uid-exp", objective, log.view(), counting) == second
    assert len(read) == 3, "nothing new, nothing read"


def test_a_new_log_or_another_objective_is_folded_from_the_start() -> None:
    spec, summaries = make_spec(), FinishedSummaries()
    unsettled, settled = split_settled([_trial(0, "Succeeded", 0.5), _trial(1, "Running", 0.1)])
    assert [t["metadata"]["name"] for t in unsettled] == ["exp-0001"]
    summary = summaries.summary("uid-exp", spec.criteria, settled, _record)
    rebuilt = SettledLog([_trial(0, "Succeeded", 0.5)]).view()
    assert summaries.summary("uid-exp", spec.criteria, rebuilt, _record) == summary
    minimized = make_spec(objective={"metric": "acc", "goal": "minimize"}).criteria
    assert summaries.summary("uid-exp", minimized, rebuilt, _record).succeeded == 1
