"""A trial workload's outcome read from its status by the kind's CEL rules
(`api.workload.KindRules`: built in per kind, or the experiment's successWhen and
failureWhen).

A rule sees one variable, `status`, the object's status as the API server returns it. A
field the status does not have yet (a JobSet just created has no conditions) makes the
rule false rather than an error, as `has()` would: the outcome is not known yet. Any other
error (a rule that compares a string with a number, or is not a bool) is the rule's
fault and names it, since retrying cannot change it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import cel

from kubetune.api.workload import KindRules

FIELD = "spec.trial.workload"


class Verdict(StrEnum):
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"


class WorkloadRuleError(ValueError):
    """A rule that cannot judge a status; the message names the rule's field."""


def verdict(rules: KindRules, status: dict[str, Any]) -> Verdict | None:
    """Failed, Succeeded, or None while neither rule holds. Failure is asked first: a
    workload whose status says both has not succeeded."""
    if _holds(rules.failure_when, status, "failureWhen"):
        return Verdict.FAILED
    if _holds(rules.success_when, status, "successWhen"):
        return Verdict.SUCCEEDED
    return None


def _holds(expression: str, status: dict[str, Any], field: str) -> bool:
    try:
        value = cel.compile(expression).execute({"status": status})
    except LookupError:  # a field (or item) the status does not have yet
        return False
    except (RuntimeError, TypeError, ValueError) as error:
        raise WorkloadRuleError(f"{FIELD}.{field}: {expression!r}: {error}") from None
    if not isinstance(value, bool):
        raise WorkloadRuleError(f"{FIELD}.{field}: {expression!r} gave {value!r}, not a bool")
    return value
