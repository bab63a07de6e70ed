"""`spec.limits`: when the search stops, how many trials run at once, and durations.

Durations are Go-style strings limited to hours, minutes and seconds ("90m", "2h",
"1h30m", "45s"), checked by one regular expression shared with the CRD `pattern`.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Self

from pydantic import ConfigDict, Field, model_validator
from pydantic.alias_generators import to_snake

from kubetune.api import rules
from kubetune.api.base import SpecModel

DURATION_PATTERN = r"^([0-9]+h([0-9]+m)?([0-9]+s)?|[0-9]+m([0-9]+s)?|[0-9]+s)$"
_DURATION_PARTS = re.compile(r"([0-9]+)([hms])")
_UNIT_SECONDS = {"h": 3600, "m": 60, "s": 1}

Duration = Annotated[str, Field(pattern=DURATION_PATTERN, max_length=32)]


def parse_duration(text: str) -> timedelta:
    """`"1h30m"` -> 90 minutes; a ValueError names the accepted forms otherwise."""
    if not re.fullmatch(DURATION_PATTERN, text):
        raise ValueError(f"invalid duration {text!r}: {rules.INVALID_DURATION}")
    seconds = sum(int(n) * _UNIT_SECONDS[unit] for n, unit in _DURATION_PARTS.findall(text))
    return timedelta(seconds=seconds)


# A zero trial timeout fails every trial at once, a zero maxDuration ends the search before
# it starts: both are accepted-but-hopeless specs, refused at apply.
_POSITIVE_DURATIONS = ("maxDuration", "trialTimeout")


def _positive_duration_rule(field: str) -> dict[str, str]:
    """The CEL rule: a duration matching DURATION_PATTERN is zero when no digit is 1-9."""
    rule = f"!has(self.{field}) || self.{field}.matches('[1-9]')"
    return rules.cel(rule, rules.DURATION_POSITIVE, field=f".{field}")


class Limits(SpecModel):
    """Budget of the search: trial counts, failures tolerated, wall-clock durations."""

    model_config = ConfigDict(
        json_schema_extra=rules.cel_rules(
            rules.cel(
                f"{rules.or_default('parallelTrials', 1)} <= {rules.or_default('maxTrials', 10)}",
                rules.PARALLEL_WITHIN_MAX_TRIALS,
                field=".parallelTrials",
            ),
            *(_positive_duration_rule(field) for field in _POSITIVE_DURATIONS),
        )
    )

    max_trials: int = Field(10, ge=1, le=100_000)
    """Trials created in total; the search ends once they have all finished."""
    parallel_trials: int = Field(1, ge=1)
    """Trials running at the same time (e.g. GPUs available); at most maxTrials."""
    max_failed_trials: int = Field(3, ge=0)
    """Failed trials tolerated: one more fails the experiment."""
    max_duration: Duration | None = None
    """Wall-clock budget of the search, such as 2h or 1h30m (hours, minutes, seconds);
    when spent, running trials are stopped. Unset: no limit."""
    trial_timeout: Duration | None = None
    """Wall-clock limit of one trial, such as 45m; a trial that runs longer fails.
    Unset: no limit."""
    trial_retries: int = Field(0, ge=0, le=10)
    """Times a failed trial pod is retried (its Job's backoffLimit) before the trial fails."""

    @model_validator(mode="after")
    def _check_parallelism(self) -> Self:
        if self.parallel_trials > self.max_trials:
            detail = f"got parallelTrials={self.parallel_trials}, maxTrials={self.max_trials}"
            raise rules.rule_error("parallelTrials", rules.PARALLEL_WITHIN_MAX_TRIALS, detail)
        return self

    @model_validator(mode="after")
    def _check_positive_durations(self) -> Self:
        for field in _POSITIVE_DURATIONS:
            text = getattr(self, to_snake(field))
            if text is not None and parse_duration(text) == timedelta(0):
                raise rules.rule_error(field, rules.DURATION_POSITIVE, f"got {text}")
        return self
