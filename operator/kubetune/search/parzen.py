"""A multivariate Parzen (kernel density) estimator over the unit cube, for TPE.

Each observation is one mixture component: truncated Gaussians on ordered columns
(sharing one bandwidth that shrinks with the number of observations, Scott-style) and a
smoothed point mass on categorical columns (its own choice, plus a uniform share), so
an unseen category keeps a non-zero probability. A broad prior component keeps the
density positive everywhere, which stops the search from collapsing on a few trials.
Modelling columns jointly (one component = one whole trial) keeps interactions between
parameters that an independent-per-parameter estimator would lose.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.special import logsumexp, ndtr
from scipy.stats import truncnorm

Array = NDArray[np.float64]
BANDWIDTH_SCALE = 0.2
PRIOR_CENTER, PRIOR_WIDTH = 0.5, 1.0
CATEGORY_SMOOTHING = 0.5  # the uniform share, relative to the observed choice


class ParzenEstimator:
    def __init__(
        self, points: Array, levels: NDArray[np.int64], categorical: NDArray[np.bool_]
    ) -> None:
        count, dims = points.shape
        self.centers = np.vstack([points, np.full((1, dims), PRIOR_CENTER)])
        self.levels, self.categorical = np.maximum(levels, 1), categorical
        bandwidth = BANDWIDTH_SCALE * max(count, 1) ** (-1.0 / (dims + 4))
        self.widths = np.full(count + 1, bandwidth)
        self.widths[-1] = PRIOR_WIDTH
        self.is_prior = np.arange(count + 1) == count
        self.log_weights = np.full(count + 1, -np.log(count + 1))

    def log_density(self, x: Array) -> Array:
        """log p(x) for each row of x."""
        z = (x[:, None, :] - self.centers[None, :, :]) / self.widths[None, :, None]
        mass = self._window_mass()[None, :, :]
        ordered = -0.5 * z**2 - np.log(self.widths[None, :, None] * np.sqrt(2 * np.pi) * mass)
        same = np.floor(x[:, None, :] * self.levels) == np.floor(self.centers[None] * self.levels)
        categorical = np.log(self._category_probability(same))
        per_dim = np.where(self.categorical, categorical, ordered)
        return np.asarray(logsumexp(per_dim.sum(axis=2) + self.log_weights, axis=1))

    def sample(self, rng: np.random.Generator, count: int) -> Array:
        chosen = rng.choice(len(self.centers), size=count, p=np.exp(self.log_weights))
        centers, widths = self.centers[chosen], self.widths[chosen][:, None]
        low, high = (0.0 - centers) / widths, (1.0 - centers) / widths
        ordered = truncnorm.rvs(low, high, loc=centers, scale=widths, random_state=rng)
        keep_own = rng.random(centers.shape) < 1.0 / (1.0 + CATEGORY_SMOOTHING)
        keep_own &= ~self.is_prior[chosen][:, None]
        categorical = np.where(keep_own, centers, rng.random(centers.shape))
        return np.asarray(np.where(self.categorical, categorical, ordered))

    def _window_mass(self) -> Array:
        """Probability mass of each truncated Gaussian inside [0, 1]."""
        widths = self.widths[:, None]
        upper, lower = ndtr((1.0 - self.centers) / widths), ndtr(-self.centers / widths)
        return np.asarray(np.maximum(upper - lower, 1e-12), dtype=np.float64)

    def _category_probability(self, same: NDArray[np.bool_]) -> Array:
        uniform = 1.0 / self.levels
        smoothed = (same + CATEGORY_SMOOTHING * uniform) / (1.0 + CATEGORY_SMOOTHING)
        return np.asarray(np.where(self.is_prior[None, :, None], uniform, smoothed))
