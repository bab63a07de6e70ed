"""The commands that read experiments: ``list``, ``status``, ``trials``, ``best``,
``logs`` and ``plot``. Each reads through an `ExperimentSource` (sources.py), so the
local runner's directory and a cluster answer alike, and prints an `Answer`
(formats.py) in the format asked for.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kubetune.api import ParetoFront, TuningExperiment, TuningTrial, dump_resource
from kubetune.commands.formats import Answer, Row, number, show, table
from kubetune.commands.sources import open_source
from kubetune.commands.trial_logs import trial_log
from kubetune.local.conditions import INTERRUPTED, shown_phase
from kubetune.local.describe import (
    describe_params,
    describe_value,
    elapsed_text,
    front_summary,
    last_step,
    shown_metric,
    trial_elapsed,
)
from kubetune.planning.source import ExperimentSnapshot


def list_experiments(args: argparse.Namespace) -> int:
    source = open_source(args)
    rows = [experiment_row(source.experiment(name)) for name in source.names()]
    header = ["NAME", "PHASE", "TRIALS", "BEST"]
    cells = [[r["name"], r["phase"], str(r["created"]), number(r["bestValue"])] for r in rows]
    show(Answer(rows, rows, "\n".join(table(header, cells))), args.output)
    return 0


def experiment_row(experiment: TuningExperiment) -> Row:
    status = experiment.status
    best = status.best
    return {
        "name": experiment.metadata.get("name"),
        "phase": shown_phase(status),
        **status.trials.model_dump(),
        "bestTrial": best.trial if best else None,
        "bestValue": best.value if best else None,
    }


def status(args: argparse.Namespace) -> int:
    snapshot = open_source(args).load(args.name)
    document = dump_resource(snapshot.experiment)
    row = experiment_row(snapshot.experiment)
    show(Answer(document, [row], status_text(snapshot)), args.output)
    return 0


def status_text(snapshot: ExperimentSnapshot) -> str:
    status = snapshot.experiment.status
    counts, phase = status.trials, shown_phase(status)
    # Interrupted: its trials were running when the runner stopped; none runs now
    running = "interrupted" if phase == INTERRUPTED else "running"
    queued = "" if counts.queued is None else f"{counts.queued} queued, "
    lines = [
        f"experiment: {snapshot.name}",
        f"phase:      {phase}",
        f"trials:     {counts.created} created, {counts.running} {running}, {queued}"
        f"{counts.succeeded} succeeded, {counts.failed} failed, {counts.stopped} stopped",
    ]
    metric = snapshot.experiment.spec.objective.metric
    if status.best is not None:
        lines.append(f"best:       {status.best.trial} {describe_value(metric, status.best.value)}")
    if status.pareto is not None:
        lines.append(f"front:      {front_summary(status.pareto)}")
    for condition in (c for c in status.conditions if c.status == "True"):
        lines.append(f"reason:     {condition.reason}: {condition.message}")
    return "\n".join(lines)


def metric_names(snapshot: ExperimentSnapshot) -> list[str]:
    """The objectives first, then the additional and constrained metrics the spec names."""
    return snapshot.experiment.spec.recorded_metrics


def pareto_ranks(snapshot: ExperimentSnapshot) -> dict[str, int] | None:
    """Each listed trial's rank on the Pareto front; None with a single objective."""
    pareto = snapshot.experiment.status.pareto
    return None if pareto is None else {listed.trial: listed.rank for listed in pareto.trials}


def trials(args: argparse.Namespace) -> int:
    snapshot = open_source(args).load(args.name)
    ranks = pareto_ranks(snapshot)
    rows = [
        {**trial_row(trial, metric_names(snapshot)), **pareto_cells(trial, ranks)}
        for trial in snapshot.trials
    ]
    document = [dump_resource(trial) for trial in snapshot.trials]
    show(Answer(document, rows, trials_text(snapshot)), args.output)
    return 0


def trial_row(trial: TuningTrial, metrics: list[str]) -> Row:
    status = trial.status
    return {
        "trial": trial.metadata.get("name"),
        "phase": status.phase,
        **{metric: status.metrics.get(metric) for metric in metrics},
        **trial.spec.parameters,
        "step": last_step(trial),
        "elapsedSeconds": trial_elapsed(trial),
        "reason": status.reason,
        "message": status.message,
    }


def pareto_cells(trial: TuningTrial, ranks: dict[str, int] | None) -> Row:
    """With several objectives, the trial's rank among those the status lists (None for
    the others), and whether it met the constraints."""
    if ranks is None:
        return {}
    return {
        "paretoRank": ranks.get(str(trial.metadata.get("name"))),
        "feasible": trial.status.feasible,
    }


