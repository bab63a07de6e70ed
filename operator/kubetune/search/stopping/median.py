"""The median stopping rule (Golovin et al., "Google Vizier", KDD 2017).

A trial is stopped when its best value so far is strictly worse than the MEDIAN of the
other trials' running averages at the same step. The median, not the mean, is the point:
one diverged trial (a huge loss) drags a mean up so far that nothing is ever stopped.

With several objectives the rule judges the first one (`Curve.values`) alone: a median
of vectors is not defined. So it stops a trial that lags in the first objective even if
it leads in another; `asha` judges by Pareto rank instead (MO-ASHA).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kubetune.search.stopping.base import each_against_the_others
from kubetune.search.stopping.curve import Curve, best_until, has_reached, running_average_until
from kubetune.search.stopping.settings import require_int


@dataclass(frozen=True)
class MedianStopping:
    """`min_trials`: how many other trials must have reached the step before judging,
    since a median of one or two curves is noise. `warmup_steps`: no trial is stopped
    at a step below this, since first-epoch values say little about the final one."""

    min_trials: int = 5
    warmup_steps: int = 1

    def __post_init__(self) -> None:
        require_int("median", "min_trials", self.min_trials, minimum=1)
        require_int("median", "warmup_steps", self.warmup_steps, minimum=0)

    def should_stop(self, curve: Curve, others: Sequence[Curve]) -> bool:
        step = curve.last_step
        if step is None or step < self.warmup_steps:
            return False
        peers = [
            average
            for other in others
            if has_reached(other, step)
            and (average := running_average_until(other, step)) is not None
        ]
        if len(peers) < self.min_trials:
            return False
        best = best_until(curve, step)
        return best is not None and best > float(np.median(peers))

    def stops(self, curves: Sequence[Curve], everyone: Sequence[Curve]) -> list[bool]:
        return each_against_the_others(self, curves, everyone)
