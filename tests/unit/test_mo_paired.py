"""The seed-by-seed comparison of saved multi-objective runs (benchmarks/mo_paired.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from benchmarks.mo_paired import compare, runs_of
from benchmarks.multi_objective import MoRun, save

SEEDS = 6


def _save(path: Path, method: str, worse_by: float) -> None:
    """ZDT1 runs of two trials per seed, each seed's front a little different."""
    for seed in range(SEEDS):
        first, second = (1.0 + worse_by + 0.01 * seed, 5.0), (5.0, 1.0 + worse_by)
        run = MoRun([first, second], [(), ()], [0.0, 0.0])
        save(str(path), (method, "zdt1", seed, run))


def test_a_change_better_on_every_seed_is_higher_on_all_of_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before, after = tmp_path / "before.jsonl", tmp_path / "after.jsonl"
    _save(before, "bayesian", worse_by=0.5)
    _save(after, "bayesian", worse_by=0.0)
    compare([str(before), str(after)], [2])
    printed = capsys.readouterr().out
    assert "zdt1 @2: before.jsonl" in printed
    # Six gains of one sign: the exact two-sided signed-rank p-value is 2 / 2**6.
    assert f"higher {SEEDS}/{SEEDS} p=0.031" in printed


def test_a_file_of_several_methods_is_refused(tmp_path: Path) -> None:
    mixed = tmp_path / "mixed.jsonl"
    _save(mixed, "bayesian", worse_by=0.0)
    _save(mixed, "optuna-tpe", worse_by=0.0)
    with pytest.raises(SystemExit, match="several methods"):
        runs_of(str(mixed))
