"""Several objectives and constraints: the API's rules, the trial records and what the
search and the stopping rules learn from them, the lifecycle's judgement, and the Pareto
front with its hypervolume in the status."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kubetune.api import (
    MAX_PARETO_TRIALS,
    Constraint,
    SpecError,
    TrialPhase,
    TuningExperimentSpec,
    TuningTrial,
    TuningTrialStatus,
    parse_experiment,
    parse_trial,
    rules,
    to_search_space,
)
from kubetune.api.crd import generated_files
from kubetune.planning.history import Finished, History, minimized_curve, observation_of
from kubetune.planning.jobs import trial_judging
from kubetune.planning.lifecycle import Outcome, TrialReason, conclude, record_reports
from kubetune.planning.progress import best_trial, pareto_status
from kubetune.planning.records import CurveStep, TrialRecord, record_of, trial_name
from kubetune.planning.suggest import minimized_reference, suggest_trials
from kubetune.reporting.protocol import MetricReport
from kubetune.search.registry import make_suggester
from tests.unit.test_planning_progress import make_spec

NOW = datetime(2026, 1, 1, tzinfo=UTC)
TWO = [{"metric": "acc", "goal": "maximize"}, {"metric": "latency", "goal": "minimize"}]
UNDER_TEN_GB = [{"metric": "memory", "max": 10.0}]


def make_mo_spec(**spec: Any) -> TuningExperimentSpec:
    """A spec with objectives acc (maximized) and latency (minimized), and `spec`."""
    return spec_of({"objectives": TWO, **spec})


def spec_of(extra: dict[str, Any]) -> TuningExperimentSpec:
    """make_spec's experiment without its objective, and `extra`."""
    base = make_spec().model_dump(mode="json", by_alias=True, exclude_none=True)
    base.pop("objective")
    document = {"apiVersion": "kubetune.dev/v1alpha1", "kind": "TuningExperiment",
                "metadata": {"name": "exp"}, "spec": {**base, **extra}}  # fmt: skip
    return parse_experiment(document).spec


# The API


def test_objectives_name_the_primary_first_and_the_others_as_additional_metrics() -> None:
    spec = make_mo_spec(constraints=UNDER_TEN_GB)
    assert (spec.objective.metric, spec.objective.goal) == ("acc", "maximize")
    assert spec.objective.additional_metrics == ["latency"]
    assert spec.criteria.metrics == ("acc", "latency") and spec.criteria.several
    assert spec.recorded_metrics == ["acc", "latency", "memory"]


