"""Search quality side by side: kubetune's suggesters against Optuna's samplers.

Same problems, seeds and budgets for every method, in one process. Prints, per problem,
the median normalized regret at 25/50/100 trials, win/tie/loss of our default
(`bayesian`) against Optuna TPE and against random search (one-sided Mann-Whitney over
seeds, p < 0.05), and the time spent suggesting per trial.

    python -m benchmarks.search_quality --seeds 5 --trials 100
    python -m benchmarks.search_quality --seeds 2 --trials 30 --problems branin,mixed
    python -m benchmarks.search_quality --batch 4 --methods bayesian,tpe,optuna-tpe,random

Normalized regret = (best so far - optimum) / (median of random values - optimum); the
optimum of a real task is the best value any run or the random sample ever reached.
"""

from __future__ import annotations

import os

# Set before numpy loads: the matrices are small, so BLAS threads only contend for cores
# (several times slower measured on 2 shared cores); the operator is run the same way.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from benchmarks.ml_tasks import ML_TASKS
from benchmarks.problems import SYNTHETIC
from benchmarks.report import print_report
from benchmarks.runners import OPTUNA, OURS, Run, gp_available, run_method
from kubetune.search.registry import make_suggester

PROBLEMS = {p.name: p for p in SYNTHETIC + ML_TASKS}
REFERENCE_SAMPLES = 256


def reference_value(name: str) -> tuple[float, float]:
    """(median, min) of the objective over uniform random points."""
    problem = PROBLEMS[name]
    sample = make_suggester("random").suggest(problem.space, [], [], REFERENCE_SAMPLES, 12345)
    values = [problem.evaluate(a) for a in sample.assignments]
    return float(np.median(values)), float(np.min(values))


def one_run(job: tuple[str, str, int, int, int]) -> tuple[str, str, int, Run]:
    method, name, seed, trials, batch = job
    return method, name, seed, run_method(method, PROBLEMS[name], seed, trials, batch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--problems", default=",".join(PROBLEMS))
    parser.add_argument("--methods", default=",".join(OURS + OPTUNA))
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    methods = args.methods.split(",")
    unknown = sorted(set(methods) - set(OURS + OPTUNA))
    if unknown:  # an unknown name would otherwise run as Optuna's random sampler
        parser.error(f"unknown methods {unknown}; known: {', '.join(OURS + OPTUNA)}")
    if "optuna-gp" in methods and not gp_available():
        print("optuna-gp: UNAVAILABLE (GPSampler needs torch, which is not installed)\n")
        methods.remove("optuna-gp")
    names = args.problems.split(",")
    jobs = [
        (m, n, s, args.trials, args.batch)
        for n in names
        for m in methods
        for s in range(args.seeds)
    ]
    with ProcessPoolExecutor(args.jobs) as pool:
        results = list(pool.map(one_run, jobs))
        references = dict(zip(names, pool.map(reference_value, names), strict=True))
    print(f"seeds={args.seeds} trials={args.trials} batch={args.batch}\n")
    print_report(results, references, {n: PROBLEMS[n].optimum for n in names}, methods)


if __name__ == "__main__":
    main()
