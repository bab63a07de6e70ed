"""The early-stopping benchmark's simulator must account time the way a cluster would,
or its speedups mean nothing: these tests pin the clock and the worker hand-over."""

from __future__ import annotations

import math

import numpy as np
from benchmarks.stopping_simulation import TabulatedProblem, simulate

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
