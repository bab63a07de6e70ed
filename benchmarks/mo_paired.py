"""Saved runs of `multi_objective.py` compared seed by seed: before and after a change.

Runs of the same seed share their initial design, so pairing them by seed tells a change
from the seed-to-seed spread far sooner than comparing medians. Each file holds the runs
of one method (one `--save` of one variant); the first file is the baseline. Per problem
and checkpoint it prints each file's median and mean hypervolume, the mean difference
from the baseline, on how many seeds it is higher, and the two-sided Wilcoxon
signed-rank p-value; `--landing` adds where each file's trials land, phase by phase.

    python -m benchmarks.mo_paired BEFORE.jsonl AFTER.jsonl [MORE.jsonl ...]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scipy.stats import wilcoxon

from benchmarks.mo_problems import problem
from benchmarks.multi_objective import MoRun, load

Runs = dict[tuple[str, int], MoRun]  # (problem, seed) -> run
PHASES = ((0, 11), (11, 25), (25, 50), (50, 100))  # trial ranges for `--landing`
AT_BEST = 0.02  # an objective this close to 0 (the problems' best) counts as at its best


def runs_of(path: str) -> Runs:
    """The runs of one file, which must hold one method only."""
    records = load([path])
    methods = {method for method, *_ in records}
    if len(methods) > 1:
        raise SystemExit(f"{path} holds several methods {sorted(methods)}; save one per file")
    return {(name, seed): run for _, name, seed, run in records}


def hypervolumes(runs: Runs, name: str, checkpoint: int) -> dict[int, float]:
    """Seed -> hypervolume after `checkpoint` trials, for runs that reached it."""
    reference = problem(name).reference
    return {
        seed: run.hypervolume(checkpoint, reference)
        for (each, seed), run in runs.items()
        if each == name and len(run.objectives) >= checkpoint
    }


def compare(paths: list[str], checkpoints: list[int]) -> None:
    files = [runs_of(path) for path in paths]
    for name in sorted({name for name, _ in files[0]}):
        for checkpoint in checkpoints:
            base = hypervolumes(files[0], name, checkpoint)
            if not base:
                continue
            median = np.median(list(base.values()))
            print(f"{name} @{checkpoint}: {Path(paths[0]).name} median {median:.4f}")
            for path, runs in zip(paths[1:], files[1:], strict=True):
                print(row(Path(path).name, base, hypervolumes(runs, name, checkpoint)))


def row(label: str, base: dict[int, float], other: dict[int, float]) -> str:
    seeds = sorted(set(base) & set(other))
    if not seeds:
        return f"    {label:32s} no run of the same seeds reached this checkpoint"
    values = np.array([other[s] for s in seeds])
    gain = values - np.array([base[s] for s in seeds])
    p = wilcoxon(gain).pvalue if len(seeds) > 5 and np.any(gain) else float("nan")
    summary = f"median {np.median(values):.4f} mean {values.mean():.4f} gain {gain.mean():+.4f}"
    higher = f"higher {int((gain > 0).sum())}/{len(seeds)}"
    return f"    {label:32s} n={len(seeds):3d} {summary} {higher} p={p:.3f}"


def landing(paths: list[str]) -> None:
    """Per file and problem, by phase of the run: the median distance of the trials'
    objective vectors from the origin, the share inside the reference box, and the mean
    count of objectives at their best (trials on an edge or corner of the front)."""
    print(f"where trials land, phases {PHASES}: distance from 0 / share in the box / at best")
    for path in paths:
        for name, runs in by_problem(runs_of(path)).items():
            reference = np.array(problem(name).reference)
            cells = [phase_cell(runs, reference, start, end) for start, end in PHASES]
            print(f"    {Path(path).name:32s} {name:14s} " + "  ".join(cells))


def by_problem(runs: Runs) -> dict[str, list[MoRun]]:
    grouped: dict[str, list[MoRun]] = {}
    for (name, _), run in runs.items():
        grouped.setdefault(name, []).append(run)
    return grouped


def phase_cell(runs: list[MoRun], reference: np.ndarray, start: int, end: int) -> str:
    chunks = [np.array(run.objectives[start:end]) for run in runs if len(run.objectives) >= end]
    if not chunks:
        return "-"
    values = np.vstack(chunks)
    distance = float(np.median(np.linalg.norm(values, axis=1)))
    inside = float(np.mean(np.all(values < reference, axis=1)))
    at_best = float(np.mean(np.sum(values < AT_BEST, axis=1)))
    return f"{distance:.3f} / {inside:.2f} / {at_best:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "files", nargs="+", help="saved runs, one method each; the first is the baseline"
    )
    parser.add_argument("--checkpoints", default="25,50,100")
    parser.add_argument("--landing", action="store_true", help="also where the trials land")
    args = parser.parse_args()
    compare(args.files, [int(c) for c in args.checkpoints.split(",")])
    if args.landing:
        landing(args.files)


if __name__ == "__main__":
    main()
