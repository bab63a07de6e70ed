"""The early-stopping benchmark's simulator must account time the way a cluster would,
or its speedups mean nothing: these tests pin the clock and the worker hand-over."""

from __future__ import annotations

import numpy as np
from benchmarks.stopping_simulation import Problem, simulate

from kubetune.search.stopping import AshaStopping


def linear_problem(finals: list[float], epochs: int) -> Problem:
    values = np.array([np.linspace(final + 10, final, epochs) for final in finals])
    return Problem("linear", values, np.ones_like(values))


def test_full_budget_run_takes_configs_over_workers_times_epochs() -> None:
    run = simulate(linear_problem([5.0] * 8, epochs=9), rule=None, workers=4)
    assert run.reports[-1][0] == 2 * 9  # two waves of four configurations
    assert run.stopped == set()


def test_stopped_trial_frees_its_worker_and_target_comes_sooner() -> None:
    # One worker; configurations 1-4 are worse than 0 from their first epoch on, so ASHA
    # stops each after one epoch; 5-8 keep improving on the best and run to the end.
    problem = linear_problem([5.0, 9.0, 8.0, 7.0, 6.0, 4.0, 3.0, 2.0, 1.0], epochs=9)
    full = simulate(problem, rule=None, workers=1)
    asha = simulate(problem, rule=AshaStopping(max_resource=9), workers=1)
    assert asha.stopped == {1, 2, 3, 4}
    assert full.time_to_reach(1.0) == 9 * 9
    assert asha.time_to_reach(1.0) == 9 + 4 * 1 + 4 * 9
