"""Unit tests of the early-stopping rules: each test pins a decision the rule's paper
prescribes, so a regression shows up as a wrong stop, not as a vague score change."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kubetune.search.stopping import (
    Curve,
    MedianStopping,
    best_until,
    rung_value,
    running_average_until,
)


def curve(index: int, values: list[float], steps: list[int] | None = None) -> Curve:
    steps = steps if steps is not None else list(range(1, len(values) + 1))
    return Curve(f"t{index}", index, tuple(steps), tuple(values))


def flat(index: int, value: float, length: int) -> Curve:
    return curve(index, [value] * length)


# --- curves -------------------------------------------------------------------------


def test_rung_value_takes_latest_step_at_or_before_rung() -> None:
    trial = curve(0, [5.0, 4.0, 3.0], steps=[1, 2, 4])
    assert rung_value(trial, 3) == 4.0
    assert rung_value(trial, 4) == 3.0
    assert rung_value(trial, 0) is None


def test_rung_value_treats_nan_as_worst() -> None:
    assert rung_value(curve(0, [math.nan]), 1) == math.inf


def test_best_and_running_average_until_a_step() -> None:
    trial = curve(0, [4.0, 2.0, 3.0, math.nan], steps=[1, 2, 4, 8])
    assert best_until(trial, 3) == 2.0
    assert running_average_until(trial, 4) == 3.0
    assert running_average_until(trial, 8) == math.inf  # a diverged report is the worst
    assert best_until(trial, 0) is None


def test_curve_rejects_mismatched_or_unsorted_steps() -> None:
    with pytest.raises(ValueError, match="2 steps but 1 values"):
        Curve("t", 0, (1, 2), (1.0,))
    with pytest.raises(ValueError, match="strictly increasing"):
        Curve("t", 0, (2, 2), (1.0, 1.0))


# --- median -------------------------------------------------------------------------


def test_median_not_mean_one_diverged_trial_does_not_shield_bad_trials() -> None:
    # Running averages of others at step 2: 1, 1, 1, 1, 100 -> median 1, mean 20.8.
    others = [flat(i, 1.0, 2) for i in range(4)] + [flat(4, 100.0, 2)]
    bad = flat(5, 5.0, 2)
    assert float(np.mean([1, 1, 1, 1, 100])) > 5.0  # a mean rule would keep `bad`
    assert MedianStopping().should_stop(bad, others)


def test_median_keeps_trial_better_than_median() -> None:
    others = [flat(i, float(i), 3) for i in range(5)]  # running averages 0..4, median 2
    assert not MedianStopping().should_stop(flat(9, 1.5, 3), others)
    assert MedianStopping().should_stop(flat(9, 2.5, 3), others)


def test_median_uses_best_so_far_of_the_trial() -> None:
    others = [flat(i, 2.0, 3) for i in range(5)]
    dipped_then_rose = curve(9, [3.0, 1.0, 3.0])  # best so far 1.0 beats median 2.0
    assert not MedianStopping().should_stop(dipped_then_rose, others)


def test_median_waits_for_min_trials_at_that_step() -> None:
    reached = [flat(i, 0.0, 3) for i in range(4)]
    behind = [flat(4, 0.0, 2)]  # has not reached step 3: does not count
    rule = MedianStopping(min_trials=5)
    assert not rule.should_stop(flat(9, 9.0, 3), reached + behind)
    assert rule.should_stop(flat(9, 9.0, 3), [*reached, flat(5, 0.0, 3)])


def test_median_respects_warmup_steps() -> None:
    others = [flat(i, 0.0, 5) for i in range(5)]
    rule = MedianStopping(warmup_steps=3)
    assert not rule.should_stop(flat(9, 9.0, 2), others)
    assert rule.should_stop(flat(9, 9.0, 3), others)
