"""Grid search: every combination of a few values per parameter.

Continuous axes get `resolution` evenly spaced points (on the parameter's own scale, so
log axes are spaced by ratio); finite axes with at most that many values keep all of them,
and categorical axes always keep all choices. The grid is visited in a seeded, spread-out
order (an affine permutation of the grid indices) so that an experiment stopped early
still covers the whole space; the order never depends on history, so it is replayable.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kubetune.search.base import Observation, Suggestion
from kubetune.search.history import encode_history
from kubetune.search.picking import Picker
from kubetune.search.space import Assignment, SearchSpace
from kubetune.search.transform import Points, SpaceTransform

GOLDEN_FRACTION = 0.6180339887


def spread_stride(total: int, seed: int) -> int:
    """A step coprime to `total`, so that index -> (offset + stride * index) % total
    visits every grid point once, jumping far between consecutive points."""
    stride = max(int(total * GOLDEN_FRACTION) + seed % 7, 1)
    while math.gcd(stride, total) != 1:
        stride += 1
    return stride


@dataclass(frozen=True)
class GridSuggester:
    resolution: int = 5

    def __post_init__(self) -> None:
        if self.resolution < 1:
            raise ValueError(f"grid: resolution must be >= 1, got {self.resolution}")

    def suggest(
        self,
        space: SearchSpace,
        finished: Sequence[Observation],
        pending: Sequence[Assignment],
        n: int,
        seed: int,
    ) -> Suggestion:
        transform = SpaceTransform(space)
        axes = [transform.axis(j, self.resolution) for j in range(transform.dims)]
        picker = Picker(transform, encode_history(transform, finished, pending).taken, n)
        total = math.prod(len(axis) for axis in axes)
        stride, offset = spread_stride(total, seed), seed % total
        chunk = max(len(finished) + len(pending) + n, 64)
        for start in range(0, total, chunk):
            if picker.missing <= 0:
                break
            order = [(offset + stride * k) % total for k in range(start, min(start + chunk, total))]
            picker.offer(grid_points(axes, order))
        return Suggestion(transform.decode(picker.picked), exhausted=picker.missing > 0)


def grid_points(axes: list[Points], indices: list[int]) -> Points:
    """Grid points by flat index (mixed radix, last axis fastest)."""
    rows = np.empty((len(indices), len(axes)))
    for i, flat in enumerate(indices):
        remainder = flat
        for j in range(len(axes) - 1, -1, -1):
            remainder, digit = divmod(remainder, len(axes[j]))
            rows[i, j] = axes[j][digit]
    return rows
