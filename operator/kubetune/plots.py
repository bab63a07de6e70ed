"""PNG plots of a finished or running search, for `kubetune plot`:

- optimization history: each trial's objective and the best so far;
- parallel coordinates: one line per trial across the parameters, coloured by objective;
- learning curves: intermediate values per trial, early-stopped trials marked.

Uses matplotlib's object API without pyplot: no display, no global figure state. Reads
an `ExperimentSnapshot`, so local and cluster experiments plot alike.
"""

from __future__ import annotations

import math
from pathlib import Path

from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from kubetune.api import Objective, TuningTrial
from kubetune.planning.source import ExperimentSnapshot

STOPPED_COLOR = "tab:red"


def write_plots(snapshot: ExperimentSnapshot, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    objective = snapshot.experiment.spec.objective
    drawings = {
        "history.png": plot_history,
        "parallel_coordinates.png": plot_parallel_coordinates,
        "learning_curves.png": plot_learning_curves,
    }
    written = []
    for filename, draw in drawings.items():
        figure = Figure(figsize=(8, 4.5), dpi=110)
        axes = figure.subplots()
        draw(axes, snapshot.trials, objective)
        axes.set_title(f"{snapshot.name}: {axes.get_title()}")
        figure.tight_layout()
        figure.savefig(out / filename)
        written.append(out / filename)
    return written


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
