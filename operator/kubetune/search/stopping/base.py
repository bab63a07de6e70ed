"""The one small interface every early-stopping rule implements.

A rule is stateless: its decision is a pure function of the trial's curve and all other
trials' curves (running, finished or stopped). A restarted operator rebuilds the curves
from the API server, so it makes the same decisions without any saved rule state.

`stops` judges many running trials at once against everyone's curves, with the same
answers as `should_stop` for each. A rule may share work between the trials there (ASHA
ranks each rung once per call, not once per trial): an experiment with thousands of
finished trials and fifty running ones is judged on every pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from kubetune.search.stopping.curve import Curve


class StoppingRule(Protocol):
    def should_stop(self, curve: Curve, others: Sequence[Curve]) -> bool:
        """True when the trial behind `curve` should be stopped now."""
        ...

    def stops(self, curves: Sequence[Curve], everyone: Sequence[Curve]) -> list[bool]:
        """`should_stop` for each of `curves`, against the others of `everyone` (which
        holds `curves` too; trial names are unique)."""
        ...


def each_against_the_others(
    rule: StoppingRule, curves: Sequence[Curve], everyone: Sequence[Curve]
) -> list[bool]:
    """`stops` the plain way: each trial judged on its own."""
    position = {curve.trial: at for at, curve in enumerate(everyone)}
    decisions = []
    for curve in curves:
        at = position.get(curve.trial)
        others = everyone if at is None else [*everyone[:at], *everyone[at + 1 :]]
        decisions.append(rule.should_stop(curve, others))
    return decisions