def test_a_single_objective_keeps_working_unchanged() -> None:
    spec = make_spec(constraints=UNDER_TEN_GB)
    assert spec.objective.metric == "acc" and not spec.criteria.several
    assert "objectives" not in spec.model_dump(by_alias=True, exclude_none=True)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"objective": TWO[0], "objectives": TWO}, "spec.objective: exactly one of objective and"),
        ({}, "spec.objective: exactly one of objective and objectives must be set"),
        ({"objectives": TWO[:1]}, "spec.objectives: should have at least 2 items"),
        ({"objectives": [TWO[0], TWO[0]]}, "spec.objectives: objective metrics must be unique"),
        ({"objectives": TWO, "constraints": [{"metric": "m"}]}, "[0].min: must set min, max or"),
        ({"objectives": TWO, "constraints": [{"metric": "m", "min": 2.0, "max": 1.0}]},
         "spec.constraints[0].max: must not be less than min"),
        ({"objectives": TWO, "constraints": [{"metric": "a b", "max": 1.0}]},
         "spec.constraints[0].metric: must be a metric name"),
        ({"objectives": TWO, "referencePoint": [1.0]}, "spec.referencePoint: must hold one"),
    ],
)  # fmt: skip
def test_each_rule_names_its_field(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(SpecError) as caught:
        spec_of(spec)
    assert message in str(caught.value)


def test_a_reference_point_needs_objectives() -> None:
    with pytest.raises(SpecError, match=r"spec\.referencePoint: must hold one value per entry"):
        make_spec(referencePoint=[1.0])


def test_the_crd_carries_the_same_rules_as_cel() -> None:
    crd = generated_files()["tuningexperiments.yaml"]
    for rule in (
        "has(self.objective) != has(self.objectives)",
        "p.metric == o.metric",
        "has(self.min) || has(self.max)",
        "self.max >= self.min",
        "size(self.referencePoint) == size(self.objectives)",
    ):
        assert rule in crd
    for message in (
        rules.ONE_OBJECTIVE_FORM,
        rules.OBJECTIVE_METRICS_UNIQUE,
        rules.CONSTRAINT_NEEDS_BOUND,
        rules.MAX_NOT_BELOW_MIN,
        rules.REFERENCE_POINT_PER_OBJECTIVE,
    ):
        assert f'"{message}"' in crd


@pytest.mark.parametrize(
    ("bounds", "value", "violation"),
    [
        ({"max": 10.0}, 4.0, -6.0),
        ({"max": 10.0}, 12.5, 2.5),
        ({"min": 1.0}, 0.25, 0.75),
        ({"min": 1.0, "max": 3.0}, 2.5, -0.5),  # the nearer bound: 0.5 below max
        ({"min": 1.0, "max": 3.0}, 3.0, 0.0),  # on a bound holds
        ({"min": 1.0, "max": 3.0}, -1.0, 2.0),
        ({"max": 10.0}, None, math.inf),  # never reported: nothing shows it holds
    ],
)
def test_a_violation_is_the_distance_outside_the_bounds(
    bounds: dict[str, float], value: float | None, violation: float
) -> None:
    assert Constraint.model_validate({"metric": "m", **bounds}).violation(value) == violation


def test_a_trial_carries_every_objective_metric_for_the_ingest() -> None:
    spec = make_mo_spec().model_dump(mode="json", by_alias=True, exclude_none=True)
    assert trial_judging(spec) == {"objectiveMetric": "acc", "objectiveMetrics": ["acc", "latency"]}
    single = make_spec().model_dump(mode="json", by_alias=True, exclude_none=True)
    assert trial_judging(single) == {"objectiveMetric": "acc"}


# Records, observations and curves


def stored(
    metrics: dict[str, float], curve: list[dict[str, Any]], phase: str = "Succeeded"
) -> TuningTrial:
    return parse_trial({
        "apiVersion": "kubetune.dev/v1alpha1", "kind": "TuningTrial",
        "metadata": {"name": "exp-0002"}, "spec": {"experiment": "exp", "index": 2,
                                                   "parameters": {"x": 0.5}},
        "status": {"phase": phase, "metrics": metrics, "curve": curve},
    })  # fmt: skip


def test_a_record_carries_every_objective_and_each_constraints_violation() -> None:
    criteria = make_mo_spec(constraints=UNDER_TEN_GB).criteria
    curve = [{"step": 1, "values": {"acc": 0.5, "latency": 3.0}},
             {"step": 2, "values": {"acc": 0.6}},  # latency missing: no step for the rules
             {"step": 3, "values": {"acc": 0.7, "latency": 2.0, "memory": 12.0}}]  # fmt: skip
    record = record_of(stored({"acc": 0.7, "latency": 2.0, "memory": 12.0}, curve), criteria)
    assert (record.value, record.others, record.violations) == (0.7, (2.0,), (2.0,))
    assert not record.feasible
    assert record.curve == (CurveStep(1, 0.5, 0.0, (3.0,)), CurveStep(3, 0.7, 0.0, (2.0,)))
    seen = observation_of(criteria, record)
    assert seen is not None
    assert (seen.value, seen.others, seen.violations) == (-0.7, (2.0,), (2.0,))
    assert seen.values == (-0.7, 2.0) and not seen.feasible
    curve_of = minimized_curve(criteria, record)
    assert curve_of.values == (-0.5, -0.7) and curve_of.objectives == ((-0.5, 3.0), (-0.7, 2.0))


def test_a_single_objective_curve_carries_no_objectives() -> None:
    criteria = make_spec().criteria
    record = record_of(stored({"acc": 0.7}, [{"step": 1, "values": {"acc": 0.7}}]), criteria)
    assert (record.others, record.violations) == ((), ())
    assert minimized_curve(criteria, record).objectives == ()


def test_a_failed_trial_is_the_worst_in_every_objective() -> None:
    criteria = make_mo_spec(constraints=UNDER_TEN_GB).criteria
    record = record_of(stored({}, [], phase="Failed"), criteria)
    seen = observation_of(criteria, record)
    assert seen is not None and len(seen.values) == 2
    assert all(math.isnan(value) for value in seen.values)
    assert seen.violations == (math.inf,)


def test_an_infeasible_trial_is_kept_but_never_best() -> None:
    spec = make_mo_spec(constraints=UNDER_TEN_GB)
    records = [
        TrialRecord("exp-0000", 0, {}, "Succeeded", 0.99, others=(1.0,), violations=(5.0,)),
        TrialRecord("exp-0001", 1, {}, "Succeeded", 0.80, others=(2.0,), violations=(-1.0,)),
    ]
    best = best_trial(spec, History(tuple(records)))
    assert best is not None and best.name == "exp-0001"
    front = pareto_status(spec, History(tuple(records)))
    assert front is not None and [t.trial for t in front.trials] == ["exp-0001"]


def test_a_search_whose_every_trial_breaks_a_constraint_fails_saying_so() -> None:
    from kubetune.planning.progress import finish_reason

    spec = make_spec(constraints=UNDER_TEN_GB, limits={"maxTrials": 1, "parallelTrials": 1})
    infeasible = TrialRecord("exp-0000", 0, {}, "Succeeded", 0.9, violations=(3.0,))
    finish = finish_reason(spec, History((infeasible,)), timedelta(0))
    assert finish is not None and not finish.succeeded
    assert finish.message.endswith("no trial succeeded within spec.constraints")


# The lifecycle


RUNNING = TuningTrialStatus(phase="Running")
OBJECTIVES = ("acc", "latency")


def test_a_non_finite_further_objective_fails_the_trial() -> None:
    report = MetricReport(1, {"acc": 0.5, "latency": math.inf})
    failed = record_reports(RUNNING, [report], OBJECTIVES, NOW)
    assert isinstance(failed, TuningTrialStatus)
    assert (failed.phase, failed.reason) == ("Failed", TrialReason.OBJECTIVE_NOT_FINITE)
    assert "latency=inf" in (failed.message or "")


def test_finishing_without_a_further_objective_fails_naming_it() -> None:
    recorded = record_reports(RUNNING, [MetricReport(1, {"acc": 0.5})], OBJECTIVES, NOW)
    assert isinstance(recorded, TuningTrialStatus) and recorded.value == 0.5
    ended = conclude(recorded, Outcome("Succeeded"), OBJECTIVES, NOW)
    assert (ended.phase, ended.reason) == ("Failed", TrialReason.MISSING_OBJECTIVE)
    assert "'latency'" in (ended.message or "")


@pytest.mark.parametrize(("memory", "feasible"), [(9.0, True), (11.0, False), (None, False)])
def test_a_succeeded_trial_is_marked_by_its_constraints(
    memory: float | None, feasible: bool
) -> None:
    metrics = {"acc": 0.5, "latency": 1.0, **({"memory": memory} if memory else {})}
    constraints = [Constraint(metric="memory", max=10.0)]
    ended = conclude(RUNNING, Outcome("Succeeded", metrics=metrics), OBJECTIVES, NOW,
                     constraints=constraints)  # fmt: skip
    assert (ended.phase, ended.feasible) == ("Succeeded", feasible)
    assert (
        conclude(RUNNING, Outcome("Succeeded", metrics=metrics), OBJECTIVES, NOW).feasible is None
    )


# The Pareto front and its hypervolume


def succeeded(index: int, acc: float, latency: float, *violations: float) -> TrialRecord:
    return TrialRecord(trial_name("exp", index), index, {"x": index}, "Succeeded", acc,
                       others=(latency,), violations=tuple(violations))  # fmt: skip


def test_the_front_its_ranks_and_an_exact_hypervolume_from_a_given_reference() -> None:
    spec = make_mo_spec(referencePoint=[0.0, 10.0])
    records = [succeeded(0, 0.9, 8.0), succeeded(1, 0.5, 2.0), succeeded(2, 0.4, 4.0),
               succeeded(3, 0.7, 5.0), TrialRecord("exp-0004", 4, {}, "Running", 0.99)]  # fmt: skip
    front = pareto_status(spec, History(tuple(records)))
    assert front is not None
    assert [(t.trial, t.rank) for t in front.trials] == [
        ("exp-0000", 0),
        ("exp-0003", 0),
        ("exp-0001", 0),
        ("exp-0002", 1),
    ]
    assert front.size == 3 and front.reference_point == [0.0, 10.0]
    assert front.trials[0].values == {"acc": 0.9, "latency": 8.0}
    # Minimized (-acc, latency) from (0, 10): the union of three rectangles.
    assert front.hypervolume == pytest.approx(0.9 * 2 + 0.7 * 3 + 0.5 * 3)


def test_a_derived_reference_lies_a_tenth_of_the_spread_beyond_the_worst() -> None:
    front = pareto_status(make_mo_spec(), History((succeeded(0, 0.9, 8.0), succeeded(1, 0.5, 2.0))))
    assert front is not None
    assert front.reference_point == pytest.approx([0.46, 8.6])
    lone = pareto_status(make_mo_spec(), History((succeeded(0, 0.9, 8.0),)))
    assert lone is not None and lone.reference_point == pytest.approx([-0.1, 9.0])
    assert lone.hypervolume == pytest.approx(1.0)


def test_the_search_gets_the_spec_reference_point_minimized() -> None:
    assert minimized_reference(make_mo_spec(referencePoint=[0.5, 20.0])) == (-0.5, 20.0)
    assert minimized_reference(make_mo_spec()) is None


def test_the_planner_hands_the_reference_point_to_the_search() -> None:
    spec = make_mo_spec(referencePoint=[0.3, 0.6], algorithm={"name": "bayesian", "seed": 3})
    records = [TrialRecord(trial_name("exp", i), i, {"x": i / 11}, "Succeeded", i / 11,
                           others=(1 - (1 - i / 11) ** 2,)) for i in range(11)]  # fmt: skip
    history = History(tuple(records))
    planned = suggest_trials("exp", spec, history, 1).trials[0].params
    observed = history.observations(spec.criteria)

    def suggested(reference: tuple[float, ...] | None) -> object:
        suggester = make_suggester("bayesian", reference)
        return suggester.suggest(to_search_space(spec), observed, [], 1, 3).assignments[0]

    assert planned == suggested((-0.3, 0.6)) != suggested(None)


def test_no_front_for_a_single_objective_and_an_empty_one_before_any_success() -> None:
    assert pareto_status(make_spec(), History((succeeded(0, 0.9, 8.0),))) is None
    empty = pareto_status(make_mo_spec(), History((TrialRecord("exp-0000", 0, {}, "Failed"),)))
    assert empty is not None and (empty.size, empty.hypervolume, empty.trials) == (0, 0.0, [])


def random_mo_records(seed: int, count: int) -> list[TrialRecord]:
    chance = random.Random(seed)
    phases: tuple[TrialPhase, ...] = ("Succeeded", "Succeeded", "Failed", "EarlyStopped", "Running")
    return [
        TrialRecord(
            trial_name("exp", index),
            index,
            {"x": index},
            chance.choice(phases),
            round(chance.random(), 1),
            others=(round(chance.random(), 1),),
            violations=(chance.choice([-1.0, 0.0, 0.5]),),
        )
        for index in range(count)
    ]


@pytest.mark.parametrize("seed", range(12))
def test_a_folded_history_has_the_same_front_as_its_records(seed: int) -> None:
    """The pool that drops trials ranked out for good loses nothing the status shows."""
    spec = make_mo_spec(constraints=UNDER_TEN_GB)
    records = random_mo_records(seed, count=random.Random(seed).randint(0, 80))
    settled = [record for record in records if not record.active]
    split = len(settled) // 2
    finished = (
        Finished().folded(spec.criteria, settled[:split]).folded(spec.criteria, settled[split:])
    )
    summary = History(tuple(r for r in records if r.active), finished)
    assert pareto_status(spec, summary) == pareto_status(spec, History(tuple(records)))
    assert len(finished.contenders) <= sum(r.phase == "Succeeded" for r in records)


def test_the_status_lists_a_bounded_number_of_trials() -> None:
    records = tuple(succeeded(i, i / 100, i / 10) for i in range(MAX_PARETO_TRIALS + 15))
    front = pareto_status(make_mo_spec(), History(records))
    assert front is not None
    assert front.size == len(records) and len(front.trials) == MAX_PARETO_TRIALS
    assert all(t.rank == 0 for t in front.trials)


def test_the_planners_status_carries_the_front() -> None:
    from kubetune.planning.plan import plan_next
    from kubetune.planning.status import experiment_status

    spec = make_mo_spec(limits={"maxTrials": 2, "parallelTrials": 1})
    plan = plan_next("exp", spec, History((succeeded(0, 0.9, 8.0), succeeded(1, 0.5, 2.0))),
                     timedelta(0))  # fmt: skip
    status = experiment_status({}, plan, NOW, spec)
    assert status["phase"] == "Succeeded"
    assert status["pareto"]["size"] == 2 and status["pareto"]["hypervolume"] > 0
    assert status["best"]["trial"] == "exp-0000"
    alone = TrialRecord("exp-0000", 0, {}, "Succeeded", 0.9)
    one_trial = make_spec(limits={"maxTrials": 1, "parallelTrials": 1})
    single = plan_next("exp", one_trial, History((alone,)), timedelta(0))
    assert experiment_status({}, single, NOW, one_trial)["pareto"] is None