# The phases whose message says why: how a trial ended, or why it waits for Kueue.
SAYS_WHY = ("Failed", "EarlyStopped", "Queued", "Preempted")


def trials_text(snapshot: ExperimentSnapshot) -> str:
    """One row per trial; a failed, stopped or waiting trial's whole message under its row. With
    several objectives, a RANK column: 0 on the Pareto front, - when not listed."""
    metrics, ranks = metric_names(snapshot), pareto_ranks(snapshot)
    ranked = ["RANK"] if ranks is not None else []
    header = ["TRIAL", "PHASE", *ranked, *metrics, "STEP", "ELAPSED", "PARAMETERS"]
    rows = [_with_rank(trial_cells(trial, metrics), trial, ranks) for trial in snapshot.trials]
    lines = table(header, rows)
    for line_number, trial in enumerate(snapshot.trials, start=1):
        if trial.status.phase in SAYS_WHY and trial.status.message:
            lines[line_number] += "\n    " + trial.status.message.replace("\n", "\n    ")
    return "\n".join(lines)


def trial_cells(trial: TuningTrial, metrics: list[str]) -> list[str]:
    step = last_step(trial)
    return [
        str(trial.metadata.get("name")),
        trial.status.phase,
        *(shown_metric(trial, metric) for metric in metrics),
        "-" if step is None else str(step),
        elapsed_text(trial_elapsed(trial)),
        describe_params(trial.spec.parameters),
    ]


def _with_rank(cells: list[str], trial: TuningTrial, ranks: dict[str, int] | None) -> list[str]:
    if ranks is None:
        return cells
    rank = ranks.get(str(trial.metadata.get("name")))
    shown = "infeasible" if trial.status.feasible is False else "-" if rank is None else str(rank)
    return [*cells[:2], shown, *cells[2:]]


def best(args: argparse.Namespace) -> int:
    snapshot = open_source(args).load(args.name)
    best = snapshot.experiment.status.best
    if best is None:
        print(f"{snapshot.name}: no trial has succeeded yet", file=sys.stderr)
        return 1
    found = [t for t in snapshot.trials if t.metadata.get("name") == best.trial]
    metrics = found[0].status.metrics if found else {}
    document = {**dump_resource(best), "metrics": metrics}
    row = {"trial": best.trial, "value": best.value, **metrics, **best.parameters}
    pareto = snapshot.experiment.status.pareto
    if pareto is not None:
        answer = Answer({**document, "pareto": dump_resource(pareto)}, front_rows(pareto),
                        front_text(snapshot, pareto))  # fmt: skip
        show(answer, args.output)
        return 0
    show(Answer(document, [row], best_text(snapshot, metrics)), args.output)
    return 0


def front_rows(pareto: ParetoFront) -> list[Row]:
    """One row per listed trial: its rank, its objectives and its parameters."""
    return [
        {"trial": listed.trial, "rank": listed.rank, **listed.values, **listed.parameters}
        for listed in pareto.trials
    ]


def front_text(snapshot: ExperimentSnapshot, pareto: ParetoFront) -> str:
    """The front as a table, each rank ordered by the primary objective."""
    metrics = list(snapshot.experiment.spec.criteria.metrics)
    cells = [
        [listed.trial, str(listed.rank), *(number(listed.values.get(m)) for m in metrics),
         describe_params(listed.parameters)]
        for listed in pareto.trials
    ]  # fmt: skip
    lines = [f"Pareto front: {front_summary(pareto)}"]
    lines += table(["TRIAL", "RANK", *metrics, "PARAMETERS"], cells)
    return "\n".join(lines)


def best_text(snapshot: ExperimentSnapshot, metrics: dict[str, float]) -> str:
    best = snapshot.experiment.status.best
    assert best is not None  # best() answers "none yet" itself
    names = metric_names(snapshot)
    values = [describe_value(name, metrics.get(name)) for name in names[1:]]
    lines = [" ".join([best.trial, describe_value(names[0], best.value), *values])]
    lines += [f"  {name}: {value}" for name, value in best.parameters.items()]
    return "\n".join(lines)


def logs(args: argparse.Namespace) -> int:
    print(trial_log(args), end="")
    return 0


def plot(args: argparse.Namespace) -> int:
    from kubetune.plots import write_plots  # matplotlib is slow to import: only here

    snapshot = open_source(args).load(args.name)
    out = Path(args.out) if args.out else Path(args.dir) / args.name / "plots"
    for path in write_plots(snapshot, out):
        print(path)
    return 0
