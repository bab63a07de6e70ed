"""Unit tests of ASHA with several objectives (MO-ASHA): rungs judged by non-dominated
rank and crowding distance, in arrival order, with one-objective decisions unchanged."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from kubetune.search.stopping import AshaStopping, Curve, HyperbandStopping, MedianStopping
from kubetune.search.stopping.asha import promotions, rungs
from kubetune.search.stopping.curve import rung_entry, rung_objectives
from kubetune.search.stopping.fronts import crowding_distances

Vector = tuple[float, ...]


def judged(index: int, vectors: list[Vector], arrivals: list[float] | None = None) -> Curve:
    """A curve reporting `vectors` at steps 1, 2, ...; arrivals default to the index."""
    steps = tuple(range(1, len(vectors) + 1))
    arrived = tuple(arrivals) if arrivals is not None else (float(index),) * len(steps)
    values = tuple(vector[0] for vector in vectors)
    return Curve(f"t{index}", index, steps, values, arrived, tuple(vectors))


def at_rung_one(vectors: list[Vector]) -> list[Curve]:
    return [judged(index, [vector]) for index, vector in enumerate(vectors)]


FRONT_AND_CLUTTER = [(0.0, 3.0), (1.0, 2.0), (2.0, 1.0), (3.0, 0.0)] + [(5.0, 5.0)] * 4


def test_a_dominated_trial_is_stopped_though_none_is_better_in_its_first_objective() -> None:
    rule = AshaStopping(min_resource=1, reduction_factor=3)
    first = judged(0, [(0.0, 1.0)])
    assert rule.should_stop(judged(1, [(0.0, 5.0)]), [first])
    by_value = [Curve("t0", 0, (1,), (0.0,), (0.0,))]  # one objective: a tie, which continues
    assert not rule.should_stop(Curve("t1", 1, (1,), (0.0,), (1.0,)), by_value)


def test_a_trial_on_a_worse_front_is_stopped_when_better_fronts_fill_the_top_third() -> None:
    rule = AshaStopping(min_resource=1, reduction_factor=3)
    behind_one = judged(8, [(2.5, 1.5)])  # only (2, 1) dominates it; front 0 holds four
    assert rule.should_stop(behind_one, at_rung_one(FRONT_AND_CLUTTER))


def test_a_trial_on_the_front_continues_though_it_is_worst_in_one_objective() -> None:
    rule = AshaStopping(min_resource=1, reduction_factor=3)
    fastest_but_worst = judged(8, [(9.0, -1.0)])
    assert not rule.should_stop(fastest_but_worst, at_rung_one(FRONT_AND_CLUTTER))
    alone = Curve("t8", 8, (1,), (9.0,), (8.0,))  # judged by its first objective only
    assert rule.should_stop(alone, at_rung_one([(v[0],) for v in FRONT_AND_CLUTTER]))


def test_a_crowded_front_keeps_its_ends_and_cuts_its_middle() -> None:
    rule = AshaStopping(min_resource=1, reduction_factor=3)
    front = [(float(i), 8.0 - i) for i in range(8)]
    assert not rule.should_stop(judged(8, [(8.0, -0.5)]), at_rung_one(front))  # a new end
    assert rule.should_stop(judged(8, [(3.5, 4.5)]), at_rung_one(front))  # in the thick


def test_later_arrivals_never_demote_a_promoted_trial() -> None:
    rule = AshaStopping(min_resource=3, reduction_factor=3)
    first = judged(0, [(5.0, 5.0)] * 4, [1.0, 2.0, 3.0, 4.0])
    dominating = [judged(i, [(0.0, 0.0)] * 3, [5.0, 6.0, 7.0]) for i in range(1, 9)]
    assert not rule.should_stop(first, dominating)
    late = judged(9, [(5.0, 5.0)] * 3, [8.0, 9.0, 10.0])  # same vector, arrived last
    assert rule.should_stop(late, [first, *dominating])


def test_width_one_vectors_decide_as_plain_values() -> None:
    for seed in range(10):
        plain = _random_curves(seed, width=1)
        vectors = [
            Curve(c.trial, c.index, c.steps, c.values, c.arrivals, tuple((v,) for v in c.values))
            for c in plain
        ]
        for rule in (AshaStopping(1, 27, 3), HyperbandStopping(max_resource=27)):
            assert rule.stops(vectors, vectors) == rule.stops(plain, plain)


def test_median_judges_the_first_objective() -> None:
    rule = MedianStopping(min_trials=2)
    others = [judged(i, [(1.0, 9.0)] * 2) for i in range(3)]
    assert rule.should_stop(judged(3, [(2.0, 0.0)] * 2), others)
    assert not rule.should_stop(judged(3, [(0.5, 99.0)] * 2), others)


def test_narrower_vectors_count_as_worst_in_the_missing_objectives() -> None:
    rule = AshaStopping(min_resource=1, reduction_factor=3)
    single = Curve("t1", 1, (1,), (0.0,), (1.0,))  # ties the first on value, lacks the second
    assert rule.should_stop(single, [judged(0, [(0.0, 1.0)])])


def test_crowding_distance_is_infinite_at_the_ends_and_ignores_order() -> None:
    front = np.array([[0.0, 4.0], [1.0, 3.0], [3.0, 1.0], [4.0, 0.0], [1.0, 3.0]])
    distances = crowding_distances(front)
    assert distances[[0, 3]].tolist() == [math.inf, math.inf]
    assert distances[1] == distances[4] == pytest.approx((3 - 0) / 4 + (4 - 1) / 4)
    assert distances[2] == pytest.approx((4 - 1) / 4 + (3 - 0) / 4)
    assert crowding_distances(front[::-1]).tolist() == distances[::-1].tolist()


@pytest.mark.parametrize(
    ("objectives", "message"),
    [
        (((1.0, 2.0),), "2 steps but 1 vectors"),
        (((1.0, 2.0), (2.0,)), "share one width"),
        (((), ()), "share one width"),
        (((1.0, 2.0), (3.0, 2.0)), "must start with its value"),
    ],
)
def test_curve_rejects_vectors_that_do_not_match_its_values(
    objectives: tuple[Vector, ...], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Curve("t", 0, (1, 2), (1.0, 2.0), (), objectives)


def test_curve_accepts_a_diverged_first_objective() -> None:
    curve = Curve("t", 0, (1,), (math.nan,), (), ((math.nan, 1.0),))
    assert rung_objectives(curve, 1) == (math.inf, 1.0)


# --- the batch against a trial-by-trial reference ----------------------------------


def _random_curves(seed: int, width: int) -> list[Curve]:
    chance = random.Random(seed)
    curves = []
    for index in range(chance.randint(1, 40)):
        steps = sorted(chance.sample(range(1, 30), chance.randint(1, 8)))
        vectors = [
            tuple(
                chance.choice([chance.random(), round(chance.random(), 1), math.nan])
                for _ in range(width)
            )
            for _ in steps
        ]
        arrivals = sorted(chance.choice([0.0, chance.uniform(0, 100)]) for _ in steps)
        values = tuple(vector[0] for vector in vectors)
        objectives = tuple(vectors) if width > 1 else ()
        curves.append(Curve(f"t{index}", index, tuple(steps), values, tuple(arrivals), objectives))
    return curves


def _dominates(a: Vector, b: Vector) -> bool:
    return all(x <= y for x, y in zip(a, b, strict=True)) and a != b


def _fronts(points: list[Vector]) -> list[int]:
    """Non-dominated sorting the slow way: peel off the undominated, repeat."""
    ranks, rank, left = [-1] * len(points), 0, set(range(len(points)))
    while left:
        front = {i for i in left if not any(_dominates(points[j], points[i]) for j in left)}
        for i in front:
            ranks[i] = rank
        left, rank = left - front, rank + 1
    return ranks


def _crowding(front: list[Vector], own: Vector) -> float:
    total = 0.0
    for column in range(len(own)):
        levels = sorted({point[column] for point in front})
        at = levels.index(own[column])
        if at in (0, len(levels) - 1):
            return math.inf
        gap = (levels[at + 1] - levels[at - 1]) / (levels[-1] - levels[0])
        total += 0.0 if math.isnan(gap) else gap
    return total


def _reference_mo_asha(rule: AshaStopping, curve: Curve, others: list[Curve]) -> bool:
    """MO-ASHA trial by trial: at each rung reached, the curve and the earlier arrivals
    sorted by front, then crowding distance; stopped unless within the top 1/eta."""
    newest = curve.steps[-1]
    if rule.max_resource is not None and newest >= rule.max_resource:
        return False
    for rung in rungs(rule.min_resource, rule.reduction_factor, rule.max_resource):
        own = rung_entry(curve, rung)
        if rung > newest:
            return False
        if own is None:
            continue
        earlier = [o for o in others if (e := rung_entry(o, rung)) is not None and e[0] < own[0]]
        points = [*(rung_objectives(o, rung) or () for o in earlier), rung_objectives(curve, rung)]
        ranks = _fronts([p for p in points if p is not None])
        mine = [p for p, r in zip(points, ranks, strict=True) if r == ranks[-1] and p is not None]
        ahead = sum(r < ranks[-1] for r in ranks) + sum(
            _crowding(mine, p) > _crowding(mine, mine[-1]) for p in mine
        )
        if ahead >= promotions(len(points), rule.reduction_factor):
            return True
    return False


@pytest.mark.parametrize("seed", range(30))
def test_judging_many_at_once_agrees_with_the_trial_by_trial_reference(seed: int) -> None:
    curves = _random_curves(seed, width=2 + seed % 2)
    for rule in (AshaStopping(1, 27, 3), AshaStopping(2, None, 2)):
        reference = [_reference_mo_asha(rule, c, [o for o in curves if o is not c]) for c in curves]
        assert rule.stops(curves, curves) == reference
    hyperband = HyperbandStopping(max_resource=27)
    one_by_one = [hyperband.should_stop(c, [o for o in curves if o is not c]) for c in curves]
    assert hyperband.stops(curves, curves) == one_by_one
