"""The one shared map between assignments and the unit cube.

Every algorithm works on points in [0, 1]^d, one column per parameter, and never looks at
parameter types. This module owns all type knowledge:

- float: linear or log scale, clipped to the bounds;
- int: linear or log scale over bounds padded by half a step, so that each allowed value
  owns an equal slice of [0, 1]; decoding rounds onto the step grid;
- discrete: by rank, the i-th smallest of n listed values owning [i/n, (i+1)/n), so
  each is drawn equally often however unevenly the values are spaced, and distance
  along the column is distance in rank;
- categorical: one index column, choice i owning the slice [i/k, (i+1)/k). A model that
  needs a distance between categories (the Gaussian process) asks for `one_hot` features,
  where all distinct categories are equally far apart.

`levels` and `categorical` are the only facts algorithms may use: the number of distinct
values of a column (0 when continuous) and whether its order is meaningless.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from kubetune.search.codecs import Codec, make_codec
from kubetune.search.space import Assignment, SearchSpace

Points = NDArray[np.float64]
Key = tuple[float, ...]


class SpaceTransform:
    """Encodes assignments of one search space into unit-cube rows and decodes them back."""

    def __init__(self, space: SearchSpace) -> None:
        self.space = space
        self.codecs: tuple[Codec, ...] = tuple(make_codec(p) for p in space.params)
        self.levels = np.array([c.levels for c in self.codecs], dtype=np.int64)
        self.categorical = np.array([c.categorical for c in self.codecs], dtype=bool)

    @property
    def dims(self) -> int:
        return len(self.codecs)

    @property
    def cardinality(self) -> int | None:
        """Number of distinct assignments, or None when some column is continuous."""
        if np.any(self.levels == 0):
            return None
        return math.prod(int(k) for k in self.levels)

    def encode(self, assignments: Sequence[Assignment]) -> Points:
        points = np.zeros((len(assignments), self.dims))
        for j, codec in enumerate(self.codecs):
            if assignments:
                points[:, j] = codec.encode([a[codec.name] for a in assignments])
        return points

    def decode(self, points: Points) -> list[Assignment]:
        columns = [c.decode(points[:, j]) for j, c in enumerate(self.codecs)]
        names = [c.name for c in self.codecs]
        return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]

    def snap(self, points: Points) -> Points:
        """Moves every point onto the nearest representable assignment."""
        snapped = np.empty_like(points)
        for j, codec in enumerate(self.codecs):
            snapped[:, j] = codec.snap(points[:, j])
        return snapped

    def keys(self, points: Points) -> list[Key]:
        """Hashable identities of snapped points, used to avoid duplicates."""
        rounded = np.round(self.snap(points), 9)
        return [tuple(row) for row in rounded.tolist()]

    def sample(self, rng: np.random.Generator, count: int) -> Points:
        return self.snap(rng.random((count, self.dims)))

    def axis(self, column: int, resolution: int) -> Points:
        """Distinct unit positions of one column for a grid of `resolution` points."""
        codec = self.codecs[column]
        if 0 < codec.levels <= resolution or codec.categorical:
            return codec.positions()
        return np.unique(codec.snap(np.linspace(0.0, 1.0, resolution)))

    def one_hot(self, points: Points) -> Points:
        """Features for distance-based models: categorical columns expanded to indicators."""
        blocks: list[Points] = []
        for j, codec in enumerate(self.codecs):
            column = points[:, j : j + 1]
            if codec.categorical:
                index = np.minimum((column[:, 0] * codec.levels).astype(int), codec.levels - 1)
                column = np.eye(codec.levels)[index]
            blocks.append(column)
        return np.hstack(blocks) if blocks else np.zeros((len(points), 0))

    def neighbors(self, points: Points, rng: np.random.Generator, scale: float) -> Points:
        """Random nearby points: a Gaussian step on ordered columns (reflected at the
        bounds), and a fresh category with probability `scale` on categorical ones."""
        step = points + rng.normal(0.0, scale, points.shape)
        reflected = 1.0 - np.abs(1.0 - np.abs(step) % 2.0)
        resample = rng.random(points.shape) < scale
        fresh = rng.random(points.shape)
        moved = np.where(self.categorical & resample, fresh, points)
        moved = np.where(self.categorical, moved, reflected)
        return self.snap(moved)
