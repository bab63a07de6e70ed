"""Put a trial's parameter values into its container: ``${name}`` placeholders in the
command, args and env values, and one KUBETUNE_PARAM_<NAME> variable per parameter.

Shared by the Job builder and the local runner, so a template behaves the same in a pod
and on a laptop. An unknown placeholder is an error naming the container and field, found
before any trial runs (`check_template`), not a trainer crashing on a literal "${lr}".
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from numbers import Integral
from typing import Any

from kubetune.api.params import param_env_name
from kubetune.search.space import Value

PLACEHOLDER = re.compile(r"\$\$|\$\{([^}]*)\}")  # "$$" escapes a literal "$"
CONTAINERS_PATH = "spec.trial.template.spec.containers"


class PlaceholderError(ValueError):
    """A placeholder that names no parameter; the message says where it is."""


def format_value(value: Value) -> str:
    """The text a trainer receives: shortest exact float, plain integer, string as is."""
    if isinstance(value, str):
        return value
    if isinstance(value, Integral):
        return str(int(value))
    return repr(float(value))


def param_env(params: Mapping[str, Value]) -> dict[str, str]:
    return {param_env_name(name): format_value(value) for name, value in params.items()}


def substitute(text: str, params: Mapping[str, Value], where: str) -> str:
    """`text` with every ``${name}`` replaced; `where` names the field for errors."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return "$"
        if name not in params:
            known = ", ".join(params) or "none"
            raise PlaceholderError(f"{where}: unknown placeholder ${{{name}}}; parameters: {known}")
        return format_value(params[name])

    return PLACEHOLDER.sub(replace, text)


def substitute_container(
    container: Mapping[str, Any], params: Mapping[str, Value], position: int | None = None
) -> dict[str, Any]:
    """A copy of one container with placeholders filled in command, args and env values;
    `position` (its index in the template) makes error messages point at the YAML."""
    filled = copy.deepcopy(dict(container))
    name = container.get("name", "unnamed")
    where = f"container {name!r}" if position is None else f"{CONTAINERS_PATH}[{position}] ({name})"
    for field in ("command", "args"):
        items = filled.get(field) or []
        if not isinstance(items, list):
            continue  # one string is not split into characters: the API server refuses it
        filled[field] = [
            substitute(str(item), params, f"{where}.{field}[{i}]") for i, item in enumerate(items)
        ]
    for i, variable in enumerate(filled.get("env") or []):
        if isinstance(variable, dict) and isinstance(variable.get("value"), str):
            variable["value"] = substitute(variable["value"], params, f"{where}.env[{i}].value")
    return filled


def substitute_containers(
    template: Mapping[str, Any], params: Mapping[str, Value]
) -> list[dict[str, Any]]:
    """Every container of a PodTemplateSpec with its placeholders filled."""
    containers = (template.get("spec") or {}).get("containers") or []
    return [substitute_container(c, params, i) for i, c in enumerate(containers)]


def check_template(template: Mapping[str, Any], names: list[str]) -> None:
    """Raise PlaceholderError now if any container names an unknown parameter."""
    substitute_containers(template, dict.fromkeys(names, "0"))
