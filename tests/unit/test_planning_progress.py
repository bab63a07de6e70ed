"""Planning decisions: counts, best trial, finish reasons, launches, early stops, plan."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from kubetune.api import TrialPhase, TuningExperimentSpec, parse_experiment, parse_trial
from kubetune.planning.history import History
from kubetune.planning.plan import plan_next
from kubetune.planning.progress import (
    FIRST_STEP_LAUNCHES,
    GOAL_REACHED,
    LAUNCHES_PER_STEP,
    MAX_DURATION_REACHED,
    MAX_TRIALS_REACHED,
    SPACE_EXHAUSTED,
    TOO_MANY_FAILED,
    best_trial,
    count_trials,
    early_stops,
    finish_reason,
    launch_count,
)
from kubetune.planning.records import CurveStep, TrialRecord, record_of, trial_name

NO_TIME = timedelta(0)


def make_spec(**spec: Any) -> TuningExperimentSpec:
    doc = {
        "apiVersion": "kubetune.dev/v1alpha1",
        "kind": "TuningExperiment",
        "metadata": {"name": "exp"},
        "spec": {
            "objective": {"metric": "acc", "goal": "maximize"},
            "parameters": [{"name": "x", "type": "float", "min": 0, "max": 1}],
            "algorithm": {"name": "random", "seed": 3},
            "limits": {"maxTrials": 6, "parallelTrials": 2, "maxFailedTrials": 1},
            "trial": {"template": {"spec": {"containers": [{"name": "t", "image": "i"}]}}},
            **spec,
        },
    }
    return parse_experiment(doc).spec


def trial(index: int, phase: TrialPhase, value: float | None = None, **kw: Any) -> TrialRecord:
    return TrialRecord(trial_name("exp", index), index, {"x": index / 10}, phase, value, **kw)


def history(records: list[TrialRecord]) -> History:
    return History(tuple(records))


def test_counts_every_phase() -> None:
    records = [trial(0, "Pending"), trial(1, "Running"), trial(2, "Succeeded", 0.5)]
    records += [trial(3, "Failed"), trial(4, "EarlyStopped", 0.1)]
    counts = count_trials(history(records))
    assert (counts.created, counts.running, counts.succeeded) == (5, 2, 1)
    assert (counts.failed, counts.stopped) == (1, 1)
    assert counts.finished == 3, "succeeded, failed and early stopped have all ended"


def test_best_respects_the_goal_and_ignores_partial_runs() -> None:
    records = [trial(0, "Succeeded", 0.7), trial(1, "Succeeded", 0.9), trial(2, "Succeeded", 0.9)]
    records += [trial(3, "EarlyStopped", 0.99), trial(4, "Running", 0.95), trial(5, "Failed")]
    assert (
        best_trial(make_spec(), history(records)) == records[1]
    )  # the tie goes to the earlier one
    minimize = make_spec(objective={"metric": "acc", "goal": "minimize"})
    assert best_trial(minimize, history(records)) == records[0]
    assert best_trial(make_spec(), history([trial(0, "Succeeded", float("nan"))])) is None


def test_goal_reached_finishes() -> None:
    spec = make_spec(objective={"metric": "acc", "target": 0.9})
    assert finish_reason(spec, history([trial(0, "Succeeded", 0.8)]), NO_TIME) is None
    finish = finish_reason(
        spec, history([trial(0, "Succeeded", 0.95), trial(1, "Running")]), NO_TIME
    )
    assert finish is not None and finish.reason == GOAL_REACHED and finish.succeeded


def test_too_many_failures_fail_the_experiment() -> None:
    assert finish_reason(make_spec(), history([trial(0, "Failed")]), NO_TIME) is None
    finish = finish_reason(make_spec(), history([trial(0, "Failed"), trial(1, "Failed")]), NO_TIME)
    assert finish is not None and finish.reason == TOO_MANY_FAILED and finish.phase == "Failed"
    assert "maxFailedTrials" in finish.message


def test_max_duration_ends_the_search() -> None:
    spec = make_spec(limits={"maxTrials": 6, "maxDuration": "1m"})
    records = [trial(0, "Succeeded", 0.5), trial(1, "Running")]
    assert finish_reason(spec, history(records), timedelta(seconds=59)) is None
    finish = finish_reason(spec, history(records), timedelta(seconds=60))
    assert finish is not None and finish.reason == MAX_DURATION_REACHED and finish.succeeded


def test_max_trials_waits_for_the_last_running_trial() -> None:
    spec = make_spec(limits={"maxTrials": 2})
    assert (
        finish_reason(spec, history([trial(0, "Succeeded", 0.5), trial(1, "Running")]), NO_TIME)
        is None
    )
    done = finish_reason(
        spec, history([trial(0, "Succeeded", 0.5), trial(1, "EarlyStopped")]), NO_TIME
    )
    assert done is not None and done.reason == MAX_TRIALS_REACHED and done.succeeded
    failed = finish_reason(spec, history([trial(0, "Failed"), trial(1, "EarlyStopped")]), NO_TIME)
    assert failed is not None and not failed.succeeded and "no trial succeeded" in failed.message


def test_launches_fill_free_slots_within_the_budget() -> None:
    spec = make_spec()
    assert launch_count(spec, history([])) == FIRST_STEP_LAUNCHES == 1  # a first Job at once
    assert launch_count(make_spec(limits={"maxTrials": 20, "parallelTrials": 12}),
                        history([trial(0, "Running")])) == LAUNCHES_PER_STEP  # fmt: skip
    assert launch_count(spec, history([trial(0, "Running")])) == 1
    assert launch_count(spec, history([trial(i, "Succeeded", 0.1) for i in range(5)])) == 1
    assert launch_count(make_spec(suspend=True), history([])) == 0


def test_median_rule_stops_a_losing_running_trial() -> None:
    spec = make_spec(earlyStopping={"rule": "median", "minTrials": 2, "warmupSteps": 1})
    good = (CurveStep(1, 0.8), CurveStep(2, 0.9), CurveStep(3, 0.95))
    records = [
        trial(0, "Succeeded", 0.95, curve=good),
        trial(1, "Succeeded", 0.94, curve=good),
        trial(2, "Running", 0.3, curve=(CurveStep(1, 0.2), CurveStep(2, 0.3))),
        trial(3, "Running", 0.9, curve=(CurveStep(1, 0.85), CurveStep(2, 0.9))),
    ]
    stops = early_stops(spec, history(records))
    assert [stop.trial for stop in stops] == ["exp-0002"]
    assert stops[0].reason == "EarlyStopped" and "median" in stops[0].message
    assert early_stops(make_spec(), history(records)) == []  # no rule, no stops


def test_plan_names_trials_deterministically_and_avoids_pending_ones() -> None:
    spec = make_spec()
    first = plan_next("exp", spec, history([]), NO_TIME)
    assert [t.name for t in first.create] == ["exp-0000"] and first.full_step
    assert first == plan_next("exp", spec, history([]), NO_TIME)  # a restart replays the same plan
    running = [TrialRecord(t.name, t.index, t.params, "Running") for t in first.create]
    second = plan_next("exp", spec, history(running), NO_TIME)
    assert not second.full_step  # one slot was free, not a whole step
    assert [t.index for t in second.create] == [1]
    assert second.create[0].params != running[0].params


def test_plan_stops_active_trials_when_finishing() -> None:
    spec = make_spec(objective={"metric": "acc", "target": 0.9})
    plan = plan_next(
        "exp", spec, history([trial(0, "Succeeded", 0.92), trial(1, "Running")]), NO_TIME
    )
    assert plan.finish is not None and plan.finish.reason == GOAL_REACHED
    assert [stop.trial for stop in plan.stop] == ["exp-0001"] and plan.create == ()
    assert plan.best is not None and plan.best.name == "exp-0000"


def test_an_exhausted_grid_finishes_the_search() -> None:
    spec = make_spec(
        parameters=[{"name": "k", "type": "categorical", "values": ["a", "b"]}],
        algorithm={"name": "grid"},
    )
    records: list[TrialRecord] = []
    for _ in range(3):
        plan = plan_next("exp", spec, history(records), NO_TIME)
        records += [TrialRecord(t.name, t.index, t.params, "Succeeded", 0.5) for t in plan.create]
    assert len(records) == 2 and {r.params["k"] for r in records} == {"a", "b"}
    assert plan.finish is not None and plan.finish.reason == SPACE_EXHAUSTED


def test_records_come_from_stored_trials() -> None:
    stored = parse_trial(
        {
            "metadata": {"name": "exp-0003"},
            "spec": {"experiment": "exp", "index": 3, "parameters": {"x": 0.5}},
            "status": {
                "phase": "Running",
                "metrics": {"acc": 0.7, "loss": 1.0},
                "curve": [
                    {"step": 2, "values": {"acc": 0.6}},
                    {"step": 1, "values": {"acc": 0.5}, "at": "1970-01-01T00:00:01.500000Z"},
                    {"step": 3, "values": {"loss": 1.0}},
                    {"step": 2, "values": {"acc": 0.7}},
                ],
            },
        }
    )
    spec = make_spec()
    assert record_of(stored, spec.criteria) == TrialRecord(
        "exp-0003", 3, {"x": 0.5}, "Running", 0.7, (CurveStep(1, 0.5, 1.5), CurveStep(2, 0.7))
    )
