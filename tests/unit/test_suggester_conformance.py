"""The contract every registered search algorithm must keep, checked for each one.

The operator relies on these properties for any algorithm a user names: valid typed
values, replayable output, exactly `n` suggestions, no duplicates of finished or pending
trials, and an exhausted flag once a finite space is used up.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from kubetune.search.base import Observation
from kubetune.search.registry import ALGORITHMS, make_suggester
from kubetune.search.space import (
    Assignment,
    CategoricalParam,
    DiscreteParam,
    FloatParam,
    IntParam,
    SearchSpace,
)

MIXED = SearchSpace(
    (
        FloatParam("lr", 1e-5, 1e-1, log=True),
        FloatParam("dropout", 0.0, 0.5),
        IntParam("layers", 1, 8),
        IntParam("width", 16, 512, log=True),
        IntParam("epochs", 10, 50, step=10),
        CategoricalParam("optimizer", ("adam", "sgd", "rmsprop")),
        DiscreteParam("batch", (32.0, 16.0, 128.0, 64.0)),
    )
)
SMALL_FINITE = SearchSpace(
    (CategoricalParam("kind", ("a", "b", "c")), IntParam("depth", 0, 2)),
)
CONTINUOUS = SearchSpace((FloatParam("x", -1.0, 1.0), FloatParam("y", 0.1, 10.0, log=True)))

every_algorithm = pytest.mark.parametrize("name", sorted(ALGORITHMS))


def objective(params: Assignment) -> float:
    return sum(hash(str(v)) % 97 / 97 for v in params.values())


def grown_history(space: SearchSpace, trials: int) -> list[Observation]:
    """Random trials, enough for every algorithm to leave its space-filling start."""
    sampled = make_suggester("random").suggest(space, [], [], trials, seed=3).assignments
    return [Observation(params, objective(params)) for params in sampled]


def several_objectives(history: list[Observation], constraints: int) -> list[Observation]:
    """The same trials with two more objectives and `constraints` constraints, about a
    third of them violated (the last trial violates every one)."""
    rows = []
    for index, o in enumerate(history):
        others = (math.sin(3 * o.value), (o.value - 0.5) ** 2)
        violations = tuple((index * (c + 1)) % 3 - 1.5 for c in range(constraints))
        last = index == len(history) - 1
        rows.append(
            Observation(o.params, o.value, others, tuple(abs(v) if last else v for v in violations))
        )
    return rows


HISTORIES = {
    "two-objectives": lambda h: [Observation(o.params, o.value, (-(o.value**2),)) for o in h],
    "three-objectives-constrained": lambda h: several_objectives(h, 2),
    "constrained": lambda h: [
        Observation(o.params, o.value, (), ((i % 3) - 1.0,)) for i, o in enumerate(h)
    ],
    "nothing-feasible": lambda h: [
        Observation(o.params, o.value, (), (1.0 + i,)) for i, o in enumerate(h)
    ],
}
every_history = pytest.mark.parametrize("kind", sorted(HISTORIES))


def assert_valid(params: Assignment) -> None:
    assert set(params) == set(MIXED.names)
    assert isinstance(params["lr"], float) and 1e-5 <= params["lr"] <= 1e-1
    assert isinstance(params["dropout"], float) and 0.0 <= params["dropout"] <= 0.5
    assert type(params["layers"]) is int and 1 <= params["layers"] <= 8
    assert type(params["width"]) is int and 16 <= params["width"] <= 512
    assert type(params["epochs"]) is int and params["epochs"] in (10, 20, 30, 40, 50)
    assert params["optimizer"] in ("adam", "sgd", "rmsprop")
    assert params["batch"] in (16.0, 32.0, 64.0, 128.0)


@every_algorithm
def test_values_have_the_declared_types_and_bounds(name: str) -> None:
    suggester = make_suggester(name)
    history = grown_history(MIXED, 25)
    for params in [o.params for o in history] + suggester.suggest(
        MIXED, history, [], 6, 1
    ).assignments:
        assert_valid(params)


@every_algorithm
def test_same_inputs_give_the_same_suggestions(name: str) -> None:
    suggester = make_suggester(name)
    history = grown_history(MIXED, 25)
    first = suggester.suggest(MIXED, history, [], 3, seed=11)
    assert first == suggester.suggest(MIXED, history, [], 3, seed=11)
    assert first.assignments != suggester.suggest(MIXED, history, [], 3, seed=12).assignments


@every_algorithm
def test_successive_calls_differ(name: str) -> None:
    suggester = make_suggester(name)
    history = grown_history(CONTINUOUS, 21)
    first = suggester.suggest(CONTINUOUS, history, [], 1, seed=5).assignments[0]
    longer = [*history, Observation(first, 0.5)]
    assert suggester.suggest(CONTINUOUS, longer, [], 1, seed=5).assignments[0] != first


@every_algorithm
@pytest.mark.parametrize("n", [1, 3, 8])
def test_exactly_n_distinct_suggestions_from_empty_history(name: str, n: int) -> None:
    suggestion = make_suggester(name).suggest(CONTINUOUS, [], [], n, seed=0)
    assert len(suggestion.assignments) == n and not suggestion.exhausted
    assert len({tuple(a.values()) for a in suggestion.assignments}) == n


@every_algorithm
def test_finished_and_pending_trials_are_never_repeated(name: str) -> None:
    finished = [Observation({"kind": k, "depth": 0}, float(i)) for i, k in enumerate("abc")]
    pending: list[Assignment] = [{"kind": k, "depth": 1} for k in "abc"]
    suggestion = make_suggester(name).suggest(SMALL_FINITE, finished, pending, 3, seed=2)
    seen = {(o.params["kind"], o.params["depth"]) for o in finished}
    seen |= {(p["kind"], p["depth"]) for p in pending}
    fresh = {(a["kind"], a["depth"]) for a in suggestion.assignments}
    assert len(fresh) == 3 and not fresh & seen
    assert not suggestion.exhausted


@every_algorithm
def test_a_used_up_finite_space_is_reported_exhausted(name: str) -> None:
    finished = [Observation({"kind": k, "depth": 0}, float(i)) for i, k in enumerate("abc")]
    pending: list[Assignment] = [{"kind": "a", "depth": 1}]
    suggestion = make_suggester(name).suggest(SMALL_FINITE, finished, pending, 9, seed=2)
    assert len(suggestion.assignments) == 5 and suggestion.exhausted
    everything = suggestion.assignments + pending + [o.params for o in finished]
    assert len({(a["kind"], a["depth"]) for a in everything}) == 9


@every_algorithm
def test_failed_trials_with_non_finite_values_are_tolerated(name: str) -> None:
    suggester = make_suggester(name)
    history = grown_history(CONTINUOUS, 25)
    broken = [Observation(o.params, math.nan if i % 3 else math.inf) for i, o in enumerate(history)]
    assert len(suggester.suggest(CONTINUOUS, broken[:12] + history[12:], [], 2, 0).assignments) == 2


@every_algorithm
@every_history
def test_several_objectives_and_constraints_keep_the_contract(name: str, kind: str) -> None:
    suggester = make_suggester(name)
    history = HISTORIES[kind](grown_history(MIXED, 25))
    pending = make_suggester("random").suggest(MIXED, history, [], 2, seed=9).assignments
    suggestion = suggester.suggest(MIXED, history, pending, 3, seed=11)
    assert suggestion == suggester.suggest(MIXED, history, pending, 3, seed=11)
    assert len(suggestion.assignments) == 3 and not suggestion.exhausted
    for params in suggestion.assignments:
        assert_valid(params)
    taken = [o.params for o in history] + pending
    keys = {tuple(a.values()) for a in suggestion.assignments}
    assert len(keys) == 3 and not keys & {tuple(a.values()) for a in taken}


@every_algorithm
def test_failed_objectives_and_unmeasured_constraints_are_tolerated(name: str) -> None:
    history = grown_history(CONTINUOUS, 25)
    broken = [
        Observation(o.params, o.value, (math.nan,) if i % 4 else (), (math.inf,) if i % 5 else ())
        for i, o in enumerate(history)
    ]
    assert len(make_suggester(name).suggest(CONTINUOUS, broken, [], 2, 0).assignments) == 2


def test_grid_visits_every_point_once_then_reports_exhausted() -> None:
    space = SearchSpace((FloatParam("x", 1.0, 100.0, log=True), CategoricalParam("c", ("p", "q"))))
    grid, history = make_suggester("grid", resolution=3), []
    for _ in range(4):
        suggestion = grid.suggest(space, history, [], 2, seed=4)
        history += [Observation(a, 0.0) for a in suggestion.assignments]
    assert suggestion.exhausted and len(history) == 6
    points = {(round(float(o.params["x"]), 9), o.params["c"]) for o in history}
    assert points == {(x, c) for x in (1.0, 10.0, 100.0) for c in "pq"}


def test_unknown_names_and_settings_are_rejected_by_name() -> None:
    with pytest.raises(ValueError, match="'annealing'"):
        make_suggester("annealing")
    with pytest.raises(ValueError, match="'gama'"):
        make_suggester("tpe", gama=0.2)
    with pytest.raises(ValueError, match="gamma"):
        make_suggester("tpe", gamma=1.5)


def test_settings_reach_the_suggester() -> None:
    assert make_suggester("evolution", population_size=8, tournament_size=2) == (
        ALGORITHMS["evolution"](population_size=8, tournament_size=2)
    )
    assert np.isclose(make_suggester("tpe", gamma=0.1).gamma, 0.1)  # type: ignore[attr-defined]
