"""Turns pydantic validation errors into messages that name the field in YAML terms.

`spec.parameters[1].max: must be greater than min (got min=5.0, max=1.0)` tells a user
what to fix; pydantic's raw locations (`parameters.1.float.max`) do not. Where the API
server has its own wording for a schema check (enums, required fields, patterns), the
same words are used, so local mode and `kubectl apply` read alike.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from kubetune.api import rules

# Union members are tagged by these values in pydantic locations; YAML has no such level.
_TAGGED_FIELDS = ("algorithm", "earlyStopping")
# pydantic's strict type errors -> the JSON type the field expects, as the API server says.
_EXPECTED_TYPES = {
    "int_type": "integer",
    "float_type": "number",
    "string_type": "string",
    "bool_type": "boolean",
    "list_type": "array",
    "dict_type": "object",
    "model_type": "object",
    "model_attributes_type": "object",
}


class SpecError(ValueError):
    """A resource failed validation; `errors` lists one message per problem."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def _is_parameter_tag(location: tuple[int | str, ...], position: int) -> bool:
    return position > 1 and location[position - 2] == "parameters"


def _yaml_path(location: tuple[int | str, ...]) -> str:
    path = ""
    for position, part in enumerate(location):
        previous = location[position - 1] if position else None
        if isinstance(part, int):
            path += f"[{part}]"
        elif previous in _TAGGED_FIELDS or _is_parameter_tag(location, position):
            continue  # the union tag pydantic inserts after a tagged field
        else:
            path += f".{part}" if path else part
    return path


def _message(error: ErrorDetails) -> tuple[str, str]:
    """The (path suffix, message) of one error."""
    context: dict[str, Any] = dict(error.get("ctx") or {})
    kind = error["type"]
    if kind == rules.RULE_ERROR_TYPE:
        return "." + context["field"], context["text"]
    if kind == "unsupported_value":
        given = error["input"].get(context["field"]) if isinstance(error["input"], dict) else None
        return "." + context["field"], (
            f'Unsupported value: "{given}": supported values: {context["supported"]}'
        )
    if kind == "union_tag_invalid":
        field = context["discriminator"].strip("'")
        supported = context["expected_tags"].replace("'", '"')
        return f".{field}", f'Unsupported value: "{context["tag"]}": supported values: {supported}'
    if kind == "union_tag_not_found":
        return "." + context["discriminator"].strip("'"), "Required value"
    if kind in _EXPECTED_TYPES:
        return "", rules.wrong_type(error["input"], _EXPECTED_TYPES[kind])
    if kind == "missing":
        return "", "Required value"
    if kind == "extra_forbidden":
        return "", rules.UNKNOWN_FIELD
    if kind == "literal_error":
        supported = ", ".join(f'"{tag}"' for tag in re.findall(r"'([^']*)'", context["expected"]))
        return "", f'Unsupported value: "{error["input"]}": supported values: {supported}'
    if kind == "too_short":
        return "", f"should have at least {context['min_length']} items"
    if kind == "too_long":
        return "", f"must have at most {context['max_length']} items"
    if kind == "string_pattern_mismatch":
        return "", f"should match '{context['pattern']}'"
    return "", error["msg"]


def format_errors(error: ValidationError, prefix: str = "") -> list[str]:
    """One `path: message` line per error, paths relative to the resource root."""
    lines = []
    for detail in error.errors():
        suffix, message = _message(detail)
        path = (_yaml_path(tuple(detail["loc"])) + suffix).lstrip(".")
        if prefix:
            path = f"{prefix}.{path}" if path else prefix
        lines.append(f"{path}: {message}")
    return lines
