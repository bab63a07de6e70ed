"""Runs one optimizer on one problem: kubetune suggesters and Optuna samplers alike.

Both sides get the same problem, seed and trial budget, and are timed the same way (wall
time spent choosing the next parameters, not evaluating them), so the figures printed
side by side are comparable. A batch size above 1 asks for that many suggestions per
round before any of them is evaluated, as parallel trials would.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import optuna

from benchmarks.problems import Problem
from kubetune.search.base import Observation
from kubetune.search.registry import make_suggester
from kubetune.search.space import CategoricalParam, DiscreteParam, FloatParam, SearchSpace

OURS = ("bayesian", "tpe", "evolution", "sobol", "random")
OPTUNA = ("optuna-tpe", "optuna-gp", "optuna-cmaes", "optuna-random")


@dataclass(frozen=True)
class Run:
    values: list[float]  # objective of each trial, in order
    suggest_seconds: float


def gp_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def run_method(method: str, problem: Problem, seed: int, trials: int, batch: int) -> Run:
    if method in OURS:
        return run_ours(method, problem, seed, trials, batch)
    return run_optuna(method, problem, seed, trials, batch)


def run_ours(name: str, problem: Problem, seed: int, trials: int, batch: int) -> Run:
    suggester, history, spent = make_suggester(name), [], 0.0
    while len(history) < trials:
        started = time.perf_counter()
        wanted = min(batch, trials - len(history))
        assignments = suggester.suggest(problem.space, history, [], wanted, seed).assignments
        spent += time.perf_counter() - started
        history += [Observation(a, problem.evaluate(a)) for a in assignments]
    return Run([o.value for o in history], spent)


def sampler(method: str, seed: int) -> optuna.samplers.BaseSampler:
    if method == "optuna-tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if method == "optuna-gp":
        return optuna.samplers.GPSampler(seed=seed)
    if method == "optuna-cmaes":
        return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)
    return optuna.samplers.RandomSampler(seed=seed)


def distributions(space: SearchSpace) -> dict[str, optuna.distributions.BaseDistribution]:
    result: dict[str, optuna.distributions.BaseDistribution] = {}
    for p in space.params:
        if isinstance(p, FloatParam):
            result[p.name] = optuna.distributions.FloatDistribution(p.low, p.high, log=p.log)
        elif isinstance(p, CategoricalParam):
            result[p.name] = optuna.distributions.CategoricalDistribution(p.choices)
        elif isinstance(p, DiscreteParam):
            result[p.name] = optuna.distributions.CategoricalDistribution(p.values)
        else:
            step = None if p.log else p.step
            result[p.name] = optuna.distributions.IntDistribution(p.low, p.high, p.log, step or 1)
    return result


def run_optuna(method: str, problem: Problem, seed: int, trials: int, batch: int) -> Run:
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    study = optuna.create_study(sampler=sampler(method, seed))
    space, values, spent = distributions(problem.space), [], 0.0
    while len(values) < trials:
        started = time.perf_counter()
        asked = [study.ask(space) for _ in range(min(batch, trials - len(values)))]
        spent += time.perf_counter() - started
        for trial in asked:
            values.append(problem.evaluate(trial.params))
            study.tell(trial, values[-1])
    return Run(values, spent)
