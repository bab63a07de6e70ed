"""examples/multi-objective.yaml end to end in local mode (two objectives, a constraint),
and what `kubetune best`, `trials` and `status` show of its Pareto front."""

from __future__ import annotations

import contextlib
import csv
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from kubetune.cli import main
from kubetune.search.pareto import hypervolume, nondominated_ranks
from tests.unit.local_helpers import run, stored_trials

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "multi-objective.yaml"
NAME = "multi-objective"
MEMORY_LIMIT = 1500.0  # the example's constraint


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example as written, but five trials: the trainer takes a moment each."""
    tmp_path = tmp_path_factory.mktemp("mo")
    document = yaml.safe_load(EXAMPLE.read_text())
    document["spec"]["limits"]["maxTrials"] = 5
    path = tmp_path / "multi-objective.yaml"
    path.write_text(yaml.safe_dump(document))
    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(printed):
        patch.chdir(ROOT)  # the trainer's path is relative, as in a trial image
        assert run(path, tmp_path / "results") == 0
    (tmp_path / "printed.txt").write_text(printed.getvalue())
    return tmp_path / "results"


def test_the_run_ends_naming_the_front(results: Path) -> None:
    summary = (results.parent / "printed.txt").read_text().split("\n\nExperiment ")[-1]
    assert f"Pareto front: {status_of(results)['pareto']['size']} trials" in summary
    assert f"; kubetune best {NAME}" in summary


def status_of(results: Path) -> dict[str, Any]:
    status: dict[str, Any] = json.loads((results / NAME / "status.json").read_text())["status"]
    return status


def output_of(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    capsys.readouterr()
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def test_the_example_ends_with_its_front_and_hypervolume(results: Path) -> None:
    status, trials = status_of(results), stored_trials(results, NAME)
    assert status["phase"] == "Succeeded" and len(trials) == 5
    for trial in trials:
        metrics = trial["status"]["metrics"]
        assert set(metrics) == {"accuracy", "latency_ms", "memory_mb"}
        assert trial["spec"]["objectiveMetrics"] == ["accuracy", "latency_ms"]
        assert trial["status"]["feasible"] == (metrics["memory_mb"] <= MEMORY_LIMIT)
    feasible = [t for t in trials if t["status"]["feasible"]]
    points = np.array([[-t["status"]["metrics"]["accuracy"], t["status"]["metrics"]["latency_ms"]]
                       for t in feasible])  # fmt: skip
    ranks = nondominated_ranks(points)
    pareto = status["pareto"]
    expected = {t["metadata"]["name"]: int(rank) for t, rank in zip(feasible, ranks, strict=True)}
    assert {listed["trial"]: listed["rank"] for listed in pareto["trials"]} == expected
    assert pareto["size"] == int(np.sum(ranks == 0)) >= 1
    assert pareto["referencePoint"] == [0.5, 20.0]
    assert pareto["hypervolume"] == pytest.approx(hypervolume(points, np.array([-0.5, 20.0])))
    best = max(feasible, key=lambda t: t["status"]["metrics"]["accuracy"])
    assert status["best"]["trial"] == best["metadata"]["name"]


def test_best_shows_the_front_in_every_format(
    results: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pareto = status_of(results)["pareto"]
    listed = [entry["trial"] for entry in pareto["trials"]]
    text = output_of(capsys, "best", NAME, "--dir", str(results)).splitlines()
    assert text[0].startswith(f"Pareto front: {pareto['size']} trials, hypervolume ")
    assert text[1].split() == ["TRIAL", "RANK", "accuracy", "latency_ms", "PARAMETERS"]
    assert [line.split()[0] for line in text[2:]] == listed
    document = json.loads(output_of(capsys, "best", NAME, "--dir", str(results), "-o", "json"))
    assert document["pareto"] == pareto and document["trial"] == listed[0]
    rows = list(csv.DictReader(io.StringIO(
        output_of(capsys, "best", NAME, "--dir", str(results), "-o", "csv"))))  # fmt: skip
    assert [row["trial"] for row in rows] == listed
    assert {"rank", "accuracy", "latency_ms", "width", "dropout"} <= set(rows[0])
    as_yaml = yaml.safe_load(output_of(capsys, "best", NAME, "--dir", str(results), "-o", "yaml"))
    assert as_yaml["pareto"]["hypervolume"] == pareto["hypervolume"]


def test_trials_and_status_show_ranks_and_the_front(
    results: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ranks = {entry["trial"]: str(entry["rank"]) for entry in status_of(results)["pareto"]["trials"]}
    text = output_of(capsys, "trials", NAME, "--dir", str(results)).splitlines()
    assert text[0].split()[:6] == ["TRIAL", "PHASE", "RANK", "accuracy", "latency_ms", "memory_mb"]
    for line in text[1:]:
        trial, _, rank = line.split()[:3]
        assert rank == ranks.get(trial, rank if rank == "infeasible" else "-")
    rows = list(csv.DictReader(io.StringIO(
        output_of(capsys, "trials", NAME, "--dir", str(results), "-o", "csv"))))  # fmt: skip
    assert {row["trial"]: row["paretoRank"] for row in rows if row["paretoRank"]} == ranks
    shown = output_of(capsys, "status", NAME, "--dir", str(results))
    assert "front:      " in shown and "hypervolume" in shown


def test_plot_draws_the_front(results: Path, capsys: pytest.CaptureFixture[str]) -> None:
    written = output_of(capsys, "plot", NAME, "--dir", str(results)).split()
    pareto = Path(next(path for path in written if path.endswith("pareto.png")))
    assert pareto.read_bytes().startswith(b"\x89PNG")


def test_more_than_two_objectives_plot_as_parallel_coordinates() -> None:
    from matplotlib.figure import Figure

    from kubetune.api import Constraint, Criteria, Goal, TuningTrial
    from kubetune.plots import plot_pareto

    goals = tuple(Goal(metric=name, goal="minimize") for name in ("a", "b", "c"))
    criteria = Criteria(goals, (Constraint(metric="a", max=3.0),))
    trials = [
        TuningTrial.model_validate({
            "metadata": {"name": f"t{i}"}, "spec": {"experiment": "e", "index": i},
            "status": {"phase": "Succeeded", "metrics": {"a": i, "b": 4 - i, "c": 1.0},
                       "feasible": i <= 3},
        })
        for i in range(5)
    ]  # fmt: skip
    axes = Figure().subplots()
    plot_pareto(axes, trials, criteria, front={"t0", "t1"})
    drawn = [line for line in axes.lines if len(line.get_xdata()) == 3]
    assert len(drawn) == 4, "one line per feasible trial, across the three objectives"
    assert [label.get_text() for label in axes.get_xticklabels()] == [
        "a (minimize)",
        "b (minimize)",
        "c (minimize)",
    ]
