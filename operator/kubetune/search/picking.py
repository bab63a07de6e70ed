"""Turning ranked candidate points into `n` distinct, never-seen assignments.

Every algorithm ranks its own candidates; this module does the rest the same way for all:
it drops points already finished, pending or picked in this batch, tops up with random
unseen points when the algorithm ran short, and reports the space exhausted when a finite
space has no unseen point left.
"""

from __future__ import annotations

import numpy as np

from kubetune.search.base import Suggestion
from kubetune.search.transform import Key, Points, SpaceTransform

ENUMERATION_LIMIT = 100_000  # finite spaces up to this size are listed when topping up
RANDOM_TOP_UP_ROUNDS = 20


class Picker:
    """Collects up to `wanted` distinct snapped points that are not in `taken`."""

    def __init__(self, transform: SpaceTransform, taken: Points, wanted: int) -> None:
        self.transform = transform
        self.seen: set[Key] = set(transform.keys(taken)) if len(taken) else set()
        self.wanted = wanted
        self.rows: list[Points] = []

    @property
    def missing(self) -> int:
        return self.wanted - len(self.rows)

    @property
    def picked(self) -> Points:
        if not self.rows:
            return np.zeros((0, self.transform.dims))
        return np.vstack(self.rows)

    def offer(self, points: Points, limit: int | None = None) -> int:
        """Takes new points in the order given until full (or `limit` taken); returns
        how many it took."""
        snapped = self.transform.snap(points) if len(points) else points
        room = self.missing if limit is None else min(limit, self.missing)
        taken = 0
        for row, key in zip(snapped, self.transform.keys(snapped), strict=True):
            if taken >= room:
                break
            if key not in self.seen:
                self.seen.add(key)
                self.rows.append(row[None, :])
                taken += 1
        return taken

    def finish(self, rng: np.random.Generator) -> Suggestion:
        """Tops up with random unseen points and builds the suggestion."""
        self._top_up(rng)
        return Suggestion(
            assignments=self.transform.decode(self.picked), exhausted=self.missing > 0
        )

    def _top_up(self, rng: np.random.Generator) -> None:
        size = self.transform.cardinality
        if self.missing > 0 and size is not None and size <= ENUMERATION_LIMIT:
            self.offer(rng.permutation(enumerate_space(self.transform)))
        for _ in range(RANDOM_TOP_UP_ROUNDS):
            if self.missing <= 0:
                return
            self.offer(self.transform.sample(rng, 4 * self.missing))


def enumerate_space(transform: SpaceTransform) -> Points:
    """Every point of a finite space, as unit-cube rows."""
    axes = [codec.positions() for codec in transform.codecs]
    if not axes:
        return np.zeros((1, 0))
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.stack([m.ravel() for m in mesh], axis=1)
