"""The wording of every cross-field rule, shared by the Python validators and the CEL
rules of the generated CRDs.

A user gets the same words from `kubectl apply` (CEL) and from local mode (pydantic), and
the examples under examples/invalid/ name one of these phrases as the error they expect.
Each message is reported under the field it concerns (`fieldPath` in CEL, the error path
in Python), so messages do not repeat the field name.
"""

from __future__ import annotations

from pydantic import JsonValue
from pydantic_core import PydanticCustomError

MAX_GREATER_THAN_MIN = "must be greater than min"
LOG_SCALE_NEEDS_POSITIVE_MIN = "must be greater than 0 for log scale"
VALUES_UNIQUE = "values must be unique"
PARAMETER_NAMES_UNIQUE = "parameter names must be unique"
PARALLEL_WITHIN_MAX_TRIALS = "must not exceed maxTrials"
MAX_RESOURCE_GREATER_THAN_MIN = "must be greater than minResource"
TOURNAMENT_WITHIN_POPULATION = "must not exceed populationSize"
TEMPLATE_NEEDS_CONTAINER = "must have at least one container in spec.containers"
INVALID_DURATION = "must be a duration such as 45s, 90m, 2h or 1h30m"
# Trial and Job names append "-NNNNN" to the experiment's name, and a Job's name must fit
# the 63-character label value its pods carry.
MAX_EXPERIMENT_NAME_LENGTH = 57
EXPERIMENT_NAME_TOO_LONG = f"must be at most {MAX_EXPERIMENT_NAME_LENGTH} characters"

RULE_ERROR_TYPE = "kubetune_rule"


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
