"""Unit tests of ASHA and hyperband: rung arithmetic, the top-1/eta promotion, the
never-stop zones, bracket assignment and the factory's errors."""

from __future__ import annotations

import math
import random

import pytest

from kubetune.search.stopping import (
    AshaStopping,
    Curve,
    HyperbandStopping,
    MedianStopping,
    make_stopping_rule,
)
from kubetune.search.stopping.asha import is_promoted, rungs
from kubetune.search.stopping.curve import rung_entry


def curve(index: int, values: list[float]) -> Curve:
    return Curve(f"t{index}", index, tuple(range(1, len(values) + 1)), tuple(values))


def flat(index: int, value: float, length: int) -> Curve:
    return curve(index, [value] * length)


def test_rungs_are_geometric_and_stop_below_max_resource() -> None:
    assert list(rungs(1, 3, 52)) == [1, 3, 9, 27]
    assert list(rungs(2, 2, 16)) == [2, 4, 8]
    assert list(rungs(1, 3, 27)) == [1, 3, 9]


def test_top_one_over_eta_of_rung_values_including_own() -> None:
    recorded = [float(v) for v in range(9)]  # nine values: the best three continue
    assert [is_promoted(v, recorded, 3) for v in recorded] == [True] * 3 + [False] * 6


def test_best_so_far_continues_while_fewer_than_eta_values() -> None:
    assert is_promoted(1.0, [1.0, 2.0], 3)
    assert not is_promoted(2.0, [1.0, 2.0], 3)


def arriving(index: int, values: list[float], arrivals: list[float]) -> Curve:
    steps = tuple(range(1, len(values) + 1))
    return Curve(f"t{index}", index, steps, tuple(values), tuple(arrivals))


def test_asha_decision_does_not_depend_on_when_it_is_asked() -> None:
    rule = AshaStopping(min_resource=3, reduction_factor=3)
    others = [arriving(i, [0.0] * 3, [1.0, 2.0, 3.0]) for i in range(8)]  # better, earlier
    assert not rule.should_stop(arriving(9, [5.0] * 2, [4.0, 5.0]), others)  # before rung 3
    assert rule.should_stop(arriving(9, [5.0] * 3, [4.0, 5.0, 6.0]), others)  # bottom of nine
    late_look = arriving(9, [5.0] * 5, [4.0, 5.0, 6.0, 7.0, 8.0])  # nobody asked at step 3
    assert rule.should_stop(late_look, others)
    one_batch = arriving(9, [5.0] * 4, [4.0, 7.0, 7.0, 7.0])  # steps 2-4 sent together
    assert rule.should_stop(one_batch, others)


def test_asha_never_demotes_a_trial_that_later_arrivals_outdo() -> None:
    rule = AshaStopping(min_resource=3, reduction_factor=3)
    first = arriving(0, [5.0] * 4, [1.0, 2.0, 3.0, 4.0])  # first at rung 3: promoted
    later = [arriving(i, [0.0] * 3, [5.0, 6.0, 7.0]) for i in range(1, 9)]
    assert not rule.should_stop(first, later)
    assert all(not rule.should_stop(c, [first, *later[:i]]) for i, c in enumerate(later[:2]))
    assert rule.should_stop(arriving(9, [9.0] * 3, [8.0, 9.0, 10.0]), [first, *later])


def test_without_arrival_times_trials_arrive_in_index_order() -> None:
    rule = AshaStopping(min_resource=1, reduction_factor=2)
    assert not rule.should_stop(flat(0, 5.0, 1), [flat(1, 0.0, 1)])  # index 0 was first
    assert rule.should_stop(flat(1, 5.0, 1), [flat(0, 0.0, 1)])


def test_asha_promotes_top_third_at_rung() -> None:
    rule = AshaStopping(min_resource=1, reduction_factor=3)
    others = [flat(i, float(i), 1) for i in range(8)]  # values 0..7 at rung 1
    assert not rule.should_stop(flat(9, 1.5, 1), others)  # rank 2 of 9: top three
    assert rule.should_stop(flat(9, 2.5, 1), others)  # rank 3 of 9


def test_asha_never_stops_at_or_beyond_max_resource() -> None:
    rule = AshaStopping(min_resource=1, max_resource=9, reduction_factor=3)
    others = [flat(i, 0.0, 9) for i in range(20)]
    assert not rule.should_stop(flat(99, 9.0, 9), others)
    jumped = Curve("j", 99, (2, 12), (9.0, 9.0))  # crosses rungs 3 and 9 at once
    assert not rule.should_stop(jumped, others)


def test_asha_ignores_others_that_have_not_reached_the_rung() -> None:
    rule = AshaStopping(min_resource=3)
    laggards = [flat(i, 0.0, 2) for i in range(10)]
    assert not rule.should_stop(flat(9, 5.0, 3), laggards)


