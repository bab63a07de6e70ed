"""Regularized evolution: tournament selection over the most recent trials, plus mutation.

The population is the last `population_size` finished trials in the order given (the
oldest drop out even when good: that "ageing" is what regularizes the search and keeps
it from over-trusting one lucky evaluation). Each child mutates the winner of a
tournament among `tournament_size` random members. Until a population exists, the start
is a Sobol design. Everything derives from (seed, history), so it replays exactly.
Tournaments compare trials by their place in the shared preference order (see
`history.preference_order`), so several objectives and constraints need nothing more.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kubetune.search.base import Observation, Suggestion
from kubetune.search.history import derive_rng, encode_history, standing
from kubetune.search.picking import Picker
from kubetune.search.sobol import SobolSuggester
from kubetune.search.space import Assignment, SearchSpace
from kubetune.search.transform import SpaceTransform

CHILD_ATTEMPTS = 8  # mutations may land on taken points; retry before topping up


@dataclass(frozen=True)
class EvolutionSuggester:
    population_size: int = 20
    tournament_size: int = 5
    mutation_scale: float = 0.1

    def __post_init__(self) -> None:
        if not 1 <= self.tournament_size <= self.population_size:
            raise ValueError("evolution: need 1 <= tournament_size <= population_size")
        if self.mutation_scale <= 0:
            raise ValueError(f"evolution: mutation_scale must be > 0, got {self.mutation_scale}")

    def suggest(
        self,
        space: SearchSpace,
        finished: Sequence[Observation],
        pending: Sequence[Assignment],
        n: int,
        seed: int,
    ) -> Suggestion:
        if len(finished) < self.population_size:
            return SobolSuggester().suggest(space, finished, pending, n, seed)
        transform = SpaceTransform(space)
        rng = derive_rng(seed, finished, pending)
        history = encode_history(transform, finished, pending)
        population = history.finished[-self.population_size :]
        fitness = standing(
            history.objectives[-self.population_size :],
            history.violations[-self.population_size :],
        )
        picker = Picker(transform, history.taken, n)
        for _ in range(CHILD_ATTEMPTS):
            if picker.missing <= 0:
                break
            contests = rng.integers(0, len(population), (picker.missing, self.tournament_size))
            winners = contests[np.arange(len(contests)), np.argmin(fitness[contests], axis=1)]
            picker.offer(transform.neighbors(population[winners], rng, self.mutation_scale))
        return picker.finish(rng)
