"""A kubetune experiment as Optuna sees a study: pure mapping, no storage.

- each parameter of the search space becomes an Optuna distribution (a discrete list of
  numbers becomes the numeric range it spans, so plots keep its order);
- each objective, in spec order, becomes a study direction;
- each TuningTrial becomes a `FrozenTrial`: Succeeded -> COMPLETE, EarlyStopped ->
  PRUNED, Failed -> FAIL, Running -> RUNNING, and a trial that waits (Pending, Queued,
  Preempted) -> WAITING; its curve of the primary objective becomes the intermediate
  values, its reason and message user attributes, so stopped and failed trials say why.

A Succeeded trial without a finite value of every objective cannot be COMPLETE in Optuna;
it is shown as FAIL with the reason `NoObjectiveValue` rather than dropped.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from kubetune.api import Criteria, TuningExperiment, TuningTrial
from kubetune.api.params import (
    CategoricalParameter,
    DiscreteParameter,
    FloatParameter,
    IntParameter,
)

STATES: dict[str, TrialState] = {
    "Succeeded": TrialState.COMPLETE,
    "EarlyStopped": TrialState.PRUNED,
    "Failed": TrialState.FAIL,
    "Running": TrialState.RUNNING,
    "Pending": TrialState.WAITING,
    "Queued": TrialState.WAITING,
    "Preempted": TrialState.WAITING,
}
NO_OBJECTIVE_VALUE = "NoObjectiveValue"
LOGS_ROUTE = "/logs/"  # the server answers a trial's log under it; the table links it
# optuna's key for constraint violations (<= 0 feasible): the Pareto plot greys the others
CONSTRAINTS_KEY = "constraints"

Parameter = FloatParameter | IntParameter | CategoricalParameter | DiscreteParameter


def directions(experiment: TuningExperiment) -> list[StudyDirection]:
    """One direction per objective, in spec order."""
    goals = experiment.spec.criteria.objectives
    return [StudyDirection.MAXIMIZE if g.goal == "maximize" else StudyDirection.MINIMIZE
            for g in goals]  # fmt: skip


def objective_names(experiment: TuningExperiment) -> list[str]:
    return list(experiment.spec.criteria.metrics)


def study_attributes(experiment: TuningExperiment) -> dict[str, Any]:
    """What the experiment's page lists above its trials: phase, progress and best."""
    status = experiment.status
    counts, best = status.trials, status.best
    found = {
        "phase": status.phase,
        "trials": f"{counts.finished} of {experiment.spec.limits.max_trials} finished: "
        f"{counts.succeeded} succeeded, {counts.failed} failed, {counts.stopped} stopped; "
        f"{counts.running} running",
        "best": f"{best.trial}: {experiment.spec.criteria.primary.metric}={best.value}"
        if best
        else None,
    }
    return {key: value for key, value in found.items() if value is not None}


def distributions(experiment: TuningExperiment) -> dict[str, BaseDistribution]:
    return {parameter.name: distribution(parameter) for parameter in experiment.spec.parameters}


def distribution(parameter: Parameter) -> BaseDistribution:
    if isinstance(parameter, FloatParameter):
        return FloatDistribution(parameter.min, parameter.max, log=parameter.scale == "log")
    if isinstance(parameter, IntParameter):
        log = parameter.scale == "log"  # Optuna steps a log range by 1 only
        step = 1 if log else parameter.step
        return IntDistribution(parameter.min, parameter.max, log=log, step=step)
    if isinstance(parameter, CategoricalParameter):
        return CategoricalDistribution(parameter.values)
    return numeric_span(parameter.values)


def numeric_span(values: list[int | float]) -> BaseDistribution:
    low, high = min(values), max(values)
    if all(isinstance(value, int) for value in values):
        return IntDistribution(int(low), int(high))
    return FloatDistribution(float(low), float(high))


