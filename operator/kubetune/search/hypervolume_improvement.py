"""Expected hypervolume improvement (EHVI), exact, for independent Gaussian predictions.

The region a new point could add to the hypervolume is the part of the reference box that
no point of the current front dominates. `ImprovementRegion` cuts it into disjoint boxes:
a grid over the first d-1 objectives (cut at the front's coordinates), each cell extended
along the last objective up to the lowest last coordinate of the front points that
cover the cell. A point y adds, in box [l, u], the volume prod_j (u_j - max(y_j, l_j))+.
With one independent process per objective the expectation of that product is the product
of expectations, and per objective E[(u - max(Y, l))+] = g(u) - g(l) with
g(c) = E[(c - Y)+] = (c - mu) Phi(z) + sigma phi(z), the expected improvement below c.
So EHVI is a sum over boxes of products of closed forms: exact in any dimension, with
(front size + 1)^(d - 1) boxes - a few thousand for three objectives and fronts of fifty.
The grid makes the sum a tensor contraction: g is evaluated once per distinct cut, and
the product-and-sum runs one objective at a time. It is preferred to Monte Carlo here
because it is exact and needs no samples; beyond three objectives the grid grows fast.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtr

Array = NDArray[np.float64]
INV_SQRT_2PI = 1.0 / np.sqrt(2 * np.pi)
LOG_FLOOR = 1e-300  # EHVI underflows to 0 far behind the front; log of it stays finite
CELL_BUDGET = 400_000  # candidates x grid cells per chunk: about 3 MB per array


@dataclass(frozen=True)
class ImprovementRegion:
    """The part of the reference box no front point dominates, as a grid: `edges[j]`
    cuts objective j (all but the last) from -inf up to the reference, and
    `ceilings[i_0, ..., i_(d-2)]` bounds the region along the last objective over that
    grid cell (from -inf up)."""

    edges: tuple[Array, ...]
    ceilings: Array

    @classmethod
    def of(cls, front: Array, reference: Array) -> ImprovementRegion:
        """Front points outside the reference box dominate nothing inside it."""
        front = front[np.all(front < reference, axis=1)]
        edges = tuple(
            np.concatenate([[-np.inf], np.unique(np.append(front[:, j], reference[j]))])
            for j in range(front.shape[1] - 1)
        )
        lowers = _grid([e[:-1] for e in edges])
        covering = np.all(front[None, :, :-1] <= lowers[:, None, :], axis=2)
        tops = np.where(covering, front[None, :, -1], reference[-1])
        ceilings = np.min(tops, axis=1, initial=reference[-1])
        return cls(edges, ceilings.reshape([len(e) - 1 for e in edges]))

    def boxes(self) -> tuple[Array, Array]:
        """(lower, upper) corners of the region's disjoint boxes, one row per box."""
        lower, upper = _grid([e[:-1] for e in self.edges]), _grid([e[1:] for e in self.edges])
        floor = np.full((len(lower), 1), -np.inf)
        return np.hstack([lower, floor]), np.hstack([upper, self.ceilings.reshape(-1, 1)])

    def expected_improvement(self, means: Array, stds: Array) -> Array:
        """EHVI per row of `means`/`stds`, in chunks that keep arrays to a few MB."""
        chunk = max(1, CELL_BUDGET // self.ceilings.size)
        stds = np.maximum(stds, 1e-12)
        parts = [
            self._contract(means[start : start + chunk], stds[start : start + chunk])
            for start in range(0, len(means), chunk)
        ]
        return np.concatenate(parts) if parts else np.zeros(0)

    def _contract(self, means: Array, stds: Array) -> Array:
        """Sum over cells of the product of per-objective extents: the last objective's
        g(ceiling) gathered on the grid, then each other objective's g(upper) - g(lower)
        contracted away one axis at a time (never a cells x objectives array)."""
        last = len(self.edges)
        levels, where = np.unique(self.ceilings.ravel(), return_inverse=True)
        below = expected_improvement_below(means[:, last], stds[:, last], levels)
        total = below[:, where.ravel()].reshape(len(means), *self.ceilings.shape)
        for j in reversed(range(last)):
            below = expected_improvement_below(means[:, j], stds[:, j], self.edges[j])
            total = np.einsum("n...i,ni->n...", total, np.maximum(np.diff(below, axis=1), 0.0))
        return np.asarray(total, dtype=np.float64)


def _grid(axes: list[Array]) -> Array:
    """Every combination of one value per axis, one row each (one empty row for none)."""
    rows = list(itertools.product(*axes))
    return np.array(rows, dtype=np.float64).reshape(len(rows), len(axes))


def expected_improvement_below(mean: Array, std: Array, levels: Array) -> Array:
    """g(c) = E[(c - Y)+] for Y ~ N(mean, std), one row per prediction, one column per
    level; 0 at c = -inf."""
    finite = np.isfinite(levels)
    bounded = np.where(finite, levels, 0.0)
    z = (bounded[None, :] - mean[:, None]) / std[:, None]
    density = std[:, None] * INV_SQRT_2PI * np.exp(-0.5 * z**2)
    value = (bounded[None, :] - mean[:, None]) * ndtr(z) + density
    return np.asarray(np.where(finite[None, :], np.maximum(value, 0.0), 0.0))


def expected_hypervolume_improvement(
    means: Array, stds: Array, front: Array, reference: Array
) -> Array:
    """EHVI of each row of `means`/`stds` (one column per objective, minimized) over
    `front`, inside `reference`."""
    return ImprovementRegion.of(front, reference).expected_improvement(means, stds)


def log_expected_hypervolume_improvement(
    means: Array, stds: Array, front: Array, reference: Array
) -> Array:
    return log_of(ImprovementRegion.of(front, reference).expected_improvement(means, stds))


def log_of(improvement: Array) -> Array:
    return np.asarray(np.log(np.maximum(improvement, LOG_FLOOR)), dtype=np.float64)
