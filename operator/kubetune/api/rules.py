"""The wording of every cross-field rule, shared by the Python validators and the CEL
rules of the generated CRDs.

A user gets the same words from `kubectl apply` (CEL) and from local mode (pydantic), and
the examples under examples/invalid/ name one of these phrases as the error they expect.
Each message is reported under the field it concerns (`fieldPath` in CEL, the error path
in Python), so messages do not repeat the field name.
"""

from __future__ import annotations

from typing import Any

from pydantic import JsonValue
from pydantic_core import PydanticCustomError

from kubetune.reporting.protocol import METRIC_NAME_PATTERN, STEP_KEY

MAX_GREATER_THAN_MIN = "must be greater than min"
LOG_SCALE_NEEDS_POSITIVE_MIN = "must be greater than 0 for log scale"
VALUES_UNIQUE = "values must be unique"
PARAMETER_NAMES_UNIQUE = "parameter names must be unique"
PARAMETER_NAME = (
    "must start with a letter or _ and hold only letters, digits, _ and -"
    " (rename it, e.g. 'num layers' to num_layers or num-layers)"
)
PARAMETER_ENV_NAMES_UNIQUE = (
    "parameter names must differ in more than case and - versus _:"
    " each becomes the variable KUBETUNE_PARAM_<NAME>, upper case with - as _"
)
PARALLEL_WITHIN_MAX_TRIALS = "must not exceed maxTrials"
MAX_RESOURCE_GREATER_THAN_MIN = "must be greater than minResource"
TOURNAMENT_WITHIN_POPULATION = "must not exceed populationSize"
TEMPLATE_NEEDS_CONTAINER = "must have at least one container in spec.containers"
UNKNOWN_FIELD = "Forbidden: unknown field"
INVALID_DURATION = "must be a duration such as 45s, 90m, 2h or 1h30m"
DURATION_POSITIVE = "must be longer than 0s"
REPORTABLE_METRIC = (
    f"must be a metric name a trainer can report: {METRIC_NAME_PATTERN}, other than {STEP_KEY}"
)
STRATEGY_FOR_KNOWN_METRIC = "must name the objective metric or one of additionalMetrics"
ONE_OBJECTIVE_FORM = "exactly one of objective and objectives must be set"
OBJECTIVE_METRICS_UNIQUE = "objective metrics must be unique"
CONSTRAINT_NEEDS_BOUND = "must set min, max or both"
MAX_NOT_BELOW_MIN = "must not be less than min"
REFERENCE_POINT_PER_OBJECTIVE = "must hold one value per entry of objectives"
# Bounds of int and float parameters. The search maps [min, max] onto [0, 1] through
# max - min, which overflows to infinity near 1e308 (every trial then lands on a bound),
# and it handles integers as float64, exact only up to 2**53 (about 9.007e15). 1e15 keeps
# every integer in range exact and the span finite with room to spare; log scale has no
# use for more, and a wider linear range is better written as a scale of its own.
MAX_BOUND = 1e15
BOUND_TOO_LARGE = "must be between -1e15 and 1e15"
# Trial and Job names append "-NNNNN" to the experiment's name, and a Job's name must fit
# the 63-character label value its pods carry.
MAX_EXPERIMENT_NAME_LENGTH = 57
EXPERIMENT_NAME_TOO_LONG = f"must be at most {MAX_EXPERIMENT_NAME_LENGTH} characters"

RULE_ERROR_TYPE = "kubetune_rule"

# JSON's names for Python values, as the API server names them in a type error.
_JSON_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "boolean"),  # before int: a bool is an int in Python, never in JSON
    (int, "integer"),
    (float, "number"),
    (str, "string"),
    (list, "array"),
    (dict, "object"),
)


def json_type(value: Any) -> str:
    """The JSON type of a parsed YAML value: `"5"` is a string, `5` an integer."""
    if value is None:
        return "null"
    return next((name for kind, name in _JSON_TYPES if isinstance(value, kind)), "unknown")


def wrong_type(value: Any, expected: str) -> str:
    """The API server's words for a schema type error, e.g. a string where a number goes."""
    return f'Invalid value: "{json_type(value)}": must be of type {expected}'


def rule_error(field: str, message: str, detail: str = "") -> PydanticCustomError:
    """An error that the formatter in `errors` reports under `<model path>.<field>`."""
    text = f"{message} ({detail})" if detail else message
    return PydanticCustomError(RULE_ERROR_TYPE, "{text}", {"field": field, "text": text})


def cel(rule: str, message: str, field: str = "", reason: str = "") -> dict[str, str]:
    """One `x-kubernetes-validations` entry; `field` is a fieldPath such as `.max`."""
    entry = {"rule": rule, "message": message}
    if field:
        entry["fieldPath"] = field
    if reason:
        entry["reason"] = reason
    return entry


def cel_rules(*entries: dict[str, str]) -> dict[str, JsonValue]:
    """A model's `json_schema_extra`: the CEL rules the CRD generator copies."""
    rules: list[JsonValue] = [dict(entry) for entry in entries]
    return {"x-kubernetes-validations": rules}


def or_default(field: str, default: int) -> str:
    """A CEL term for an optional integer field, read with its default when absent."""
    return f"(has(self.{field}) ? self.{field} : {default})"
