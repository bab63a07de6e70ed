"""Multi-objective (and constrained) search side by side: kubetune against Optuna 5.

Same problems (`mo_problems.py`), seeds and budgets for every method. Prints, per
problem, the median hypervolume of the feasible trials at 25/50/100 trials, win/tie/loss
of our default (`bayesian`) against each Optuna peer and against the best Optuna peer
(one-sided Mann-Whitney over seeds, p < 0.05, as in `search_quality.py`), and the time one
suggestion takes at the end of the run (mean over the last ten, median over seeds).

    python -m benchmarks.multi_objective --seeds 10 --trials 100
    python -m benchmarks.multi_objective --seeds 2 --trials 30 --problems zdt1 --jobs 1
    python -m benchmarks.multi_objective --save runs.jsonl ...   # each run as it ends
    python -m benchmarks.multi_objective --report runs.jsonl more.jsonl   # tables only

`--save` keeps every finished run, so a long benchmark split over several commands (or
cut short) still gives tables over whatever finished.
"""

from __future__ import annotations

import os

# Set before numpy loads, as in search_quality.py: BLAS threads only contend for cores.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse
import json
import time
import warnings
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
import optuna

from benchmarks.mo_problems import NAMES, MoProblem, problem
from benchmarks.report import CHECKPOINTS, verdict
from benchmarks.runners import distributions, gp_available
from kubetune.search.base import Observation
from kubetune.search.pareto import hypervolume
from kubetune.search.registry import make_suggester

OURS = ("bayesian", "tpe", "random")
OPTUNA = ("optuna-nsga2", "optuna-tpe", "optuna-gp", "optuna-random")
DEFAULT = "bayesian"
TIMED_TAIL = 10  # suggestion time is averaged over this many last trials


@dataclass(frozen=True)
class MoRun:
    objectives: list[tuple[float, ...]]
    violations: list[tuple[float, ...]]
    suggest_seconds: list[float]

    def hypervolume(self, trials: int, reference: tuple[float, ...]) -> float:
        feasible = [
            o
            for o, v in zip(self.objectives[:trials], self.violations[:trials], strict=True)
            if all(x <= 0 for x in v)
        ]
        return hypervolume(np.array(feasible).reshape(-1, len(reference)), np.array(reference))


def run_ours(name: str, task: MoProblem, seed: int, trials: int) -> MoRun:
    suggester, history, spent = make_suggester(name), [], []
    while len(history) < trials:
        started = time.perf_counter()
        params = suggester.suggest(task.space, history, [], 1, seed).assignments[0]
        spent.append(time.perf_counter() - started)
        values, violations = task.evaluate(params)
        history.append(Observation(params, values[0], values[1:], violations))
    return MoRun([o.values for o in history], [o.violations for o in history], spent)


def sampler(method: str, seed: int, constrained: bool) -> optuna.samplers.BaseSampler:
    constraints = stored_violations if constrained else None
    if method == "optuna-nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed, constraints_func=constraints)
    if method == "optuna-tpe":
        return optuna.samplers.TPESampler(seed=seed, constraints_func=constraints)
    if method == "optuna-gp":
        return optuna.samplers.GPSampler(seed=seed, constraints_func=constraints)
    return optuna.samplers.RandomSampler(seed=seed)


def stored_violations(trial: optuna.trial.FrozenTrial) -> tuple[float, ...]:
    """Optuna reads constraints after `tell`; the runner stores them on the trial first."""
    return tuple(trial.user_attrs["violations"])


def run_optuna(method: str, task: MoProblem, seed: int, trials: int) -> MoRun:
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)  # constraints_func, still served
    study = optuna.create_study(
        directions=["minimize"] * len(task.reference),
        sampler=sampler(method, seed, task.constrained),
    )
    space, run = distributions(task.space), MoRun([], [], [])
    while len(run.objectives) < trials:
        started = time.perf_counter()
        trial = study.ask(space)
        run.suggest_seconds.append(time.perf_counter() - started)
        values, violations = task.evaluate(trial.params)
        trial.set_user_attr("violations", list(violations))
        run.objectives.append(values)
        run.violations.append(violations)
        study.tell(trial, list(values))
    return run


def one_run(job: tuple[str, str, int, int]) -> tuple[str, str, int, MoRun]:
    method, name, seed, trials = job
    runner = run_ours if method in OURS else run_optuna
    return method, name, seed, runner(method, problem(name), seed, trials)


def hypervolumes(results, trials):
    """hv[problem][method] -> array (seeds, checkpoints)."""
    checkpoints = [c for c in CHECKPOINTS if c <= trials] or [trials]
    table: dict = defaultdict(lambda: defaultdict(list))
    for method, name, _, run in results:
        reference = problem(name).reference
        table[name][method].append([run.hypervolume(c, reference) for c in checkpoints])
    return checkpoints, {n: {m: np.array(v) for m, v in ms.items()} for n, ms in table.items()}