def frozen_trial(
    trial: TuningTrial,
    space: dict[str, BaseDistribution],
    criteria: Criteria,
    number: int = 0,
) -> FrozenTrial:
    """The trial as Optuna records it (`number` is Optuna's; the storage renumbers)."""
    values = objective_values(trial, criteria)
    state = STATES[trial.status.phase]
    attributes = user_attributes(trial, criteria.metrics)
    if state == TrialState.COMPLETE and values is None:
        state, attributes["reason"] = TrialState.FAIL, NO_OBJECTIVE_VALUE
    params, dists = parameters(trial, space)
    started, completed = times(trial, state)
    return FrozenTrial(
        number=number,
        state=state,
        value=None,
        values=values if state in (TrialState.COMPLETE, TrialState.PRUNED) else None,
        datetime_start=started,
        datetime_complete=completed,
        params=params,
        distributions=dists,
        user_attrs=attributes,
        system_attrs=constraint_attributes(trial, criteria),
        intermediate_values=intermediate_values(trial, criteria.primary.metric),
        trial_id=number,
    )


def objective_values(trial: TuningTrial, criteria: Criteria) -> list[float] | None:
    """Each objective's recorded value, or None unless every one is there and finite."""
    found = [trial.status.metrics.get(metric) for metric in criteria.metrics]
    if any(value is None or not math.isfinite(value) for value in found):
        return None
    return [float(value) for value in found if value is not None]


def parameters(
    trial: TuningTrial, space: dict[str, BaseDistribution]
) -> tuple[dict[str, Any], dict[str, BaseDistribution]]:
    """The trial's parameters with their distributions. A value the space no longer holds
    (the spec was edited since) keeps a one-value distribution: shown, not dropped."""
    dists = {name: containing(space.get(name), value)
             for name, value in trial.spec.parameters.items()}  # fmt: skip
    return dict(trial.spec.parameters), dists


def containing(found: BaseDistribution | None, value: Any) -> BaseDistribution:
    if found is not None and found._contains(found.to_internal_repr(value)):
        return found
    return CategoricalDistribution([value])


def intermediate_values(trial: TuningTrial, metric: str) -> dict[int, float]:
    """The primary objective along the curve (Optuna keeps one value per step)."""
    return {point.step: point.values[metric] for point in trial.status.curve
            if metric in point.values and math.isfinite(point.values[metric])}  # fmt: skip


def user_attributes(trial: TuningTrial, objectives: tuple[str, ...]) -> dict[str, Any]:
    """What the dashboard's trial table shows beside the parameters: the kubetune name
    and phase, why it ended, where its log is, and the metrics other than objectives."""
    status, others = trial.status, set(trial.status.metrics) - set(objectives)
    name = trial.metadata.get("name")
    found = {"trial": name, "phase": status.phase, "log": f"{LOGS_ROUTE}{name}",
             "reason": status.reason, "message": status.message,
             "preemptions": status.preemptions,
             **{name: status.metrics[name] for name in sorted(others)}}  # fmt: skip
    return {key: value for key, value in found.items() if value is not None}


def constraint_attributes(trial: TuningTrial, criteria: Criteria) -> dict[str, Any]:
    if not criteria.constraints or trial.status.phase != "Succeeded":
        return {}
    return {CONSTRAINTS_KEY: list(criteria.violations(trial.status.metrics))}


def times(trial: TuningTrial, state: TrialState) -> tuple[datetime | None, datetime | None]:
    """Start and end as Optuna requires them: no start while waiting, an end once finished
    (the creation time stands in for a start a failed trial never had)."""
    if state == TrialState.WAITING:
        return None, None
    created = parse_time(trial.metadata.get("creationTimestamp"))
    started = parse_time(trial.status.start_time) or created or datetime.now()
    if not state.is_finished():
        return started, None
    return started, max(started, parse_time(trial.status.completion_time) or started)


def parse_time(value: object) -> datetime | None:
    """As Optuna keeps times: naive, in local time."""
    if isinstance(value, str) and value:
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if not isinstance(value, datetime):
        return None
    return value.astimezone().replace(tzinfo=None) if value.tzinfo else value
