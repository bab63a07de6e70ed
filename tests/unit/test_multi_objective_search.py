"""Several objectives and constraints: what the searches do with them, end to end.

Small problems with a known answer, run for a few trials at fixed seeds: the search must
land where only the objectives and constraints together point.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from kubetune.search.base import Observation
from kubetune.search.history import preference_order, standing
from kubetune.search.pareto import hypervolume
from kubetune.search.registry import make_suggester
from kubetune.search.space import Assignment, FloatParam, SearchSpace

SQUARE = SearchSpace((FloatParam("x", 0.0, 1.0), FloatParam("y", 0.0, 1.0)))
Outcome = tuple[tuple[float, ...], tuple[float, ...]]


def run(name: str, evaluate: Callable[[Assignment], Outcome], trials: int) -> list[Observation]:
    suggester, history = make_suggester(name), []
    for _ in range(trials):
        params = suggester.suggest(SQUARE, history, [], 1, seed=3).assignments[0]
        values, violations = evaluate(params)
        history.append(Observation(params, values[0], values[1:], violations))
    return history


def above_a_floor(params: Assignment) -> Outcome:
    """Minimize x, feasible only for x >= 0.6: the answer is the bound, not 0."""
    return (float(params["x"]) + 0.1 * float(params["y"]),), (0.6 - float(params["x"]),)


def small_disc(params: Assignment) -> Outcome:
    """Minimize x + y, feasible only in a disc of radius 0.12 around (0.8, 0.75)."""
    x, y = float(params["x"]), float(params["y"])
    return (x + y,), (float(np.hypot(x - 0.8, y - 0.75)) - 0.12,)


def trade_off(params: Assignment) -> Outcome:
    """Two objectives in conflict along x; y only hurts both: the front is y = 0."""
    x, y = float(params["x"]), float(params["y"])
    return (x + y, (1 - x) ** 2 + y), ()


def test_the_constrained_optimum_is_the_bound_not_the_infeasible_minimum() -> None:
    history = run("bayesian", above_a_floor, 16)
    feasible = [o.value for o in history if o.feasible]
    assert min(feasible) < 0.66
    late = [float(o.params["x"]) for o in history[-6:]]
    assert np.median(late) > 0.5  # an unconstrained search would head for x = 0


def test_with_nothing_feasible_yet_the_violation_is_driven_to_zero() -> None:
    found = run("bayesian", small_disc, 18)
    assert any(o.feasible for o in found)
    start = run("random", small_disc, 18)  # the disc covers under 5% of the square
    assert sum(o.feasible for o in found) > sum(o.feasible for o in start)


@pytest.mark.parametrize("name", ["bayesian", "tpe"])
def test_two_objectives_fill_the_front_better_than_random(name: str) -> None:
    def volume(history: list[Observation]) -> float:
        return hypervolume(np.array([o.values for o in history]), np.array([1.2, 1.2]))

    assert volume(run(name, trade_off, 16)) > volume(run("random", trade_off, 16))


def test_preference_puts_feasible_fronts_first_then_the_least_violated() -> None:
    objectives = np.array([[1.0, 1.0], [0.0, 0.0], [2.0, 0.5], [3.0, 3.0], [0.5, 2.0]])
    violations = np.array([[0.0], [2.0], [-1.0], [0.0], [0.5]])
    assert preference_order(objectives, violations).tolist() == [0, 2, 3, 4, 1]
    assert standing(objectives, violations).tolist() == [0, 4, 1, 2, 3]


def test_one_objective_without_constraints_is_ordered_by_value_ties_kept() -> None:
    values = np.array([[3.0], [1.0], [2.0], [1.0]])
    order = preference_order(values, np.zeros((4, 0)))
    assert order.tolist() == [1, 3, 2, 0]
