"""The one small interface every early-stopping rule implements.

A rule is stateless: its decision is a pure function of the trial's curve and all other
trials' curves (running, finished or stopped). A restarted operator rebuilds the curves
from the API server, so it makes the same decisions without any saved rule state.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from kubetune.search.stopping.curve import Curve


class StoppingRule(Protocol):
    def should_stop(self, curve: Curve, others: Sequence[Curve]) -> bool:
        """True when the trial behind `curve` should be stopped now."""
        ...
