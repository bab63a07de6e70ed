"""The bayesian suggester's own numerics: likelihood gradient, posterior, candidates."""

from __future__ import annotations

import numpy as np
from scipy.optimize import approx_fprime

from kubetune.search.candidates import axis_moves
from kubetune.search.gaussian_process import fit_process
from kubetune.search.matern import initial_theta, negative_log_likelihood
from kubetune.search.space import FloatParam, SearchSpace
from kubetune.search.transform import SpaceTransform


def smooth_sample(count: int, dims: int) -> tuple[np.ndarray, np.ndarray]:
    points = np.random.default_rng(0).random((count, dims))
    return points, np.sin(4 * points).sum(1)


def test_likelihood_gradient_matches_finite_differences() -> None:
    points, values = smooth_sample(20, 3)
    standardized = (values - values.mean()) / values.std()
    theta = initial_theta(3) + np.random.default_rng(1).normal(0, 0.3, 5)
    _, gradient = negative_log_likelihood(theta, points, standardized)
    numeric = approx_fprime(
        theta, lambda t: negative_log_likelihood(t, points, standardized)[0], 1e-6
    )
    assert np.allclose(gradient, numeric, rtol=1e-3, atol=1e-4)


def test_posterior_fits_the_data_and_is_unsure_far_from_it() -> None:
    points, values = smooth_sample(30, 2)
    model = fit_process(points, values)
    mean, std = model.predict(points)
    assert np.max(np.abs(mean - values)) < 0.05 * np.ptp(values)
    _, far_std = model.predict(np.array([[3.0, 3.0]]))
    assert far_std[0] > 5 * np.max(std)


def test_duplicate_points_still_condition() -> None:
    points = np.vstack([np.full((5, 2), 0.5), np.random.default_rng(0).random((5, 2))])
    values = np.arange(10.0)
    mean, std = fit_process(points, values).predict(points)
    assert np.all(np.isfinite(mean)) and np.all(std > 0)


def test_axis_moves_change_exactly_one_coordinate() -> None:
    space = SearchSpace(tuple(FloatParam(f"x{i}", 0.0, 1.0) for i in range(4)))
    start = np.full((64, 4), 0.5)
    moved = axis_moves(SpaceTransform(space), start, np.random.default_rng(0))
    assert np.all(np.sum(~np.isclose(moved, start), axis=1) == 1)
