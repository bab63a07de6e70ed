"""The Gaussian process kernel and the objective its hyperparameters are fitted by.

Written directly in numpy/scipy rather than through scikit-learn's generic kernel
machinery: a suggestion refits from scratch every time (suggesters are stateless), and
the generic path spent most of its time in Python overhead and per-call validation.
Here one likelihood evaluation is a handful of vectorized array operations and one
Cholesky factorization, with an analytic gradient for L-BFGS.

Kernel: amplitude * Matern 5/2 with one length scale per feature (ARD), plus white
noise. Hyperparameters are optimized in log space, `theta = [log length scales...,
log amplitude, log noise]`, under a weak log-normal prior on the length scales that
keeps a model fitted on few trials from collapsing onto one or two features.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.linalg import LinAlgError, cho_solve, cholesky

Array = NDArray[np.float64]
SQRT5 = float(np.sqrt(5.0))
JITTER = 1e-8  # keeps the factorization positive definite when points nearly coincide
LENGTH_PRIOR_CENTER, LENGTH_PRIOR_WIDTH = float(np.log(0.5)), 1.5
LENGTH_BOUNDS, AMPLITUDE_BOUNDS, NOISE_BOUNDS = (1e-2, 1e2), (1e-2, 1e2), (1e-6, 0.5)
FAILED_FIT = 1e10  # returned where the covariance is not positive definite


def initial_theta(features: int) -> Array:
    start = np.concatenate([np.full(features, 0.5), [1.0, 1e-3]])
    return np.asarray(np.log(start), dtype=np.float64)


def theta_bounds(features: int) -> Array:
    rows = [LENGTH_BOUNDS] * features + [AMPLITUDE_BOUNDS, NOISE_BOUNDS]
    return np.log(np.array(rows, dtype=np.float64))


def unpack(theta: Array) -> tuple[Array, float, float]:
    """(length scales, amplitude, noise) from log-space hyperparameters."""
    values = np.exp(theta)
    return values[:-2], float(values[-2]), float(values[-1])


def matern52(squared_distance: Array, amplitude: float) -> Array:
    distance = np.sqrt(np.maximum(squared_distance, 0.0))
    shape = 1 + SQRT5 * distance + 5 / 3 * squared_distance
    return np.asarray(amplitude * shape * np.exp(-SQRT5 * distance), dtype=np.float64)


def cross_covariance(left: Array, right: Array, theta: Array) -> Array:
    """Kernel between two sets of points, without noise."""
    length_scales, amplitude, _ = unpack(theta)
    a, b = left / length_scales, right / length_scales
    squared = np.sum(a**2, 1)[:, None] + np.sum(b**2, 1)[None, :] - 2 * a @ b.T
    return matern52(squared, amplitude)


def factorize(features: Array, theta: Array) -> Array | None:
    """Lower Cholesky factor of the training covariance (kernel + noise), or None."""
    covariance = cross_covariance(features, features, theta)
    covariance[np.diag_indices_from(covariance)] += unpack(theta)[2] + JITTER
    try:
        return np.asarray(cholesky(covariance, lower=True, check_finite=False))
    except LinAlgError:
        return None


def negative_log_likelihood(theta: Array, features: Array, targets: Array) -> tuple[float, Array]:
    """Negative log marginal likelihood plus the length-scale prior, and its gradient in
    theta: -0.5 tr((alpha alpha^T - K^-1) dK/dtheta) for each hyperparameter."""
    length_scales, amplitude, noise = unpack(theta)
    per_feature = ((features[:, None, :] - features[None, :, :]) / length_scales) ** 2
    squared = per_feature.sum(-1)
    distance = np.sqrt(squared)
    decay = np.exp(-SQRT5 * distance)
    kernel = amplitude * (1 + SQRT5 * distance + 5 / 3 * squared) * decay
    covariance = kernel + (noise + JITTER) * np.eye(len(targets))
    try:
        factor = cholesky(covariance, lower=True, check_finite=False)
    except LinAlgError:
        return FAILED_FIT, np.zeros_like(theta)
    alpha = cho_solve((factor, True), targets, check_finite=False)
    inverse = cho_solve((factor, True), np.eye(len(targets)), check_finite=False)
    weights = np.outer(alpha, alpha) - inverse
    # d kernel / d log length_k = amplitude * 5/3 (1 + sqrt5 r) exp(-sqrt5 r) * d_k^2
    slope = weights * (amplitude * 5 / 3 * (1 + SQRT5 * distance) * decay)
    gradient = np.concatenate(
        [
            -0.5 * np.einsum("ij,ijk->k", slope, per_feature),
            [-0.5 * np.sum(weights * kernel), -0.5 * noise * np.trace(weights)],
        ]
    )
    value = 0.5 * targets @ alpha + np.sum(np.log(np.diag(factor)))
    offset = (theta[:-2] - LENGTH_PRIOR_CENTER) / LENGTH_PRIOR_WIDTH
    value += 0.5 * float(np.sum(offset**2))
    gradient[:-2] += offset / LENGTH_PRIOR_WIDTH
    return float(value), gradient
