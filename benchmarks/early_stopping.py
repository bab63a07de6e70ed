"""How much sooner early stopping finds a good configuration than full-budget random
search, and how often it wrongly stops one of the best configurations.

For every problem and seed, one queue of random configurations is replayed by every
method on simulated parallel workers (see stopping_simulation). Full-budget random
search trains the first `configs` of the queue to the end; its finishing time is the
budget. The target is the k-th best final value among those configurations, so random
search always reaches it. The rules get the same budget and the same queue, extended
`--pool-factor` times: what they save by stopping, they spend on further configurations.
Run from the repository root:

    .venv/bin/python -m benchmarks.early_stopping --seeds 5
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator

import numpy as np

from benchmarks.stopping_problems import DigitsProblem, lcbench_problem
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
    parser.add_argument("--min-resource", type=int, default=1, help="asha and hyperband")
    parser.add_argument("--pool-factor", type=int, default=4, help="queue length / configs")
    parser.add_argument("--data-path", default="../shared/data/yahpo")
    return parser.parse_args(argv)


def problems(args: argparse.Namespace) -> Iterator[tuple[str, int, int, Problem]]:
    """(family, seed, configs random search trains, problem with the extended queue)."""
    chosen, factor = args.problems.split(","), args.pool_factor
    for seed in range(args.seeds):
        if "lcbench" in chosen:
            for task in args.tasks.split(","):
                pool = args.configs * factor
                yield (
                    "lcbench",
                    seed,
                    args.configs,
                    lcbench_problem(task, pool, seed, args.data_path),
                )
        if "digits" in chosen:
            problem = DigitsProblem(args.digits_epochs, seed, args.digits_cost)
            yield "digits", seed, args.digits_configs, problem


def rule_for(method: str, problem: Problem, args: argparse.Namespace) -> StoppingRule | None:
    settings: dict[str, int] = {}
    if method in ("asha", "hyperband"):
        settings = {"max_resource": problem.max_epochs, "reduction_factor": args.reduction_factor}
        settings["min_resource"] = args.min_resource
    return make_stopping_rule("none" if method == "random" else method, **settings)


Row = dict[str, tuple[float, int, int]]


def measure(problem: Problem, configs: int, args: argparse.Namespace) -> Row:
    """Per method: (time to target, configurations started, top-k configs stopped)."""
    full = simulate(problem, None, args.workers, configs, budget=np.inf)
    finals = np.array([problem.value(i, problem.max_epochs - 1) for i in range(configs)])
    target = float(np.sort(finals)[args.top_k - 1])
    best = set(np.argsort(finals, kind="stable")[: args.top_k].tolist())
    measured = {"random": (full.time_to_reach(target), full.started, 0)}
    for method in METHODS[1:]:
        rule, pool = rule_for(method, problem, args), configs * args.pool_factor
        run = simulate(problem, rule, args.workers, pool, budget=full.reports[-1][0])
        measured[method] = (run.time_to_reach(target), run.started, len(best & run.stopped))
    return measured


def summarize(rows: list[Row], top_k: int) -> list[str]:
    lines = [
        f"{'method':<10} {'t-to-target':>12} {'speedup':>8} {'reached':>8} "
        f"{'false-prune':>11} {'configs':>8}"
    ]
    base_time = np.array([row["random"][0] for row in rows])
    for method in METHODS:
        times = np.array([row[method][0] for row in rows])
        started = np.median([row[method][1] for row in rows])
        pruned = sum(row[method][2] for row in rows) / (top_k * len(rows))
        lines.append(
            f"{method:<10} {np.median(times):>12.1f} {np.median(base_time / times):>7.2f}x "
            f"{np.isfinite(times).sum():>4}/{len(rows):<3} {pruned:>11.0%} {started:>8.0f}"
        )
    return lines


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    results: dict[str, list[Row]] = {}
    for family, seed, configs, problem in problems(args):
        row = measure(problem, configs, args)
        print(f"{problem.name} seed {seed}: {row}", file=sys.stderr, flush=True)
        results.setdefault(problem.name, []).append(row)
        if family == "lcbench":
            results.setdefault("lcbench/all", []).append(row)
    print(
        f"workers={args.workers} top_k={args.top_k} seeds={args.seeds} "
        f"configs={args.configs} digits={args.digits_configs}x{args.digits_epochs} "
        f"({args.digits_cost} cost) eta={args.reduction_factor} "
        f"min_resource={args.min_resource} pool_factor={args.pool_factor}"
    )
    for name, rows in results.items():
        print(f"\n## {name} ({len(rows)} runs)")
        print("\n".join(summarize(rows, args.top_k)))


if __name__ == "__main__":
    main()
