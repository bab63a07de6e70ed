"""Multi-objective test problems for `multi_objective.py`, every objective minimized.

- ZDT1 and ZDT2 (convex and concave two-objective fronts) in 6 dimensions;
- DTLZ2 with three objectives (a spherical front) in 6 dimensions;
- Branin-Currin with a disc constraint (two objectives, one constraint; about 30% of
  the square is infeasible, and two of Branin's three minima lie outside the disc);
- LCBench (YAHPO Gym surrogate of real MLP training): validation error (%) against
  training time (s) after 52 epochs, one OpenML task.
Reference points: the usual ones from the literature for the synthetic problems; for
LCBench, the worst value of each objective over 256 uniform random configurations.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from benchmarks.problems import box, vector
from kubetune.search.space import Assignment, FloatParam, IntParam, SearchSpace

Outcome = tuple[tuple[float, ...], tuple[float, ...]]  # (objectives, violations)
DATA_PATH = "../shared/data/yahpo"
LCBENCH_TASK = "3945"
LCBENCH_EPOCHS = 52


@dataclass(frozen=True)
class MoProblem:
    name: str
    space: SearchSpace
    evaluate: Callable[[Assignment], Outcome]
    reference: tuple[float, ...]
    constrained: bool = False


def zdt(shape: Callable[[float, float], float]) -> Callable[[Assignment], Outcome]:
    def evaluate(params: Assignment) -> Outcome:
        x = vector(params)
        g = 1.0 + 9.0 * float(np.mean(x[1:]))
        return (float(x[0]), g * shape(float(x[0]), g)), ()

    return evaluate


def dtlz2(params: Assignment) -> Outcome:
    x = vector(params)
    radius = 1.0 + float(np.sum((x[2:] - 0.5) ** 2))
    a, b = x[0] * np.pi / 2, x[1] * np.pi / 2
    objectives = (np.cos(a) * np.cos(b), np.cos(a) * np.sin(b), np.sin(a))
    return tuple(float(radius * f) for f in objectives), ()


def dtlz2_skew(params: Assignment) -> Outcome:
    """DTLZ2 with its third objective stretched, exp(3 f3) - 1: the same front, a long
    tail in one objective (like a latency that can blow up)."""
    (first, second, third), _ = dtlz2(params)
    return (first, second, float(np.expm1(3.0 * third))), ()


def branin_currin(params: Assignment) -> Outcome:
    """On the unit square; feasible inside a disc of radius sqrt(50) around (2.5, 7.5) in
    Branin's coordinates (the constrained Branin-Currin of the BO literature)."""
    u, v = float(params["x0"]), float(params["x1"])
    x, y = 15 * u - 5, 15 * v
    branin = (y - 5.1 / (4 * np.pi**2) * x**2 + 5 / np.pi * x - 6) ** 2
    branin += 10 * (1 - 1 / (8 * np.pi)) * np.cos(x) + 10
    ratio = (2300 * u**3 + 1900 * u**2 + 2092 * u + 60) / (100 * u**3 + 500 * u**2 + 4 * u + 20)
    currin = (1 - np.exp(-1 / (2 * max(v, 1e-9)))) * ratio
    violation = (x - 2.5) ** 2 + (y - 7.5) ** 2 - 50.0
    return (float(branin), float(currin)), (float(violation),)


LCBENCH_SPACE = SearchSpace(
    (
        IntParam("batch_size", 16, 512, log=True),
        FloatParam("learning_rate", 1e-4, 1e-1, log=True),
        FloatParam("max_dropout", 0.0, 1.0),
        IntParam("max_units", 64, 1024, log=True),
        FloatParam("momentum", 0.1, 0.99),
        IntParam("num_layers", 1, 5),
        FloatParam("weight_decay", 1e-5, 0.1),
    )
)


@cache
def lcbench() -> Any:
    from yahpo_gym import benchmark_set, local_config

    local_config.init_config()
    local_config.set_data_path(DATA_PATH)
    with contextlib.redirect_stdout(io.StringIO()):  # a citation notice on every load
        return benchmark_set.BenchmarkSet("lcbench", instance=LCBENCH_TASK)


def lcbench_outcome(params: Assignment) -> Outcome:
    query = {**params, "OpenML_task_id": LCBENCH_TASK, "epoch": LCBENCH_EPOCHS}
    result = lcbench().objective_function(query)[0]
    return (100.0 - float(result["val_accuracy"]), float(result["time"])), ()


@cache
def lcbench_reference() -> tuple[float, ...]:
    from kubetune.search.registry import make_suggester

    sample = make_suggester("random").suggest(LCBENCH_SPACE, [], [], 256, 12345).assignments
    outcomes = np.array([lcbench_outcome(a)[0] for a in sample])
    return tuple(float(v) for v in outcomes.max(axis=0))


def problem(name: str) -> MoProblem:
    """Problems are built on demand: LCBench loads a surrogate model."""
    if name == "lcbench":
        return MoProblem(name, LCBENCH_SPACE, lcbench_outcome, lcbench_reference())
    return SYNTHETIC.get(name) or EXTRA[name]


SYNTHETIC = {
    "zdt1": MoProblem("zdt1", box(6, 0, 1), zdt(lambda f, g: 1 - np.sqrt(f / g)), (11.0, 11.0)),
    "zdt2": MoProblem("zdt2", box(6, 0, 1), zdt(lambda f, g: 1 - (f / g) ** 2), (11.0, 11.0)),
    "dtlz2": MoProblem("dtlz2", box(6, 0, 1), dtlz2, (1.1, 1.1, 1.1)),
    "branin-currin": MoProblem("branin-currin", box(2, 0, 1), branin_currin, (80.0, 12.0), True),
}
NAMES = (*SYNTHETIC, "lcbench")  # the suite; EXTRA runs only when named in --problems
EXTRA = {
    "dtlz2-skew": MoProblem(
        "dtlz2-skew", box(6, 0, 1), dtlz2_skew, (1.1, 1.1, float(np.expm1(3.3)))
    )
}