def test_hyperband_brackets_round_robin_and_compare_within_bracket() -> None:
    rule = HyperbandStopping(min_resource=1, max_resource=27, reduction_factor=3)
    assert [asha.min_resource for asha in rule.brackets] == [1, 3, 9]
    assert [rule.bracket_of(flat(i, 0.0, 1)) for i in range(5)] == [0, 1, 2, 0, 1]
    other_bracket = [flat(i, 0.0, 1) for i in (1, 2, 4, 5, 7, 8)]  # brackets 1 and 2
    same_bracket = [flat(i, 0.0, 1) for i in (0, 3, 6)]
    worst_in_bracket_0 = flat(9, 5.0, 1)
    assert not rule.should_stop(worst_in_bracket_0, other_bracket)
    assert rule.should_stop(worst_in_bracket_0, same_bracket)


def test_hyperband_later_brackets_start_judging_later() -> None:
    rule = HyperbandStopping(max_resource=27)
    peers = [flat(i, 0.0, 3) for i in (1, 4, 7, 10)]  # bracket 1: first rung at 3
    assert not rule.should_stop(flat(13, 5.0, 1), peers)
    assert rule.should_stop(flat(13, 5.0, 3), peers)


def test_rules_are_deterministic() -> None:
    others = [curve(i, [float((i * 7) % 5), float((i * 3) % 4)]) for i in range(12)]
    for rule in (MedianStopping(), AshaStopping(), HyperbandStopping(max_resource=9)):
        decisions = [rule.should_stop(c, [o for o in others if o is not c]) for c in others]
        again = [rule.should_stop(c, [o for o in others if o is not c]) for c in others]
        assert decisions == again


def test_factory_builds_rules_and_none() -> None:
    assert make_stopping_rule("none") is None
    assert make_stopping_rule("median", min_trials=3) == MedianStopping(min_trials=3)
    assert make_stopping_rule("asha", reduction_factor=2) == AshaStopping(reduction_factor=2)
    assert make_stopping_rule("hyperband", max_resource=9) == HyperbandStopping(9)


@pytest.mark.parametrize(
    ("name", "settings", "message"),
    [
        ("sha", {}, "unknown early stopping rule 'sha'"),
        ("asha", {"minResource": 1}, "unknown setting.*minResource.*accepted: min_resource"),
        ("asha", {"reduction_factor": 1}, "reduction_factor must be >= 2"),
        ("asha", {"min_resource": 4, "max_resource": 4}, r"max_resource \(4\) must be greater"),
        ("median", {"min_trials": 2.5}, "min_trials must be an integer"),
        ("median", {"min_trials": True}, "min_trials must be an integer"),
        ("hyperband", {}, "hyperband: .*max_resource"),
        ("none", {"min_trials": 1}, "takes no settings"),
    ],
)
def test_factory_rejects_bad_settings_clearly(
    name: str, settings: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        make_stopping_rule(name, **settings)


def _reference_asha(rule: AshaStopping, curve: Curve, others: list[Curve]) -> bool:
    """ASHA as the paper states it, trial by trial: at each rung reached (below the full
    budget), top 1/eta of the values recorded there by the trials that arrived first."""
    newest = curve.steps[-1]
    if rule.max_resource is not None and newest >= rule.max_resource:
        return False
    for rung in rungs(rule.min_resource, rule.reduction_factor, rule.max_resource):
        if rung > newest:
            return False
        own = rung_entry(curve, rung)
        if own is None:
            continue
        entries = [rung_entry(other, rung) for other in others]
        earlier = [entry[1] for entry in entries if entry is not None and entry[0] < own[0]]
        if not is_promoted(own[1], [own[1], *earlier], rule.reduction_factor):
            return True
    return False


def _random_curves(seed: int) -> list[Curve]:
    chance = random.Random(seed)
    curves = []
    for index in range(chance.randint(1, 40)):
        steps = sorted(chance.sample(range(1, 30), chance.randint(1, 8)))
        values = [chance.choice([chance.random(), math.nan]) for _ in steps]
        arrivals = sorted(chance.choice([0.0, chance.uniform(0, 100)]) for _ in steps)
        curves.append(Curve(f"t{index}", index, tuple(steps), tuple(values), tuple(arrivals)))
    return curves


@pytest.mark.parametrize("seed", range(30))
def test_judging_many_at_once_gives_each_trials_own_answer(seed: int) -> None:
    curves = _random_curves(seed)
    rules = [AshaStopping(1, 27, 3), AshaStopping(2, None, 2), HyperbandStopping(max_resource=27)]
    for rule in [*rules, MedianStopping(min_trials=2)]:
        one_by_one = [rule.should_stop(c, [o for o in curves if o is not c]) for c in curves]
        assert rule.stops(curves, curves) == one_by_one, rule
    for asha in rules[:2]:
        assert isinstance(asha, AshaStopping)
        reference = [_reference_asha(asha, c, [o for o in curves if o is not c]) for c in curves]
        assert asha.stops(curves, curves) == reference
