"""The surrogate model of the bayesian suggester: a Gaussian process and its acquisition.

- Kernel and likelihood live in `matern` (Matern 5/2, one length scale per feature,
  times an amplitude, plus white noise: the noise term absorbs seed-to-seed variation
  of real training runs).
- Values are warped before fitting: everything above the median is compressed by log1p
  (in units of the spread), so one diverged trial cannot flatten the model's view of the
  good region; below the median the scale is kept, so the model still ranks good trials.
  Targets are then standardized.
- Hyperparameters are fitted by L-BFGS with a capped number of iterations, from a fixed
  starting point: each suggestion refits from scratch (suggesters are stateless, so no
  warm start from a previous call), so the fit must be cheap.
- Expected improvement is computed in log form, stable far from the incumbent where EI
  itself underflows to zero and a plain argmax would pick at random.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.linalg import cho_solve, solve_triangular
from scipy.optimize import minimize
from scipy.special import erfcx, log_ndtr

from kubetune.search.matern import (
    cross_covariance,
    factorize,
    initial_theta,
    negative_log_likelihood,
    theta_bounds,
    unpack,
)

Array = NDArray[np.float64]
FIT_ITERATIONS = 30
NOISE_FLOOR_ON_FAILURE = 1e-2  # a failed factorization is retried with this much noise
LOG_SQRT_2PI = 0.5 * np.log(2 * np.pi)


@dataclass(frozen=True)
class Warp:
    """The monotone map of one column of values to the units the model learns: centred
    on the median, in units of the spread, log1p above the median. Kept as an object so
    that other values in the same units (a reference point) map the same way."""

    median: float
    spread: float

    @classmethod
    def of(cls, values: Array) -> Warp:
        spread = float(np.subtract(*np.percentile(values, [75, 25]))) or float(np.std(values))
        return cls(float(np.median(values)), spread or 1.0)

    def __call__(self, values: Array) -> Array:
        scaled = (np.asarray(values, dtype=np.float64) - self.median) / self.spread
        return np.where(scaled > 0, np.log1p(np.maximum(scaled, 0.0)), scaled)


@dataclass(frozen=True)
class GaussianProcess:
    """A process conditioned on `features`; predicts in the units of the targets."""

    theta: Array
    features: Array
    factor: Array
    alpha: Array
    shift: float
    scale: float

    def predict(self, points: Array) -> tuple[Array, Array]:
        """Posterior mean and standard deviation at `points`."""
        cross = cross_covariance(points, self.features, self.theta)
        mean = cross @ self.alpha
        projected = solve_triangular(self.factor, cross.T, lower=True, check_finite=False)
        prior = unpack(self.theta)[1]
        variance = np.maximum(prior - np.sum(projected**2, 0), 1e-12)
        return self.shift + self.scale * mean, self.scale * np.sqrt(variance)


def fit_hyperparameters(features: Array, targets: Array) -> Array:
    """Log-space hyperparameters by capped L-BFGS from a fixed start (deterministic)."""
    standardized = (targets - targets.mean()) / (targets.std() or 1.0)
    result = minimize(
        negative_log_likelihood,
        initial_theta(features.shape[1]),
        args=(features, standardized),
        method="L-BFGS-B",
        jac=True,
        bounds=theta_bounds(features.shape[1]),
        options={"maxiter": FIT_ITERATIONS},
    )
    return np.asarray(result.x, dtype=np.float64)


def fit_process(features: Array, targets: Array, theta: Array | None = None) -> GaussianProcess:
    """Fits hyperparameters, or only conditions on the data when `theta` is given
    (hyperparameters fitted on a subset, or reused for believed pending points)."""
    theta = fit_hyperparameters(features, targets) if theta is None else theta
    shift, scale = float(targets.mean()), float(targets.std()) or 1.0
    factor = factorize(features, theta)
    if factor is None:  # nearly duplicate points with tiny noise: add noise, not fail
        theta = theta.copy()
        theta[-1] = max(theta[-1], float(np.log(NOISE_FLOOR_ON_FAILURE)))
        factor = factorize(features, theta)
        assert factor is not None, "covariance with noise on the diagonal is positive definite"
    alpha = cho_solve((factor, True), (targets - shift) / scale, check_finite=False)
    return GaussianProcess(theta, features, factor, alpha, shift, scale)


def log_expected_improvement(mean: Array, std: Array, best: float) -> Array:
    """log EI for minimization; for z < -1 uses EI = phi(z) * (1 + z * Mills(z)), where
    erfcx keeps the Mills ratio exact without cancellation in phi or Phi."""
    std = np.maximum(std, 1e-12)
    z = (best - mean) / std
    log_phi = -0.5 * z**2 - LOG_SQRT_2PI
    far = z < -1.0
    z_far, z_near = np.where(far, z, -1.0), np.where(far, 0.0, z)
    mills = np.sqrt(np.pi / 2) * erfcx(-z_far / np.sqrt(2))
    log_far = log_phi + np.log(np.maximum(1.0 + z_far * mills, 1e-300))
    near = z_near * np.exp(log_ndtr(z_near)) + np.exp(-0.5 * z_near**2 - LOG_SQRT_2PI)
    log_near = np.log(np.maximum(near, 1e-300))
    return np.asarray(np.where(far, log_far, log_near) + np.log(std), dtype=np.float64)
