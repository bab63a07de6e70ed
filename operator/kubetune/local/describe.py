"""How a trial is put in words: its parameters, metric values, last step and elapsed
time. One home for the live view of `kubetune run` (console.py) and the tables of
`kubetune trials|best|status`, so they say the same things the same way.
"""

from __future__ import annotations

from datetime import UTC, datetime

from kubetune.api import ParetoFront, TuningTrial
from kubetune.planning.placeholders import format_value


def describe_params(params: dict[str, float | int | str], exact: bool = False) -> str:
    """Four significant digits keep a line readable; `exact` gives what the trial got."""

    def shown(value: float | int | str) -> str:
        return f"{value:.4g}" if isinstance(value, float) and not exact else format_value(value)

    return " ".join(f"{name}={shown(value)}" for name, value in params.items())


def front_summary(pareto: ParetoFront) -> str:
    """The Pareto front in one line: its size, its hypervolume and the reference point."""
    reference = ", ".join(f"{value:.6g}" for value in pareto.reference_point)
    return f"{pareto.size} trials, hypervolume {pareto.hypervolume:.6g} (reference {reference})"


def describe_value(metric: str, value: float | None) -> str:
    return f"{metric}={value:.6g}" if value is not None else f"{metric}=-"


def shown_metric(trial: TuningTrial, metric: str) -> str:
    value = trial.status.metrics.get(metric)
    return "-" if value is None else f"{value:.6g}"


def last_step(trial: TuningTrial) -> int | None:
    """The step of the trial's latest report on its learning curve, if any."""
    curve = trial.status.curve
    return curve[-1].step if curve else None


def trial_elapsed(trial: TuningTrial) -> float | None:
    """Seconds from the trial's start to its end, or to now while it runs."""
    started = trial.status.start_time
    if started is None:
        return None
    ended = trial.status.completion_time or datetime.now(UTC)
    return max(0.0, (ended - started).total_seconds())


def elapsed_text(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, rest = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return (
        f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{rest:02d}s" if minutes else f"{rest}s"
    )
