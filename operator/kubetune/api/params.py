"""The four kinds of tunable parameter, as written under `spec.parameters`.

Each kind is its own model, told apart by `type`, so a float parameter cannot carry
categorical `values` and every field is checked where it belongs. The generated CRD
flattens these into one object with CEL rules per kind (see `schema`).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError, PydanticKnownError

from kubetune.api import rules
from kubetune.api.base import MAX_NAME_LENGTH, MAX_VALUES, SpecModel

# Hyphens are allowed (Katib users write `num-layers`): a placeholder takes any name, and
# the environment variable turns each hyphen into `_` (`param_env_name`).
PARAMETER_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_-]*$"
PARAM_ENV_PREFIX = "KUBETUNE_PARAM_"


def param_env_name(name: str) -> str:
    """`learning-rate` -> `KUBETUNE_PARAM_LEARNING_RATE` (env names allow [A-Z0-9_])."""
    return PARAM_ENV_PREFIX + re.sub(r"[^A-Za-z0-9_]", "_", name).upper()


def _check_parameter_name(name: str) -> str:
    """The pattern, refused in words rather than as a bare regular expression."""
    if not re.fullmatch(PARAMETER_NAME_PATTERN, name):
        raise PydanticCustomError("parameter_name", rules.PARAMETER_NAME)
    return name


ParameterName = Annotated[
    str,
    Field(
        max_length=MAX_NAME_LENGTH,
        description="Identifier of the parameter in ${name} placeholders of the trial template"
        " and in the KUBETUNE_PARAM_<NAME> environment variable.",
        json_schema_extra=rules.cel_rules(
            rules.cel(f"self.matches('{PARAMETER_NAME_PATTERN}')", rules.PARAMETER_NAME)
        ),
    ),
    AfterValidator(_check_parameter_name),
]
Scale = Literal["linear", "log"]
CategoryValue = Annotated[str, Field(max_length=MAX_NAME_LENGTH)]


def _require_json_number(value: object) -> object:
    """One error, "must be of type number", rather than one per member of `int | float`."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticKnownError("float_type")
    return value


# An integer stays an integer (a batch size of 16 is written "16" into the command).
Number = Annotated[int | float, BeforeValidator(_require_json_number)]


def _bound_rule(field: str) -> dict[str, str]:
    """The CEL rule keeping one bound within +-MAX_BOUND (see `rules.MAX_BOUND` for why)."""
    limit = f"{rules.MAX_BOUND:.1e}"
    rule = f"!has(self.{field}) || (self.{field} >= -{limit} && self.{field} <= {limit})"
    return rules.cel(rule, rules.BOUND_TOO_LARGE, field=f".{field}")


class _RangeParameter(SpecModel):
    """Shared checks of a numeric range: bounds of a magnitude the search can represent,
    ordered, and positive on log scale."""

    model_config = ConfigDict(
        json_schema_extra=rules.cel_rules(
            rules.cel(
                "!has(self.min) || !has(self.max) || self.max > self.min",
                rules.MAX_GREATER_THAN_MIN,
                field=".max",
            ),
            rules.cel(
                "!has(self.scale) || self.scale != 'log' || !has(self.min) || self.min > 0.0",
                rules.LOG_SCALE_NEEDS_POSITIVE_MIN,
                field=".min",
            ),
            *(_bound_rule(field) for field in ("min", "max")),
        )
    )

    name: ParameterName
    min: float
    """Smallest value, inclusive."""
    max: float
    """Largest value, inclusive; greater than min."""
    scale: Scale = "linear"
    """How values are spread: linear, or log (for ranges over orders of magnitude; min > 0)."""

    @model_validator(mode="after")
    def _check_range(self) -> Self:
        for field, bound in (("min", self.min), ("max", self.max)):
            if abs(bound) > rules.MAX_BOUND:
                raise rules.rule_error(field, rules.BOUND_TOO_LARGE, f"got {bound}")
        if self.max <= self.min:
            detail = f"got min={self.min}, max={self.max}"
            raise rules.rule_error("max", rules.MAX_GREATER_THAN_MIN, detail)
        if self.scale == "log" and self.min <= 0:
            detail = f"got min={self.min}"
            raise rules.rule_error("min", rules.LOG_SCALE_NEEDS_POSITIVE_MIN, detail)
        return self


class FloatParameter(_RangeParameter):
    """A real number in [min, max], sampled uniformly or on a log scale."""

    type: Literal["float"]
    """The kind of parameter."""


class IntParameter(_RangeParameter):
    """An integer in [min, max] on a grid of `step`, e.g. a layer width."""

    type: Literal["int"]
    """The kind of parameter."""
    min: int  # narrows the float bound of the base
    """Smallest value, inclusive."""
    max: int
    """Largest value, inclusive; greater than min."""
    step: int = Field(1, ge=1)
    """Distance between allowed values, counted from min."""


def _first_duplicate(values: list[str] | list[Number]) -> str | None:
    seen: set[object] = set()
    for value in values:
        if value in seen:
            return repr(value)
        seen.add(value)
    return None


class CategoricalParameter(SpecModel):
    """One of an unordered set of strings, e.g. a kernel or an optimizer name."""

    name: ParameterName
    type: Literal["categorical"]
    """The kind of parameter."""
    values: list[CategoryValue] = Field(min_length=1, max_length=MAX_VALUES)
    """The values to choose from, each listed once."""

    @model_validator(mode="after")
    def _check_unique(self) -> Self:
        if duplicate := _first_duplicate(self.values):
            raise rules.rule_error("values", rules.VALUES_UNIQUE, f"{duplicate} repeats")
        return self


class DiscreteParameter(SpecModel):
    """One of an ordered list of numbers, e.g. batch sizes 16, 32, 64."""

    name: ParameterName
    type: Literal["discrete"]
    """The kind of parameter."""
    values: list[Number] = Field(min_length=1, max_length=MAX_VALUES)
    """The values to choose from, each listed once."""

    @model_validator(mode="after")
    def _check_unique(self) -> Self:
        if duplicate := _first_duplicate(self.values):
            raise rules.rule_error("values", rules.VALUES_UNIQUE, f"{duplicate} repeats")
        return self


Parameter = Annotated[
    FloatParameter | IntParameter | CategoricalParameter | DiscreteParameter,
    Field(
        discriminator="type",
        description="One hyperparameter: its name, its type, and the values it may take.",
    ),
]
PARAMETER_TYPES = ("float", "int", "categorical", "discrete")
