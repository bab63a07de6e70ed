"""Scrambled Sobol sampling: random search with even coverage, for space-filling starts.

The sequence depends on the seed only, so every call walks the same sequence from its
start and skips points already finished or pending: restarts and parallel calls agree.
On a finite space the walk runs out of unseen points and reports the space exhausted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import qmc

from kubetune.search.base import Observation, Suggestion
from kubetune.search.history import derive_rng, encode_history
from kubetune.search.picking import Picker
from kubetune.search.space import Assignment, SearchSpace
from kubetune.search.transform import Points, SpaceTransform

LONGEST_WALK = 2**16  # beyond this, unseen points of a crowded space come from top-up


def sobol_points(dims: int, count: int, seed: int) -> Points:
    """The first `count` points (rounded up to a power of two) of the seeded sequence."""
    if dims == 0:
        return np.zeros((count, 0))
    exponent = max(int(np.ceil(np.log2(max(count, 1)))), 0)
    sampler = qmc.Sobol(dims, scramble=True, seed=np.random.default_rng(seed % 2**63))
    return np.asarray(sampler.random_base2(exponent), dtype=np.float64)


@dataclass(frozen=True)
class SobolSuggester:
    def suggest(
        self,
        space: SearchSpace,
        finished: Sequence[Observation],
        pending: Sequence[Assignment],
        n: int,
        seed: int,
    ) -> Suggestion:
        transform = SpaceTransform(space)
        history = encode_history(transform, finished, pending)
        picker = Picker(transform, history.taken, n)
        walk = 2 * (len(history.taken) + n)
        size = transform.cardinality
        longest = LONGEST_WALK if size is None else min(LONGEST_WALK, 8 * size)
        while picker.missing > 0 and walk <= longest:
            picker = Picker(transform, history.taken, n)
            picker.offer(sobol_points(transform.dims, walk, seed))
            walk *= 4
        return picker.finish(derive_rng(seed, finished, pending))
