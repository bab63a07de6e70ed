"""Katib's `spec.objective` and `spec.parameters` as kubetune's objective and parameters.

Katib writes bounds and list members as strings ("0.01"); they become numbers here. A
Katib name kubetune cannot use is renamed, and the renames are returned so the trial
template's references follow them. Katib's metric strategies become kubetune's, with
Katib's defaults written out, so a trial is scored by the same value in both.
"""

from __future__ import annotations

import math
import re
from typing import Any, get_args

from kubetune.api import DEFAULT_STRATEGY, MetricStrategy
from kubetune.api.base import MAX_VALUES
from kubetune.api.params import PARAMETER_NAME_PATTERN
from kubetune.convert.findings import Findings

Document = dict[str, Any]
_SCALES = {"uniform": "linear", "logUniform": "log", "normal": "linear", "logNormal": "log"}
_BELL_CURVES = ("normal", "logNormal")  # kubetune samples within [min, max], never a bell
_STRATEGIES = "spec.objective.metricStrategies"


def convert_objective(objective: Document, findings: Findings) -> Document:
    """type -> goal, goal -> target, metric names kept, metricStrategies -> strategies."""
    goal = objective.get("type")
    if goal not in ("maximize", "minimize"):
        findings.refuse("spec.objective.type", f"must be maximize or minimize, got {goal!r}")
    converted: Document = {"metric": objective.get("objectiveMetricName"), "goal": goal}
    if objective.get("goal") is not None:
        converted["target"] = number(objective["goal"], "spec.objective.goal", findings)
    if objective.get("additionalMetricNames"):
        converted["additionalMetrics"] = list(objective["additionalMetricNames"])
    if strategies := _strategies(objective, findings):
        converted["strategies"] = strategies
    return converted


def _strategies(objective: Document, findings: Findings) -> dict[str, str]:
    """Which value of each metric a trial records, as Katib records it: the strategy its
    metricStrategies gives, else Katib's default, the objective's direction (min when
    minimized, max when maximized) for the objective and the additional metrics alike.
    kubetune's own default (latest) is left out."""
    additional = objective.get("additionalMetricNames") or []
    metrics = [objective.get("objectiveMetricName"), *additional]
    given = _given_strategies(objective.get("metricStrategies") or [], metrics, findings)
    default = "min" if objective.get("type") == "minimize" else "max"
    chosen = {str(name): given.get(name, default) for name in metrics}
    return {name: value for name, value in chosen.items() if value != DEFAULT_STRATEGY}


def _given_strategies(
    strategies: list[Document], metrics: list[Any], findings: Findings
) -> dict[str, str]:
    """Katib's `[{name, value}]` list as a mapping, for the metrics the objective names."""
    given: dict[str, str] = {}
    for index, item in enumerate(strategies):
        name, value, where = item.get("name"), item.get("value"), f"{_STRATEGIES}[{index}]"
        if value not in get_args(MetricStrategy):
            findings.refuse(where, f"value must be latest, min or max, got {value!r}")
        elif name not in metrics:
            findings.drop(where, f"{name!r} is neither the objective nor an additional metric")
        else:
            given[str(name)] = str(value)
    return given


def number(text: Any, where: str, findings: Findings) -> float | int:
    """Katib's "32" or "0.01" as 32 or 0.01; a refusal (and 0) when it is no number."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        findings.refuse(where, f"must be a number, got {text!r}")
        return 0
    return int(value) if re.fullmatch(r"\s*[+-]?\d+\s*", str(text)) else value


def kubetune_name(name: Any) -> str:
    """A parameter name kubetune accepts: other characters become `_`, and a leading
    digit or hyphen gets a `_` in front."""
    usable = re.sub(r"[^A-Za-z0-9_-]", "_", str(name))
    return usable if re.fullmatch(PARAMETER_NAME_PATTERN, usable) else f"_{usable}"


def convert_parameters(
    parameters: list[Document], findings: Findings
) -> tuple[list[Document], dict[str, str]]:
    """(kubetune parameters, Katib name -> kubetune name)."""
    converted, names = [], {}
    for index, parameter in enumerate(parameters):
        where = f"spec.parameters[{index}]"
        name = kubetune_name(parameter.get("name"))
        if name != parameter.get("name"):
            findings.drop(f"{where}.name", f"{parameter.get('name')!r} renamed {name!r}")
        names[str(parameter.get("name"))] = name
        space = parameter.get("feasibleSpace") or {}
        converted.append({"name": name, **_space(parameter, space, where, findings)})
    return converted, names


def _space(parameter: Document, space: Document, where: str, findings: Findings) -> Document:
    kind = parameter.get("parameterType")
    if kind == "categorical":
        return {"type": "categorical", "values": [str(v) for v in space.get("list") or []]}
    if kind == "discrete":
        values = [
            number(v, f"{where}.feasibleSpace.list", findings) for v in space.get("list") or []
        ]
        return {"type": "discrete", "values": values}
    if kind in ("double", "int"):
        return _range(kind, space, f"{where}.feasibleSpace", findings)
    findings.refuse(f"{where}.parameterType", f"unknown type {kind!r}")
    return {}


def _range(kind: str, space: Document, where: str, findings: Findings) -> Document:
    """A numeric range; a stepped double becomes the discrete list of its steps."""
    low, high = (number(space.get(bound), f"{where}.{bound}", findings) for bound in ("min", "max"))
    distribution = space.get("distribution", "uniform")
    if distribution not in _SCALES:
        findings.refuse(f"{where}.distribution", f"{distribution!r}; known: {', '.join(_SCALES)}")
    if distribution in _BELL_CURVES:
        findings.drop(f"{where}.distribution", f"{distribution}: sampled within [min, max]")
    if kind == "double" and space.get("step") is not None:
        return _steps(low, high, number(space["step"], f"{where}.step", findings), where, findings)
    scale = _SCALES.get(distribution, "linear")
    converted: Document = {"type": "float" if kind == "double" else "int", "min": low, "max": high}
    if scale == "log":
        converted["scale"] = "log"
    if kind == "int" and space.get("step") is not None:
        converted["step"] = number(space["step"], f"{where}.step", findings)
    return converted


def _steps(low: float, high: float, step: float, where: str, findings: Findings) -> Document:
    """min, min + step, ... up to max: the values Katib's grid would visit."""
    count = math.floor((high - low) / step + 1e-9) + 1 if step > 0 else 0
    if not 0 < count <= MAX_VALUES:
        findings.refuse(f"{where}.step", f"gives {count} values; kubetune allows 1 to {MAX_VALUES}")
        return {"type": "discrete", "values": [low]}
    return {"type": "discrete", "values": [round(low + i * step, 12) for i in range(count)]}
