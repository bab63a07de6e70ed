"""The early-stopping benchmark's simulator must account time the way a cluster would,
or its speedups mean nothing: these tests pin the clock and the worker hand-over, and
that several objectives reach the rule and the hypervolume curve."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from benchmarks.mo_early_stopping import (
    AtRungs,
    hypervolume_over_time,
    time_to_reach,
    volume_at,
)
from benchmarks.stopping_simulation import TabulatedProblem, simulate

from kubetune.search.pareto import hypervolume
from kubetune.search.stopping import AshaStopping


def linear_problem(finals: list[float], epochs: int) -> TabulatedProblem:
    values = np.array([np.linspace(final + 10, final, epochs) for final in finals])
    return TabulatedProblem("linear", values, np.ones_like(values))


def test_full_budget_run_takes_configs_over_workers_times_epochs() -> None:
    run = simulate(linear_problem([5.0] * 8, epochs=9), None, workers=4, configs=8, budget=math.inf)
    assert run.reports[-1][0] == 2 * 9  # two waves of four configurations
    assert run.stopped == set()
    assert run.started == 8


def test_stopped_trial_frees_its_worker_and_target_comes_sooner() -> None:
    # One worker; configurations 1-4 are worse than 0 from their first epoch on, so ASHA
    # stops each after one epoch; 5-8 keep improving on the best and run to the end.
    problem = linear_problem([5.0, 9.0, 8.0, 7.0, 6.0, 4.0, 3.0, 2.0, 1.0], epochs=9)
    full = simulate(problem, None, workers=1, configs=9, budget=math.inf)
    asha = simulate(problem, AshaStopping(max_resource=9), workers=1, configs=9, budget=math.inf)
    assert asha.stopped == {1, 2, 3, 4}
    assert full.time_to_reach(1.0) == 9 * 9
    assert asha.time_to_reach(1.0) == 9 + 4 * 1 + 4 * 9


def test_no_step_ends_after_the_budget() -> None:
    run = simulate(linear_problem([5.0] * 8, epochs=9), None, workers=2, configs=8, budget=10.5)
    assert max(time for time, _ in run.reports) <= 10.5
    assert run.started == 4


def two_objective_problem() -> TabulatedProblem:
    """Configurations 0-2 are on the Pareto front: 1 is the least accurate and the
    fastest, 2 the most accurate and the slowest; 3 is worse than 0 in both objectives."""
    errors, seconds = [5.0, 9.0, 4.0, 6.0], [5.0, 1.0, 7.0, 6.0]
    values = np.array([[error] * 9 for error in errors])
    others = np.array([[[second]] * 9 for second in seconds])
    return TabulatedProblem("two", values, np.ones_like(values), others)


def test_several_objectives_reach_the_rule_so_the_front_survives() -> None:
    problem, rule = two_objective_problem(), AshaStopping(max_resource=9)
    judged = simulate(problem, rule, workers=1, configs=4, budget=math.inf)
    by_error = simulate(replace(problem, others=None), rule, workers=1, configs=4, budget=math.inf)
    assert judged.stopped == {3}
    assert by_error.stopped == {1, 3}
    assert judged.trained[:2] == [(0, 0), (0, 1)]
    assert len(judged.trained) == len(judged.reports) == 3 * 9 + 1


def test_hypervolume_curve_is_that_of_every_report_so_far() -> None:
    problem, reference = two_objective_problem(), np.array([10.0, 10.0])
    run = simulate(problem, None, workers=2, configs=4, budget=math.inf)
    curve = hypervolume_over_time(problem, run, reference)
    for time, _ in run.reports:
        reported = [
            problem.objectives(*key)
            for (at, _), key in zip(run.reports, run.trained, strict=True)
            if at <= time
        ]
        assert volume_at(curve, time) == pytest.approx(hypervolume(np.array(reported), reference))
    assert curve[-1][1] == pytest.approx(6 * 3 + 5 * 2 + 1 * 4)
    assert time_to_reach(curve, curve[-1][1]) == curve[-1][0] < run.reports[-1][0]


def test_asking_asha_only_at_rungs_stops_the_same_trials() -> None:
    chance = np.random.default_rng(7)
    values = np.minimum.accumulate(chance.uniform(0, 10, (40, 12)), axis=1)
    others = chance.uniform(1, 5, (40, 1, 1)) + chance.uniform(0, 0.1, (40, 12, 1))
    problem = TabulatedProblem("random", values, chance.uniform(0.5, 2, (40, 12)), others)
    rule = AshaStopping(min_resource=1, max_resource=12, reduction_factor=2)
    every_step = simulate(problem, rule, workers=3, configs=40, budget=math.inf)
    at_rungs = simulate(problem, AtRungs(rule), workers=3, configs=40, budget=math.inf)
    assert every_step.stopped and at_rungs.stopped == every_step.stopped
    assert at_rungs.reports == every_step.reports
