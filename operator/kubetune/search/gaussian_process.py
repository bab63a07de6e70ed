"""The surrogate model of the bayesian suggester: a Gaussian process and its acquisition.

- Matern 5/2 with one length scale per feature, times a constant, plus white noise: the
  noise term absorbs seed-to-seed variation of real training runs.
- Values are warped before fitting: everything above the median is compressed by log1p
  (in units of the spread), so one diverged trial cannot flatten the model's view of the
  good region; below the median the scale is kept, so the model still ranks good trials.
- Hyperparameters are fitted by L-BFGS with a capped number of iterations: each
  suggestion refits from scratch (suggesters are stateless), so the fit must be cheap.
- Expected improvement is computed in log form, stable far from the incumbent where EI
  itself underflows to zero and a plain argmax would pick at random.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize
from scipy.special import erfcx, log_ndtr
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Kernel, Matern, WhiteKernel

Array = NDArray[np.float64]
FIT_ITERATIONS = 25
LOG_SQRT_2PI = 0.5 * np.log(2 * np.pi)


def warp_values(values: Array) -> Array:
    median = float(np.median(values))
    spread = float(np.subtract(*np.percentile(values, [75, 25]))) or float(np.std(values)) or 1.0
    scaled = (values - median) / spread
    return np.where(scaled > 0, np.log1p(np.maximum(scaled, 0.0)), scaled)


def _capped_lbfgs(objective: Any, initial: Array, bounds: Array) -> tuple[Array, float]:
    result = minimize(
        objective,
        initial,
        method="L-BFGS-B",
        jac=True,
        bounds=bounds,
        options={"maxiter": FIT_ITERATIONS},
    )
    return np.asarray(result.x, dtype=np.float64), float(result.fun)


def default_kernel(features: int) -> Kernel:
    matern = Matern(length_scale=np.full(features, 0.5), length_scale_bounds=(1e-2, 1e2), nu=2.5)
    amplitude = ConstantKernel(1.0, constant_value_bounds=(1e-2, 1e2))
    return amplitude * matern + WhiteKernel(1e-3, noise_level_bounds=(1e-6, 0.5))


def fit_process(features: Array, targets: Array, kernel: Kernel | None = None) -> Any:
    """Fits hyperparameters, or only conditions on the data when `kernel` is given
    (the fitted kernel reused for believed pending points)."""
    model = GaussianProcessRegressor(
        kernel=kernel if kernel is not None else default_kernel(features.shape[1]),
        optimizer=None if kernel is not None else _capped_lbfgs,
        normalize_y=True,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(features, targets)
    return model


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
