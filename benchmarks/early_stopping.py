"""How much sooner early stopping finds a good configuration than full-budget random
search, and how often it wrongly stops one of the best configurations.

For every problem and seed, one queue of random configurations is replayed by every
method on simulated parallel workers (see stopping_simulation). The target is the k-th
best final value in the queue: full-budget random search always reaches it, and a rule
that reaches it sooner has saved that much time. Run from the repository root:

    .venv/bin/python -m benchmarks.early_stopping --seeds 5
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator

import numpy as np

from benchmarks.stopping_problems import digits_problem, lcbench_problem
from benchmarks.stopping_simulation import Problem, simulate
from kubetune.search.stopping import StoppingRule, make_stopping_rule

METHODS = ("random", "median", "asha", "hyperband")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--problems", default="lcbench,digits")
    parser.add_argument("--tasks", default="3945,7593,34539,126025,126026,126029")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--configs", type=int, default=100, help="LCBench queue length")
    parser.add_argument("--digits-configs", type=int, default=40)
    parser.add_argument("--digits-epochs", type=int, default=20)
    parser.add_argument("--digits-cost", choices=["epochs", "wall"], default="epochs")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--top-k", type=int, default=3, help="target rank and false-prune set")
    parser.add_argument("--reduction-factor", type=int, default=3)
    parser.add_argument("--data-path", default="../shared/data/yahpo")
    return parser.parse_args(argv)


def problems(args: argparse.Namespace) -> Iterator[tuple[str, int, Problem]]:
    chosen = args.problems.split(",")
    for seed in range(args.seeds):
        if "lcbench" in chosen:
            for task in args.tasks.split(","):
                yield "lcbench", seed, lcbench_problem(task, args.configs, seed, args.data_path)
        if "digits" in chosen:
            problem = digits_problem(
                args.digits_configs, args.digits_epochs, seed, args.digits_cost
            )
            yield "digits", seed, problem


def rule_for(method: str, problem: Problem, args: argparse.Namespace) -> StoppingRule | None:
    settings: dict[str, int] = {}
    if method in ("asha", "hyperband"):
        settings = {"max_resource": problem.max_epochs, "reduction_factor": args.reduction_factor}
    return make_stopping_rule("none" if method == "random" else method, **settings)


def measure(problem: Problem, args: argparse.Namespace) -> dict[str, tuple[float, float, int]]:
    """Per method: (time to target, time to finish the queue, top-k configs stopped)."""
    finals = problem.values[:, -1]
    target = float(np.sort(finals)[args.top_k - 1])
    best = set(np.argsort(finals, kind="stable")[: args.top_k].tolist())
    measured = {}
    for method in METHODS:
        run = simulate(problem, rule_for(method, problem, args), args.workers)
        finish = run.reports[-1][0]
        measured[method] = (run.time_to_reach(target), finish, len(best & run.stopped))
    return measured


def summarize(rows: list[dict[str, tuple[float, float, int]]], top_k: int) -> list[str]:
    lines = [
        f"{'method':<10} {'t-to-target':>12} {'speedup':>8} {'reached':>8} "
        f"{'false-prune':>11} {'queue time':>10}"
    ]
    base_time = np.array([row["random"][0] for row in rows])
    base_finish = np.array([row["random"][1] for row in rows])
    for method in METHODS:
        times = np.array([row[method][0] for row in rows])
        finish = np.array([row[method][1] for row in rows])
        pruned = sum(row[method][2] for row in rows) / (top_k * len(rows))
        lines.append(
            f"{method:<10} {np.median(times):>12.1f} {np.median(base_time / times):>7.2f}x "
            f"{np.isfinite(times).sum():>4}/{len(rows):<3} {pruned:>11.0%} "
            f"{np.median(finish / base_finish):>10.0%}"
        )
    return lines


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    results: dict[str, list[dict[str, tuple[float, float, int]]]] = {}
    for family, seed, problem in problems(args):
        row = measure(problem, args)
        print(f"{problem.name} seed {seed}: {row}", file=sys.stderr, flush=True)
        results.setdefault(problem.name, []).append(row)
        if family == "lcbench":
            results.setdefault("lcbench/all", []).append(row)
    print(
        f"workers={args.workers} top_k={args.top_k} seeds={args.seeds} "
        f"configs={args.configs} digits={args.digits_configs}x{args.digits_epochs} "
        f"({args.digits_cost} cost) eta={args.reduction_factor}"
    )
    for name, rows in results.items():
        print(f"\n## {name} ({len(rows)} runs)")
        print("\n".join(summarize(rows, args.top_k)))


if __name__ == "__main__":
    main()