def print_hypervolumes(table, methods, checkpoints) -> None:
    for column, checkpoint in enumerate(checkpoints):
        print(f"median hypervolume at {checkpoint} trials (higher is better)")
        print(f"{'problem':16}" + "".join(f"{m:>14}" for m in methods) + f"{'ours/best':>11}")
        for name, by_method in table.items():
            medians = {m: float(np.median(v[:, column])) for m, v in by_method.items()}
            peer = best_peer(by_method, column)
            ratio = medians.get(DEFAULT, np.nan) / medians.get(peer, np.nan)
            cells = "".join(cell(medians.get(m), ".4f") for m in methods)
            print(f"{name:16}{cells}{ratio:>11.3f}  (best peer: {peer})")
        print()


def best_peer(by_method, column) -> str:
    """The Optuna method with the highest median hypervolume at this checkpoint."""
    peers = [m for m in OPTUNA if m in by_method]
    return max(peers, key=lambda m: float(np.median(by_method[m][:, column])), default="none")


def print_verdicts(table, checkpoints) -> None:
    for column, checkpoint in enumerate(checkpoints):
        for peer in ("best", *OPTUNA, "random"):
            counts, rows = defaultdict(int), []
            for name, by_method in table.items():
                other = best_peer(by_method, column) if peer == "best" else peer
                if DEFAULT not in by_method or other not in by_method:
                    continue
                result = verdict(-by_method[DEFAULT][:, column], -by_method[other][:, column])
                counts[result] += 1
                rows.append(f"{name}={result}")
            if rows:
                print(
                    f"{DEFAULT} vs {peer} at {checkpoint}: wins {counts['win']}, ties "
                    f"{counts['tie']}, losses {counts['loss']}  ({', '.join(rows)})"
                )
        print()


def print_times(results, methods) -> None:
    """Per method and problem, one suggestion at the end of the run, in milliseconds."""
    times: dict = defaultdict(lambda: defaultdict(list))
    for method, name, _, run in results:
        times[name][method].append(np.mean(run.suggest_seconds[-TIMED_TAIL:]))
    print(f"suggestion time at the end of the run (ms; mean of the last {TIMED_TAIL}, median")
    print("over seeds)")
    print(f"{'problem':16}" + "".join(f"{m:>14}" for m in methods))
    for name, by_method in times.items():
        medians = {m: 1000 * float(np.median(v)) for m, v in by_method.items()}
        print(f"{name:16}" + "".join(cell(medians.get(m), ".1f") for m in methods))


def cell(value: float | None, spec: str) -> str:
    """A table cell; '-' where a method did not run on that problem."""
    return f"{'-':>14}" if value is None else f"{value:14{spec}}"


def save(path: str, record: tuple[str, str, int, MoRun]) -> None:
    method, name, seed, run = record
    with open(path, "a") as file:
        file.write(json.dumps([method, name, seed, run.__dict__]) + "\n")


def load(paths: list[str]) -> list[tuple[str, str, int, MoRun]]:
    records = []
    for path in paths:
        with open(path) as file:
            for line in file:
                method, name, seed, run = json.loads(line)
                run["objectives"] = [tuple(o) for o in run["objectives"]]
                run["violations"] = [tuple(v) for v in run["violations"]]
                records.append((method, name, seed, MoRun(**run)))
    return records


def print_report(results, trials: int) -> None:
    methods = [m for m in OURS + OPTUNA if any(r[0] == m for r in results)]
    checkpoints, table = hypervolumes(results, trials)
    print_hypervolumes(table, methods, checkpoints)
    print_verdicts(table, checkpoints)
    print_times(results, methods)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--problems", default=",".join(NAMES))
    parser.add_argument("--methods", default=",".join(OURS + OPTUNA))
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--save", help="append each finished run to this JSON-lines file")
    parser.add_argument("--report", nargs="+", help="only print tables over saved runs")
    args = parser.parse_args()
    if args.report:
        results = load(args.report)
        print(f"runs from {' '.join(args.report)}\n")
        print_report(results, min(len(r[3].objectives) for r in results))
        return
    methods = args.methods.split(",")
    unknown = sorted(set(methods) - set(OURS + OPTUNA))
    if unknown:
        parser.error(f"unknown methods {unknown}; known: {', '.join(OURS + OPTUNA)}")
    if "optuna-gp" in methods and not gp_available():
        parser.error("optuna-gp needs torch: pip install torch")
    jobs = [  # seed by seed: a run cut short still has every problem and method
        (m, n, s, args.trials)
        for s in range(args.seeds)
        for n in args.problems.split(",")
        for m in methods
    ]
    results = []
    with ProcessPoolExecutor(args.jobs) as pool:
        for record in pool.map(one_run, jobs):
            results.append(record)
            if args.save:
                save(args.save, record)
    print(f"seeds={args.seeds} trials={args.trials}\n")
    print_report(results, args.trials)


if __name__ == "__main__":
    main()
