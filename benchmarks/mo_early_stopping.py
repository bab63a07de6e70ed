"""How much sooner MO-ASHA (random sampling with kubetune's `asha` rule judging two
objectives) reaches the hypervolume that full-budget random search reaches at its end.

For every LCBench task and seed, one queue of random configurations is replayed on
simulated parallel workers (see stopping_simulation) with two objectives from the
surrogate: validation error and the configuration's training time for the full budget
(see `lcbench_time_problem`).
Full-budget random search trains the first `configs` of the queue to the end; its
finishing time is the budget. Every report is a model one could keep, so the
hypervolume at time t is that of all (error, training time) points reported by t,
against the worst value of each objective anywhere in the queue. The target is random
search's final hypervolume. MO-ASHA and, for comparison, ASHA judging the error alone
get the same budget and the queue extended `--pool-factor` times. Run from the
repository root:

    nice -n 10 .venv/bin/python -m benchmarks.mo_early_stopping --seeds 10
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from benchmarks.stopping_problems import lcbench_time_problem
from benchmarks.stopping_simulation import Run, TabulatedProblem, simulate
from kubetune.search.pareto import hypervolume
from kubetune.search.stopping import AshaStopping, Curve
from kubetune.search.stopping.asha import rungs
from kubetune.search.stopping.base import each_against_the_others

METHODS = ("random", "asha-error", "mo-asha")
FRACTIONS = (0.1, 0.25, 0.5, 1.0)  # of the budget, where the hypervolume is printed
LEVELS = (0.99, 0.999, 1.0)  # of random's final hypervolume: the targets timed


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", default="3945,7593,34539,126025,126026,126029")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--configs", type=int, default=100, help="random search's trials")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--reduction-factor", type=int, default=3)
    parser.add_argument("--min-resource", type=int, default=1)
    parser.add_argument("--pool-factor", type=int, default=10, help="queue length / configs")
    parser.add_argument("--data-path", default="../shared/data/yahpo")
    parser.add_argument("--summarize", nargs="*", help="JSON-line logs of earlier runs")
    return parser.parse_args(argv)


def problems(args: argparse.Namespace) -> Iterator[TabulatedProblem]:
    for seed in range(args.seeds):
        for task in args.tasks.split(","):
            pool = args.configs * args.pool_factor
            yield lcbench_time_problem(task, pool, seed, args.data_path)


@dataclass(frozen=True)
class AtRungs:
    """ASHA asked only at the steps where a trial reaches a rung. Its answer cannot change
    between rungs (it judges each rung once, on arrival, and never demotes), so the
    simulation stops the same trials with a fraction of the calls."""

    rule: AshaStopping

    def should_stop(self, curve: Curve, others: Sequence[Curve]) -> bool:
        return curve.last_step in self.rungs and self.rule.should_stop(curve, others)

    def stops(self, curves: Sequence[Curve], everyone: Sequence[Curve]) -> list[bool]:
        return each_against_the_others(self, curves, everyone)

    @cached_property
    def rungs(self) -> frozenset[int]:
        asha = self.rule
        return frozenset(rungs(asha.min_resource, asha.reduction_factor, asha.max_resource))


def hypervolume_over_time(
    problem: TabulatedProblem, run: Run, reference: npt.NDArray[np.float64]
) -> list[tuple[float, float]]:
    """(time, hypervolume of every vector reported by then) at each report that moved it;
    the front is kept as it grows, so each report costs one small hypervolume at most."""
    front, steps = np.empty((0, len(reference))), [(0.0, 0.0)]
    for (time, _), trained in zip(run.reports, run.trained, strict=True):
        point = np.array(problem.objectives(*trained))
        if np.any(np.all(front <= point, axis=1)):
            continue  # dominated by, or equal to, a point already reported
        front = np.vstack([front[~np.all(point <= front, axis=1)], point])
        steps.append((time, hypervolume(front, reference)))
    return steps


def time_to_reach(steps: list[tuple[float, float]], target: float) -> float:
    return next((time for time, volume in steps if volume >= target * (1 - 1e-12)), np.inf)


def volume_at(steps: list[tuple[float, float]], time: float) -> float:
    return max(volume for at, volume in steps if at <= time)


Row = dict[str, tuple[list[float], list[float], int]]


def measure(problem: TabulatedProblem, args: argparse.Namespace) -> Row:
    """Per method: (time to each of LEVELS of random's final hypervolume, hypervolume
    over random's final one at each of FRACTIONS of the budget, configurations started)."""
    assert problem.others is not None
    every = np.concatenate([problem.values[..., None], problem.others], axis=2)
    reference = every.reshape(-1, every.shape[2]).max(axis=0)
    full = simulate(problem, None, args.workers, args.configs, budget=np.inf)
    budget, pool = full.reports[-1][0], args.configs * args.pool_factor
    rule = AtRungs(AshaStopping(args.min_resource, problem.max_epochs, args.reduction_factor))
    runs = {
        "random": full,
        "asha-error": simulate(replace(problem, others=None), rule, args.workers, pool, budget),
        "mo-asha": simulate(problem, rule, args.workers, pool, budget),
    }
    curves = {
        method: hypervolume_over_time(problem, run, reference) for method, run in runs.items()
    }
    target = curves["random"][-1][1]
    return {
        method: (
            [time_to_reach(curves[method], level * target) for level in LEVELS],
            [volume_at(curves[method], f * budget) / target for f in FRACTIONS],
            run.started,
        )
        for method, run in runs.items()
    }


def summarize(rows: list[Row]) -> list[str]:
    """Median speedup over random (a target never reached counts as 0x) and how many
    runs reached it, per target level; median hypervolume at fractions of the budget."""
    levels = " ".join(f"{f'x@{level:.1%}':>8} {'reached':>7}" for level in LEVELS)
    fractions = " ".join(f"{f'hv@{f:.0%}':>7}" for f in FRACTIONS)
    lines = [f"{'method':<11} {levels} {fractions} {'configs':>7}"]
    base = np.array([row["random"][0] for row in rows])
    for method in METHODS:
        times = np.array([row[method][0] for row in rows])
        speedups, reached = np.median(base / times, axis=0), np.isfinite(times).sum(axis=0)
        volumes = np.median([row[method][1] for row in rows], axis=0)
        lines.append(
            f"{method:<11} "
            + " ".join(
                f"{x:>7.2f}x {r:>3}/{len(rows):<3}" for x, r in zip(speedups, reached, strict=True)
            )
            + " "
            + " ".join(f"{volume:>7.3f}" for volume in volumes)
            + f" {np.median([row[method][2] for row in rows]):>7.0f}"
        )
    return lines


def main(argv: list[str] | None = None) -> None:
    """Print one JSON line per run on stderr and the tables on stdout; with --summarize,
    the tables of runs saved from such lines (split runs over processes, then merge)."""
    args = parse_args(argv)
    if args.summarize:
        texts = [Path(path).read_text() for path in args.summarize]
        runs = [json.loads(line) for text in texts for line in text.splitlines() if line]
    else:
        runs = []
        for problem in problems(args):
            runs.append({"problem": problem.name, "row": measure(problem, args)})
            print(json.dumps(runs[-1]), file=sys.stderr, flush=True)
    print(
        f"objectives: validation error (%), full-budget training time (s); workers={args.workers} "
        f"configs={args.configs} pool_factor={args.pool_factor} "
        f"eta={args.reduction_factor} min_resource={args.min_resource}"
    )
    print_tables(runs)


def print_tables(runs: list[dict[str, Any]]) -> None:
    grouped: dict[str, list[Row]] = {"lcbench/all": [run["row"] for run in runs]}
    for run in runs:
        grouped.setdefault(run["problem"], []).append(run["row"])
    for name, rows in grouped.items():
        print(f"\n## {name} ({len(rows)} runs)")
        print("\n".join(summarize(rows)))


if __name__ == "__main__":
    main()
