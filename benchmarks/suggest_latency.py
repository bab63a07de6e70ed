"""How long one suggestion takes as history grows: 10, 100 and 1000 finished trials in
10 dimensions, for every kubetune algorithm next to Optuna TPE on the same history.

Target: under 200 ms at 1000 trials for every algorithm. The Gaussian process windows
its history to `max_history` (300) trials - the best 150 plus a seeded sample of the
rest - fits its hyperparameters on 60 of those (capped L-BFGS, analytic gradient) and
conditions on the 300 with one Cholesky factorization, so its cost stops growing.
Wall and CPU time are both printed, with the machine's load, since a shared machine
inflates wall time.

    python -m benchmarks.suggest_latency [--repeats 3] [--sizes 10,100,1000]
"""

from __future__ import annotations

import os

# Set before numpy loads: the matrices are small, so BLAS threads only contend for cores
# (several times slower measured on 2 shared cores); the operator is run the same way.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse
import time

import numpy as np
import optuna

from benchmarks.runners import distributions
from kubetune.search.base import Observation
from kubetune.search.registry import ALGORITHMS, make_suggester
from kubetune.search.space import FloatParam, SearchSpace

SPACE = SearchSpace(tuple(FloatParam(f"x{i}", -5.0, 5.0) for i in range(10)))


def history(size: int) -> list[Observation]:
    points = make_suggester("random").suggest(SPACE, [], [], size, seed=1).assignments
    return [Observation(p, float(sum(float(v) ** 2 for v in p.values()))) for p in points]


def time_ours(name: str, finished: list[Observation], repeats: int) -> tuple[float, float]:
    """Median (wall, CPU) seconds: CPU time shows the cost on a machine shared with
    other work, where wall time also counts waiting for a core."""
    suggester, walls, cpus = make_suggester(name), [], []
    for seed in range(repeats):
        started, started_cpu = time.perf_counter(), time.process_time()
        suggester.suggest(SPACE, finished, [], 1, seed)
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - started_cpu)
    return float(np.median(walls)), float(np.median(cpus))


def time_optuna_tpe(finished: list[Observation], repeats: int) -> float:
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    space, times = distributions(SPACE), []
    for seed in range(repeats):
        study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed))
        study.add_trials(
            [
                optuna.trial.create_trial(params=o.params, distributions=space, value=o.value)
                for o in finished
            ]
        )
        started = time.perf_counter()
        study.ask(space)
        times.append(time.perf_counter() - started)
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sizes", default="10,100,1000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print("load average (1, 5, 15 min): " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
    print(
        f"{'algorithm':12}{'trials':>8}{'ours ms':>10}{'ours cpu ms':>13}"
        f"{'optuna-tpe ms':>15}{'ratio':>8}"
    )
    for size in sizes:
        finished = history(size)
        peer = time_optuna_tpe(finished, args.repeats)
        for name in ALGORITHMS:
            ours, cpu = time_ours(name, finished, args.repeats)
            flag = "" if ours < 0.2 else "  over 200 ms"
            print(
                f"{name:12}{size:8}{1000 * ours:10.1f}{1000 * cpu:13.1f}"
                f"{1000 * peer:15.1f}{ours / peer:8.2f}{flag}"
            )


if __name__ == "__main__":
    main()
