"""What every suggester derives from its inputs: the encoded history and its random stream.

Suggesters are stateless, so randomness must come from the inputs: the stream is seeded
by (seed, number of finished + pending trials). The same inputs replay the same
suggestions after an operator restart, and successive calls still differ.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from kubetune.search.base import Observation
from kubetune.search.space import Assignment
from kubetune.search.transform import Points, SpaceTransform


def derive_rng(
    seed: int, finished: Sequence[Observation], pending: Sequence[Assignment]
) -> np.random.Generator:
    entropy = [seed % 2**63, len(finished) + len(pending)]
    return np.random.default_rng(np.random.SeedSequence(entropy))


@dataclass(frozen=True)
class EncodedHistory:
    """Finished trials as unit-cube rows with finite values, and pending trials as rows."""

    finished: Points
    values: NDArray[np.float64]
    pending: Points

    @property
    def taken(self) -> Points:
        return np.vstack([self.finished, self.pending])


def encode_history(
    transform: SpaceTransform, finished: Sequence[Observation], pending: Sequence[Assignment]
) -> EncodedHistory:
    return EncodedHistory(
        finished=transform.encode([o.params for o in finished]),
        values=finite_values([o.value for o in finished]),
        pending=transform.encode(pending),
    )


def finite_values(values: Sequence[float]) -> NDArray[np.float64]:
    """Failed or diverged trials (NaN, inf) count as the worst value seen, so models stay
    finite and steer away from them rather than crash."""
    array = np.array(values, dtype=np.float64)
    finite = np.isfinite(array)
    worst = float(array[finite].max()) if finite.any() else 0.0
    return np.where(finite, array, worst)


def initial_trial_count(setting: int | None, dims: int) -> int:
    """Trials sampled space-filling before a model is fitted: one more than the number
    of dimensions, kept between 5 and 10 so small budgets still leave room to model."""
    return setting if setting is not None else min(max(dims + 1, 5), 10)


def in_initial_design(setting: int | None, dims: int, finished: int) -> bool:
    """Whether a model-based suggester should still sample space-filling: before its
    initial trials are done, and always before two (a model needs a contrast)."""
    return finished < max(initial_trial_count(setting, dims), 2)
