"""The TuningTrial model: bounded learning curves and objective helpers."""

from __future__ import annotations

import pytest

from kubetune.api import (
    MAX_CURVE_POINTS,
    CurvePoint,
    Objective,
    SpecError,
    TuningTrialStatus,
    append_curve_point,
    dump_resource,
    parse_trial,
)


def test_curve_stays_bounded_and_keeps_first_and_latest() -> None:
    curve: list[CurvePoint] = []
    for step in range(1, 1001):
        curve = append_curve_point(curve, step, {"loss": 1.0 / step})
    status = TuningTrialStatus(curve=curve)
    steps = [point.step for point in status.curve]
    assert len(steps) <= MAX_CURVE_POINTS
    assert steps[0] == 1 and steps[-1] == 1000
    assert steps == sorted(steps)


def test_a_repeated_step_merges_values() -> None:
    curve = append_curve_point([], 1, {"loss": 0.5})
    curve = append_curve_point(curve, 1, {"acc": 0.9})
    assert [(p.step, p.values) for p in curve] == [(1, {"loss": 0.5, "acc": 0.9})]


def test_trial_round_trip_in_camel_case() -> None:
    trial = parse_trial(
        {
            "metadata": {"name": "e-0001"},
            "spec": {"experiment": "e", "index": 1, "parameters": {"lr": 0.1, "opt": "sgd"}},
            "status": {
                "phase": "Running",
                "jobName": "e-0001",
                "startTime": "2024-01-01T00:00:00Z",
            },
        }
    )
    document = dump_resource(trial)
    assert document["status"]["jobName"] == "e-0001"
    assert document["spec"]["parameters"] == {"lr": 0.1, "opt": "sgd"}
    assert parse_trial(document) == trial


def test_trial_errors_name_the_field() -> None:
    with pytest.raises(SpecError, match=r"spec\.index: Input should be greater"):
        parse_trial({"spec": {"experiment": "e", "index": -1}})


@pytest.mark.parametrize(
    ("goal", "value", "minimized", "reached"),
    [("maximize", 0.95, -0.95, True), ("maximize", 0.8, -0.8, False), ("minimize", 0.8, 0.8, True)],
)
def test_objective_direction(goal: str, value: float, minimized: float, reached: bool) -> None:
    objective = Objective.model_validate({"metric": "m", "goal": goal, "target": 0.9})
    assert objective.to_minimized(value) == minimized
    assert objective.is_reached(value) is reached


def test_without_target_the_goal_is_never_reached() -> None:
    assert not Objective(metric="m").is_reached(1e9)
