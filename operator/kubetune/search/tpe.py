"""Tree-structured Parzen estimator (TPE): a cheap model-based search.

After a Sobol start, finished trials are split by value: the best `gamma` fraction is
"good", the rest "bad". With several objectives or constraints "best" is the shared
preference order (see `history.preference_order`): feasible before infeasible, then by
non-dominated rank, as MOTPE splits; within the rank that straddles the cut, ties go to the
lower first objective (MOTPE breaks them by hypervolume contribution, which costs more).
One density is fitted to each (see `parzen`), `candidates` points are drawn from the
good density, and the one with the highest ratio good/bad wins.
Pending trials and points already picked in this batch join the bad group (a constant
liar with the worst value), so parallel suggestions move apart instead of piling up.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kubetune.search.base import Observation, Suggestion
from kubetune.search.history import (
    derive_rng,
    encode_history,
    in_initial_design,
    preference_order,
)
from kubetune.search.parzen import ParzenEstimator
from kubetune.search.picking import Picker
from kubetune.search.sobol import SobolSuggester
from kubetune.search.space import Assignment, SearchSpace
from kubetune.search.transform import SpaceTransform


@dataclass(frozen=True)
class TpeSuggester:
    initial_trials: int | None = None
    gamma: float = 0.25
    candidates: int = 24

    def __post_init__(self) -> None:
        if not 0.0 < self.gamma < 1.0:
            raise ValueError(f"tpe: gamma must be in (0, 1), got {self.gamma}")
        if self.candidates < 1:
            raise ValueError(f"tpe: candidates must be >= 1, got {self.candidates}")

    def suggest(
        self,
        space: SearchSpace,
        finished: Sequence[Observation],
        pending: Sequence[Assignment],
        n: int,
        seed: int,
    ) -> Suggestion:
        transform = SpaceTransform(space)
        if in_initial_design(self.initial_trials, transform.dims, finished):
            return SobolSuggester().suggest(space, finished, pending, n, seed)
        rng = derive_rng(seed, finished, pending)
        history = encode_history(transform, finished, pending)
        order = preference_order(history.objectives, history.violations)
        good_count = max(1, math.ceil(self.gamma * len(order)))
        good = history.finished[order[:good_count]]
        bad = np.vstack([history.finished[order[good_count:]], history.pending])
        good_density = ParzenEstimator(good, transform.levels, transform.categorical)
        picker = Picker(transform, history.taken, n)
        while picker.missing > 0:
            bad_density = ParzenEstimator(bad, transform.levels, transform.categorical)
            drawn = transform.snap(good_density.sample(rng, self.candidates))
            ratio = good_density.log_density(drawn) - bad_density.log_density(drawn)
            if picker.offer(drawn[np.argsort(-ratio, kind="stable")], limit=1) == 0:
                break
            bad = np.vstack([bad, picker.picked[-1:]])
        return picker.finish(rng)
