"""Tables for the search-quality benchmark: regret, significance, suggestion time."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from scipy.stats import mannwhitneyu

from benchmarks.runners import Run

CHECKPOINTS = (25, 50, 100)
DEFAULT, PEER, BASELINE = "bayesian", "optuna-tpe", "random"
GP_PEER = "optuna-gp"  # compared against too whenever it ran (it needs torch)


def regrets(results, references, optima):
    """regret[problem][method] -> array (seeds, trials) of normalized regret."""
    best_seen = defaultdict(lambda: np.inf)
    for _, name, _, run in results:
        best_seen[name] = min(best_seen[name], *run.values)
    table: dict = defaultdict(lambda: defaultdict(list))
    for method, name, _, run in results:
        median, lowest = references[name]
        optimum = optima[name] if optima[name] is not None else min(best_seen[name], lowest)
        curve = np.minimum.accumulate(np.array(run.values))
        table[name][method].append(np.maximum(curve - optimum, 0) / (median - optimum))
    return {n: {m: np.array(v) for m, v in ms.items()} for n, ms in table.items()}


def verdict(ours: np.ndarray, theirs: np.ndarray) -> str:
    """Mann-Whitney needs no equal sample sizes: runs cut short may have fewer seeds."""
    if ours.shape == theirs.shape and np.allclose(ours, theirs):
        return "tie"
    if mannwhitneyu(ours, theirs, alternative="less").pvalue < 0.05:
        return "win"
    if mannwhitneyu(ours, theirs, alternative="greater").pvalue < 0.05:
        return "loss"
    return "tie"


def ratio_cell(ours: float | None, peer: float | None) -> str:
    """Our median over the peer's; a peer at zero regret gives no finite ratio."""
    if ours is None or peer is None:
        return "-"
    if peer < 1e-12:
        return "both 0" if ours < 1e-12 else "peer 0"
    return f"{ours / peer:.2f}"


def print_regret_table(table, methods, checkpoint) -> None:
    print(f"median normalized regret at {checkpoint} trials (lower is better)")
    print(f"{'problem':22}" + "".join(f"{m:>14}" for m in methods) + f"{'ours/TPE':>10}")
    for name, by_method in table.items():
        medians = {m: float(np.median(by_method[m][:, checkpoint - 1])) for m in methods}
        cells = "".join(f"{medians[m]:14.4f}" for m in methods)
        print(f"{name:22}{cells}{ratio_cell(medians.get(DEFAULT), medians.get(PEER)):>10}")
    print()


def print_verdicts(table, checkpoint, peer) -> None:
    counts = defaultdict(int)
    rows = []
    for name, by_method in table.items():
        if DEFAULT in by_method and peer in by_method:
            result = verdict(
                by_method[DEFAULT][:, checkpoint - 1], by_method[peer][:, checkpoint - 1]
            )
            counts[result] += 1
            rows.append(f"{name}={result}")
    if not rows:
        return
    print(
        f"{DEFAULT} vs {peer} at {checkpoint}: wins {counts['win']}, ties {counts['tie']}, "
        f"losses {counts['loss']}  ({', '.join(rows)})"
    )


def print_times(results, methods) -> None:
    per_trial = defaultdict(list)
    for method, _, _, run in results:
        per_trial[method].append(run.suggest_seconds / len(run.values))
    peer = np.mean(per_trial[PEER]) if per_trial[PEER] else np.nan
    print("\nmean suggestion time per trial (ms), and ratio to optuna-tpe")
    for m in methods:
        mean = float(np.mean(per_trial[m]))
        print(f"{m:16}{1000 * mean:10.1f} ms{mean / peer:8.2f}x")


def print_report(results: list[tuple[str, str, int, Run]], references, optima, methods) -> None:
    table = regrets(results, references, optima)
    trials = min(len(r.values) for *_, r in results)
    checkpoints = [c for c in CHECKPOINTS if c <= trials] or [trials]
    for checkpoint in checkpoints:
        print_regret_table(table, methods, checkpoint)
    seeds = min(len(runs) for by_method in table.values() for runs in by_method.values())
    if seeds < 4:
        print(
            f"note: with {seeds} seeds per side a one-sided Mann-Whitney test cannot reach "
            "p < 0.05, so every comparison below is a tie; use --seeds 4 or more\n"
        )
    for checkpoint in checkpoints:
        for peer in (PEER, GP_PEER, BASELINE):
            print_verdicts(table, checkpoint, peer)
    print_times(results, methods)
