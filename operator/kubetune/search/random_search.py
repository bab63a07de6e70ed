"""Uniform random search: the baseline every other algorithm must beat, and the
fallback that fills batches when a model runs short of distinct candidates.

Named `random_search` so that it never shadows the stdlib `random` module.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kubetune.search.base import Observation, Suggestion
from kubetune.search.history import derive_rng, encode_history
from kubetune.search.picking import Picker
from kubetune.search.space import Assignment, SearchSpace
from kubetune.search.transform import SpaceTransform


@dataclass(frozen=True)
class RandomSuggester:
    def suggest(
        self,
        space: SearchSpace,
        finished: Sequence[Observation],
        pending: Sequence[Assignment],
        n: int,
        seed: int,
    ) -> Suggestion:
        transform = SpaceTransform(space)
        rng = derive_rng(seed, finished, pending)
        picker = Picker(transform, encode_history(transform, finished, pending).taken, n)
        picker.offer(transform.sample(rng, n))
        return picker.finish(rng)
