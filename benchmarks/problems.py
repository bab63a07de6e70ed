"""Synthetic test functions for the search-quality benchmark, with known optima.

Standard global-optimization functions (Branin, Hartmann, Rosenbrock, Ackley, Levy,
Styblinski-Tang) plus one mixed int/categorical function and one with listed (discrete)
values, since real tuning spaces are rarely all-continuous. Each is minimized over its usual domain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from kubetune.search.space import (
    Assignment,
    CategoricalParam,
    DiscreteParam,
    FloatParam,
    IntParam,
    SearchSpace,
)


@dataclass(frozen=True)
class Problem:
    name: str
    space: SearchSpace
    evaluate: Callable[[Assignment], float]
    optimum: float | None  # None: estimated as the best value any run ever saw


def box(dims: int, low: float, high: float) -> SearchSpace:
    return SearchSpace(tuple(FloatParam(f"x{i}", low, high) for i in range(dims)))


def vector(params: Assignment) -> np.ndarray:
    return np.array([float(params[f"x{i}"]) for i in range(len(params))])


def branin(p: Assignment) -> float:
    x, y = float(p["x0"]), float(p["x1"])
    b, c, t = 5.1 / (4 * np.pi**2), 5 / np.pi, 1 / (8 * np.pi)
    return float((y - b * x**2 + c * x - 6) ** 2 + 10 * (1 - t) * np.cos(x) + 10)


HARTMANN_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
HARTMANN3_A = np.array([[3, 10, 30], [0.1, 10, 35], [3, 10, 30], [0.1, 10, 35]])
HARTMANN3_P = 1e-4 * np.array(
    [[3689, 1170, 2673], [4699, 4387, 7470], [1091, 8732, 5547], [381, 5743, 8828]]
)
HARTMANN6_A = np.array(
    [
        [10, 3, 17, 3.5, 1.7, 8],
        [0.05, 10, 17, 0.1, 8, 14],
        [3, 3.5, 1.7, 10, 17, 8],
        [17, 8, 0.05, 10, 0.1, 14],
    ]
)
HARTMANN6_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
)


def hartmann(a: np.ndarray, p: np.ndarray) -> Callable[[Assignment], float]:
    def evaluate(params: Assignment) -> float:
        x = vector(params)
        return float(-HARTMANN_ALPHA @ np.exp(-np.sum(a * (x - p) ** 2, axis=1)))

    return evaluate


def rosenbrock(p: Assignment) -> float:
    x = vector(p)
    return float(np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2))


def ackley(p: Assignment) -> float:
    x = vector(p)
    first = -20 * np.exp(-0.2 * np.sqrt(np.mean(x**2)))
    return float(first - np.exp(np.mean(np.cos(2 * np.pi * x))) + 20 + np.e)


def levy(p: Assignment) -> float:
    w = 1 + (vector(p) - 1) / 4
    middle = np.sum((w[:-1] - 1) ** 2 * (1 + 10 * np.sin(np.pi * w[:-1] + 1) ** 2))
    last = (w[-1] - 1) ** 2 * (1 + np.sin(2 * np.pi * w[-1]) ** 2)
    return float(np.sin(np.pi * w[0]) ** 2 + middle + last)


def styblinski_tang(p: Assignment) -> float:
    x = vector(p)
    return float(0.5 * np.sum(x**4 - 16 * x**2 + 5 * x))


MIXED_SPACE = SearchSpace(
    (
        FloatParam("lr", 1e-4, 1.0, log=True),
        IntParam("layers", 1, 8),
        IntParam("width", 8, 1024, log=True),
        CategoricalParam("activation", ("relu", "tanh", "sigmoid", "gelu")),
    )
)
ACTIVATION_PENALTY = {"relu": 0.3, "tanh": 0.6, "sigmoid": 1.2, "gelu": 0.0}


def mixed(p: Assignment) -> float:
    """A network-shaped toy: best near lr=1e-2, 4 layers, width 256, gelu."""
    lr_term = (np.log10(float(p["lr"])) + 2) ** 2
    depth_term = 0.2 * (int(p["layers"]) - 4) ** 2
    width_term = 0.5 * (np.log2(int(p["width"])) - 8) ** 2 / 4
    return float(lr_term + depth_term + width_term + ACTIVATION_PENALTY[str(p["activation"])])


LISTED_SPACE = SearchSpace(
    (
        FloatParam("lr", 1e-5, 1e-1, log=True),
        DiscreteParam("batch", tuple(2.0**k for k in range(4, 11))),
        DiscreteParam("warmup", (0.0, 100.0, 300.0, 1000.0, 3000.0, 10000.0)),
        DiscreteParam("dropout", (0.0, 0.1, 0.2, 0.3, 0.5)),
    )
)


def listed(p: Assignment) -> float:
    """Best near lr=1e-3, batch 32, warmup 3000, dropout 0.2: optima at both ends of
    geometric lists and in the middle of an even one."""
    lr_term = (np.log10(float(p["lr"])) + 3) ** 2
    batch_term = 0.3 * (np.log2(float(p["batch"])) - 5) ** 2
    warmup_term = (np.log10(float(p["warmup"]) + 100) - np.log10(3100)) ** 2
    return float(lr_term + batch_term + warmup_term + 8 * (float(p["dropout"]) - 0.2) ** 2)


SYNTHETIC = [
    Problem(
        "branin", SearchSpace((FloatParam("x0", -5, 10), FloatParam("x1", 0, 15))), branin, 0.397887
    ),
    Problem("hartmann3", box(3, 0, 1), hartmann(HARTMANN3_A, HARTMANN3_P), -3.86278),
    Problem("hartmann6", box(6, 0, 1), hartmann(HARTMANN6_A, HARTMANN6_P), -3.32237),
    Problem("rosenbrock4", box(4, -5, 10), rosenbrock, 0.0),
    Problem("ackley5", box(5, -32.768, 32.768), ackley, 0.0),
    Problem("levy4", box(4, -10, 10), levy, 0.0),
    Problem("styblinski4", box(4, -5, 5), styblinski_tang, -39.16617 * 4),
    Problem("mixed", MIXED_SPACE, mixed, 0.0),
    Problem("listed", LISTED_SPACE, listed, 0.0),
]
