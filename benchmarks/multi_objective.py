"""Multi-objective (and constrained) search side by side: kubetune against Optuna 5.

Same problems (`mo_problems.py`), seeds and budgets for every method. Prints, per
problem, the median hypervolume of the feasible trials at 25/50/100 trials, win/tie/loss
of our default (`bayesian`) against each Optuna peer and against the best Optuna peer
(one-sided Mann-Whitney over seeds, p < 0.05, as in `search_quality.py`), and the time one
suggestion takes at the end of the run (mean over the last ten, median over seeds).
`bayesian-ref` is `bayesian` told the problem's reference point, as a user would set
`spec.referencePoint`; `bayesian` itself, like every Optuna peer, derives one from the
trials, and is the one judged against the peers.

    python -m benchmarks.multi_objective --seeds 10 --trials 100
    python -m benchmarks.multi_objective --seeds 2 --trials 30 --problems zdt1 --jobs 1
    python -m benchmarks.multi_objective --save runs.jsonl ...   # each run as it ends
    python -m benchmarks.multi_objective --report runs.jsonl more.jsonl   # tables only
    python -m benchmarks.multi_objective --latency 100   # one suggestion after 100 trials

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
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial

import numpy as np
import optuna
from optuna.samplers._base import _CONSTRAINTS_KEY

from benchmarks.mo_problems import NAMES, MoProblem, problem
from benchmarks.report import CHECKPOINTS, verdict
from benchmarks.runners import distributions, gp_available
from kubetune.search.base import Observation, Suggester
from kubetune.search.pareto import hypervolume
from kubetune.search.registry import make_suggester

OURS = ("bayesian", "bayesian-ref", "tpe", "random")
GIVEN = "-ref"  # our method told the benchmark's reference point, as spec.referencePoint
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


def ours(name: str, task: MoProblem) -> Suggester:
    """One of our suggesters; with the `-ref` suffix, given the problem's reference point
    (the defaults derive one from the trials, as the Optuna peers do)."""
    if name.endswith(GIVEN):
        return make_suggester(name.removesuffix(GIVEN), task.reference)
    return make_suggester(name)


def run_ours(name: str, task: MoProblem, seed: int, trials: int) -> MoRun:
    suggester, history, spent = ours(name, task), [], []
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


def hypervolumes(results):
    """hv[checkpoint][problem][method] -> hypervolume per seed, from every run that
    reached the checkpoint (runs of different lengths can be reported together)."""
    longest = max(len(run.objectives) for *_, run in results)
    checkpoints = [c for c in CHECKPOINTS if c <= longest] or [longest]
    table: dict = {c: defaultdict(lambda: defaultdict(list)) for c in checkpoints}
    for method, name, _, run in results:
        for checkpoint in (c for c in checkpoints if c <= len(run.objectives)):
            value = run.hypervolume(checkpoint, problem(name).reference)
            table[checkpoint][name][method].append(value)
    return table


def print_hypervolumes(table, methods) -> None:
    for checkpoint, by_problem in table.items():
        print(f"median hypervolume at {checkpoint} trials (higher is better)")
        print(f"{'problem':16}" + "".join(f"{m:>14}" for m in methods) + f"{'ours/best':>11}")
        for name, by_method in by_problem.items():
            medians = {m: float(np.median(v)) for m, v in by_method.items()}
            peer = best_peer(by_method)
            ratio = medians.get(DEFAULT, np.nan) / medians.get(peer, np.nan)
            cells = "".join(cell(medians.get(m), ".4f") for m in methods)
            print(f"{name:16}{cells}{ratio:>11.3f}  (best peer: {peer})")
        print()


def best_peer(by_method) -> str:
    """The Optuna method with the highest median hypervolume."""
    peers = [m for m in OPTUNA if m in by_method]
    return max(peers, key=lambda m: float(np.median(by_method[m])), default="none")


def print_verdicts(table) -> None:
    for checkpoint, by_problem in table.items():
        for peer in ("best", *OPTUNA, "random"):
            counts, rows = defaultdict(int), []
            for name, by_method in by_problem.items():
                other = best_peer(by_method) if peer == "best" else peer
                if DEFAULT not in by_method or other not in by_method:
                    continue
                ours, theirs = np.array(by_method[DEFAULT]), np.array(by_method[other])
                result = verdict(-ours, -theirs)
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
    """Saved runs; a (method, problem, seed) saved twice (overlapping commands) counts once."""
    records: dict[tuple[str, str, int], MoRun] = {}
    for path in paths:
        with open(path) as file:
            for line in file:
                method, name, seed, run = json.loads(line)
                run["objectives"] = [tuple(o) for o in run["objectives"]]
                run["violations"] = [tuple(v) for v in run["violations"]]
                records.setdefault((method, name, seed), MoRun(**run))
    return [(*key, run) for key, run in records.items()]


def print_report(results) -> None:
    methods = [m for m in OURS + OPTUNA if any(r[0] == m for r in results)]
    table = hypervolumes(results)
    print_hypervolumes(table, methods)
    print_verdicts(table)
    print_times(results, methods)


def latency(names: list[str], methods: list[str], trials: int, repeats: int = 3) -> None:
    """One suggestion after the same `trials` random trials, wall and CPU time (median
    of `repeats`): CPU time is what a loaded machine does not inflate."""
    print("load average (1, 5, 15 min): " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
    print(f"suggestion after {trials} trials: wall ms / CPU ms")
    print(f"{'problem':16}" + "".join(f"{m:>20}" for m in methods))
    for name in names:
        task = problem(name)
        sample = make_suggester("random").suggest(task.space, [], [], trials, 1).assignments
        outcomes = [task.evaluate(a) for a in sample]
        history = [
            Observation(a, v[0], v[1:], c) for a, (v, c) in zip(sample, outcomes, strict=True)
        ]
        cells = [timed(partial(ask_once, m, task, history), repeats) for m in methods]
        print(f"{name:16}" + "".join(f"{w:>12.0f} /{c:>6.0f}" for w, c in cells))


def ask_once(method: str, task: MoProblem, history: list[Observation]) -> Callable[[], object]:
    """A function doing only the suggestion, its inputs prepared outside the timing."""
    if method in OURS:
        suggester = ours(method, task)
        return lambda: suggester.suggest(task.space, history, [], 1, 0)
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.filterwarnings("ignore")
    study = optuna.create_study(
        directions=["minimize"] * len(task.reference), sampler=sampler(method, 0, task.constrained)
    )
    space = distributions(task.space)
    study.add_trials([finished_trial(o, space) for o in history])
    return lambda: study.ask(space)


def finished_trial(observation: Observation, space) -> optuna.trial.FrozenTrial:
    return optuna.trial.create_trial(
        params=observation.params,
        distributions=space,
        values=list(observation.values),
        user_attrs={"violations": list(observation.violations)},
        system_attrs={_CONSTRAINTS_KEY: list(observation.violations)},
    )


def timed(prepare: Callable[[], Callable[[], object]], repeats: int) -> tuple[float, float]:
    walls, cpus = [], []
    for _ in range(repeats):
        call = prepare()
        started, started_cpu = time.perf_counter(), time.process_time()
        call()
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - started_cpu)
    return 1000 * float(np.median(walls)), 1000 * float(np.median(cpus))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=0, help="to split seeds over runs")
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--problems", default=",".join(NAMES))
    parser.add_argument("--methods", default=",".join(OURS + OPTUNA))
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--save", help="append each finished run to this JSON-lines file")
    parser.add_argument("--report", nargs="+", help="only print tables over saved runs")
    parser.add_argument("--latency", type=int, help="only time one suggestion after N trials")
    args = parser.parse_args()
    if args.latency:
        latency(args.problems.split(","), args.methods.split(","), args.latency)
        return
    if args.report:
        results = load(args.report)
        print(f"runs from {' '.join(args.report)}\n")
        print_report(results)
        return
    methods = args.methods.split(",")
    unknown = sorted(set(methods) - set(OURS + OPTUNA))
    if unknown:
        parser.error(f"unknown methods {unknown}; known: {', '.join(OURS + OPTUNA)}")
    if "optuna-gp" in methods and not gp_available():
        parser.error("optuna-gp needs torch: pip install torch")
    jobs = [  # seed by seed: a run cut short still has every problem and method
        (m, n, s, args.trials)
        for s in range(args.first_seed, args.first_seed + args.seeds)
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
    print_report(results)


if __name__ == "__main__":
    main()
