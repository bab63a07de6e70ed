"""PNG plots of a finished or running search, for `kubetune plot`:

- optimization history: each trial's objective and the best so far;
- parallel coordinates: one line per trial across the parameters, coloured by objective;
- learning curves: intermediate values per trial, early-stopped trials marked;
- with several objectives, the Pareto front: for two, a scatter of the trials with the
  front highlighted; for more, parallel coordinates across the objectives.

Uses matplotlib's object API without pyplot: no display, no global figure state. Reads
an `ExperimentSnapshot`, so local and cluster experiments plot alike.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from pathlib import Path

from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from kubetune.api import Criteria, Objective, TuningTrial
from kubetune.planning.source import ExperimentSnapshot

STOPPED_COLOR = "tab:red"
FRONT_COLOR = "tab:orange"


def write_plots(snapshot: ExperimentSnapshot, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    objective = snapshot.experiment.spec.objective
    drawings = {
        "history.png": plot_history,
        "parallel_coordinates.png": plot_parallel_coordinates,
        "learning_curves.png": plot_learning_curves,
    }
    written = [
        _save(
            out / filename,
            snapshot.name,
            partial(draw, trials=snapshot.trials, objective=objective),
        )
        for filename, draw in drawings.items()
    ]
    pareto = snapshot.experiment.status.pareto
    if pareto is not None:
        front = {listed.trial for listed in pareto.trials if listed.rank == 0}
        criteria = snapshot.experiment.spec.criteria
        draw_front = partial(plot_pareto, trials=snapshot.trials, criteria=criteria, front=front)
        written.append(_save(out / "pareto.png", snapshot.name, draw_front))
    return written


def _save(path: Path, name: str, draw: Callable[[Axes], None]) -> Path:
    figure = Figure(figsize=(8, 4.5), dpi=110)
    axes = figure.subplots()
    draw(axes)
    axes.set_title(f"{name}: {axes.get_title()}")
    figure.tight_layout()
    figure.savefig(path)
    return path


def _scored(trials: list[TuningTrial], metric: str) -> list[tuple[TuningTrial, float]]:
    scored = []
    for trial in trials:
        value = trial.status.metrics.get(metric)
        if trial.status.phase == "Succeeded" and value is not None and math.isfinite(value):
            scored.append((trial, value))
    return scored


def plot_history(axes: Axes, trials: list[TuningTrial], objective: Objective) -> None:
    scored = _scored(trials, objective.metric)
    indices = [trial.spec.index for trial, _ in scored]
    values = [value for _, value in scored]
    pick = max if objective.goal == "maximize" else min
    best_so_far = [pick(values[: position + 1]) for position in range(len(values))]
    axes.scatter(indices, values, s=18, color="tab:blue", label="trial")
    axes.step(indices, best_so_far, where="post", color="tab:orange", label="best so far")
    if objective.target is not None:
        axes.axhline(objective.target, color="grey", linestyle=":", label="target")
    axes.set(xlabel="trial index", ylabel=objective.metric, title="optimization history")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.legend(loc="best")


def _axis_position(trials: list[TuningTrial], name: str) -> dict[str, float]:
    """Each value's place on a [0, 1] axis: numbers scaled (log for wide positive ranges),
    categories spread evenly in order of appearance."""
    values = [trial.spec.parameters.get(name) for trial in trials]
    if any(isinstance(value, str) for value in values):
        order = list(dict.fromkeys(str(value) for value in values))
        return {label: i / max(1, len(order) - 1) for i, label in enumerate(order)}
    numbers = [float(value) for value in values if value is not None]
    low, high = min(numbers, default=0.0), max(numbers, default=1.0)
    use_log = low > 0 and high / low > 100
    scale = math.log10 if use_log else float
    span = (scale(high) - scale(low)) or 1.0
    return {str(x): (scale(x) - scale(low)) / span for x in numbers}


def plot_parallel_coordinates(axes: Axes, trials: list[TuningTrial], objective: Objective) -> None:
    scored = _scored(trials, objective.metric)
    names = list(scored[0][0].spec.parameters) if scored else []
    positions = {name: _axis_position([t for t, _ in scored], name) for name in names}
    values = [value for _, value in scored]
    low, high = min(values, default=0.0), max(values, default=1.0)
    colormap = colormaps["viridis" if objective.goal == "maximize" else "viridis_r"]
    # the best trials are drawn last, on top
    for trial, value in sorted(scored, key=lambda pair: -objective.to_minimized(pair[1])):
        ys = [positions[n][_key(trial.spec.parameters[n])] for n in names]
        axes.plot(range(len(names)), ys, color=colormap((value - low) / ((high - low) or 1)))
    axes.set_xticks(range(len(names)), names)
    axes.set_yticks([])
    for column, name in enumerate(names):
        _label_axis(axes, column, positions[name])
    mappable = ScalarMappable(cmap=colormap, norm=Normalize(low, high))
    axes.get_figure().colorbar(mappable, ax=axes, label=objective.metric)  # type: ignore[union-attr]
    axes.set(title="parameters of succeeded trials (scaled per axis)")


def _label_axis(axes: Axes, column: int, positions: dict[str, float]) -> None:
    """Categories at their places; numbers only at the ends of the axis."""
    ranked = sorted(positions.items(), key=lambda item: item[1])
    shown = ranked if len(ranked) <= 4 else [ranked[0], ranked[-1]]
    for text, height in shown:
        label = text if not _is_number(text) else f"{float(text):.3g}"
        axes.annotate(label, (column, height), xytext=(4, 0), textcoords="offset points",
                      fontsize=8, va="center")  # fmt: skip
    axes.axvline(column, color="grey", linewidth=0.8)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _key(value: float | int | str) -> str:
    return value if isinstance(value, str) else str(float(value))


def plot_learning_curves(axes: Axes, trials: list[TuningTrial], objective: Objective) -> None:
    metric = objective.metric
    for trial in trials:
        points = [(p.step, p.values[metric]) for p in trial.status.curve if metric in p.values]
        if not points:
            continue
        steps, values = zip(*sorted(points), strict=True)
        stopped = trial.status.phase == "EarlyStopped"
        color = STOPPED_COLOR if stopped else "tab:blue"
        axes.plot(steps, values, color=color, alpha=0.6, linewidth=1)
        if stopped:
            axes.scatter([steps[-1]], [values[-1]], marker="x", color=STOPPED_COLOR, zorder=3)
    if not axes.lines:
        axes.text(0.5, 0.5, "no trial reported a step", ha="center", transform=axes.transAxes)
    axes.plot([], [], color="tab:blue", label="completed")
    axes.plot([], [], color=STOPPED_COLOR, marker="x", label="stopped early")
    axes.set(xlabel="step", ylabel=metric, title="learning curves")
    axes.legend(loc="best")


def plot_pareto(axes: Axes, trials: list[TuningTrial], criteria: Criteria, front: set[str]) -> None:
    """Succeeded trials in objective space, the Pareto front highlighted and infeasible
    trials crossed out."""
    metrics = criteria.metrics
    done = [
        t
        for t in trials
        if t.status.phase == "Succeeded" and set(metrics) <= t.status.metrics.keys()
    ]
    if len(metrics) == 2:
        _front_scatter(axes, done, metrics, front)
    else:
        _objective_coordinates(axes, done, criteria, front)
    axes.set(title="Pareto front")


def _front_scatter(
    axes: Axes, trials: list[TuningTrial], metrics: tuple[str, ...], front: set[str]
) -> None:
    def points(chosen: list[TuningTrial]) -> tuple[list[float], list[float]]:
        return [t.status.metrics[metrics[0]] for t in chosen], [
            t.status.metrics[metrics[1]] for t in chosen
        ]

    on_front = sorted(
        (t for t in trials if t.metadata.get("name") in front),
        key=lambda t: t.status.metrics[metrics[0]],
    )
    infeasible = [t for t in trials if t.status.feasible is False]
    others = [t for t in trials if t not in on_front and t not in infeasible]
    axes.scatter(*points(others), s=18, color="tab:blue", alpha=0.6, label="trial")
    axes.scatter(*points(infeasible), s=22, marker="x", color=STOPPED_COLOR, label="infeasible")
    axes.plot(*points(on_front), color=FRONT_COLOR, marker="o", label="Pareto front")
    axes.set(xlabel=metrics[0], ylabel=metrics[1])
    axes.legend(loc="best")


def _objective_coordinates(
    axes: Axes, trials: list[TuningTrial], criteria: Criteria, front: set[str]
) -> None:
    """One line per feasible trial across the objectives, each axis scaled so that up is
    better; the front drawn last, on top."""
    feasible = [t for t in trials if t.status.feasible is not False]
    scaled = {
        goal.metric: _better_up(feasible, goal.metric, goal.goal) for goal in criteria.objectives
    }
    for trial in sorted(feasible, key=lambda t: t.metadata.get("name") in front):
        on_front = trial.metadata.get("name") in front
        ys = [scaled[m][str(trial.metadata.get("name"))] for m in criteria.metrics]
        axes.plot(range(len(ys)), ys, color=FRONT_COLOR if on_front else "tab:blue",
                  alpha=1.0 if on_front else 0.3)  # fmt: skip
    axes.set_xticks(
        range(len(criteria.metrics)), [f"{g.metric} ({g.goal})" for g in criteria.objectives]
    )
    axes.set(ylabel="scaled per objective, better up")
    axes.plot([], [], color=FRONT_COLOR, label="Pareto front")
    axes.legend(loc="best")


def _better_up(trials: list[TuningTrial], metric: str, goal: str) -> dict[str, float]:
    sign = 1.0 if goal == "maximize" else -1.0
    values = {str(t.metadata.get("name")): sign * t.status.metrics[metric] for t in trials}
    low, high = min(values.values(), default=0.0), max(values.values(), default=1.0)
    return {name: (value - low) / ((high - low) or 1.0) for name, value in values.items()}
