"""What judges a trial: the objectives it optimizes and the constraints it must meet.

An experiment names one objective (`spec.objective`, with an optional target) or several
(`spec.objectives`, the first primary), and optionally constraints on other metrics
(`spec.constraints`). `Criteria` is the one view of them the planner reads, whichever
form the user wrote; a constraint's violation is computed here and nowhere else.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Literal, Self

from pydantic import ConfigDict, Field, model_validator

from kubetune.api import rules
from kubetune.api.base import MAX_METRICS, MAX_NAME_LENGTH, SpecModel
from kubetune.api.trial import MetricStrategy
from kubetune.reporting.protocol import METRIC_NAME_PATTERN, STEP_KEY, is_metric_name

MetricName = Annotated[str, Field(min_length=1, max_length=MAX_NAME_LENGTH)]
# CEL's form of `is_metric_name`, built from the protocol's own pattern.
_REPORTABLE = f"matches('^{METRIC_NAME_PATTERN}$') && {{0}} != '{STEP_KEY}'"
_METRIC_RULE = rules.cel(
    "self.metric." + _REPORTABLE.format("self.metric"), rules.REPORTABLE_METRIC, field=".metric"
)
# Strategies may only name metrics the experiment records: a typo would silently keep
# `latest` for the metric meant.
_KNOWN_STRATEGY_KEYS = (
    "!has(self.strategies) || self.strategies.all(k, k == self.metric"
    " || (has(self.additionalMetrics) && k in self.additionalMetrics))"
)


def _check_metric_name(field: str, name: str) -> None:
    """A metric no trainer can report would fail every trial: refuse it at apply."""
    if not is_metric_name(name):
        raise rules.rule_error(field, rules.REPORTABLE_METRIC, f"got {name!r}")


class Goal(SpecModel):
    """One objective among several: a metric and its direction."""

    model_config = ConfigDict(json_schema_extra=rules.cel_rules(_METRIC_RULE))

    metric: MetricName
    """Name of the metric the trainer reports (e.g. val_accuracy) that the search tunes."""
    goal: Literal["minimize", "maximize"] = "maximize"
    """Whether a larger (maximize) or a smaller (minimize) metric is better."""

    @model_validator(mode="after")
    def _check_reportable(self) -> Self:
        _check_metric_name("metric", self.metric)
        return self

    def to_minimized(self, value: float) -> float:
        """Search algorithms minimize: negate maximized metrics."""
        return -value if self.goal == "maximize" else value


class Objective(Goal):
    """The metric the search optimizes, its direction, and an optional goal."""

    model_config = ConfigDict(
        json_schema_extra=rules.cel_rules(
            _METRIC_RULE,
            rules.cel(
                "!has(self.additionalMetrics) || self.additionalMetrics.all(m, m."
                + _REPORTABLE.format("m")
                + ")",
                rules.REPORTABLE_METRIC,
                field=".additionalMetrics",
            ),
            rules.cel(_KNOWN_STRATEGY_KEYS, rules.STRATEGY_FOR_KNOWN_METRIC, field=".strategies"),
        )
    )

    target: float | None = None
    """The search succeeds and stops once a trial reaches this value; unset: no goal."""
    additional_metrics: list[MetricName] = Field(default_factory=list, max_length=MAX_METRICS)
    """Other metrics of interest, recorded like every reported metric; never tuned."""
    strategies: dict[MetricName, MetricStrategy] = Field(
        default_factory=dict, max_length=MAX_METRICS + 1
    )
    """Per metric (the objective or one of additionalMetrics), which of its reported values
    a trial records: latest (the default), min or max."""

    @model_validator(mode="after")
    def _check_additional_reportable(self) -> Self:
        for name in self.additional_metrics:
            _check_metric_name("additionalMetrics", name)  # where the CEL rule reports it
        return self

    @model_validator(mode="after")
    def _check_strategy_keys(self) -> Self:
        recorded = {self.metric, *self.additional_metrics}
        for name in self.strategies:
            if name not in recorded:
                detail = f"got {name!r}"
                raise rules.rule_error("strategies", rules.STRATEGY_FOR_KNOWN_METRIC, detail)
        return self

    def is_reached(self, value: float) -> bool:
        """Whether `value` meets `target` (never, without a target)."""
        if self.target is None:
            return False
        return value >= self.target if self.goal == "maximize" else value <= self.target


class Constraint(SpecModel):
    """A metric a trial must keep within bounds to count as feasible."""

    model_config = ConfigDict(
        json_schema_extra=rules.cel_rules(
            _METRIC_RULE,
            rules.cel("has(self.min) || has(self.max)", rules.CONSTRAINT_NEEDS_BOUND, field=".min"),
            rules.cel(
                "!has(self.min) || !has(self.max) || self.max >= self.min",
                rules.MAX_NOT_BELOW_MIN,
                field=".max",
            ),
        )
    )

    metric: MetricName
    """Name of a metric the trainer reports (e.g. latency_ms)."""
    min: float | None = None
    """The smallest value a feasible trial may record; unset: no lower bound."""
    max: float | None = None
    """The largest value a feasible trial may record; unset: no upper bound."""

    @model_validator(mode="after")
    def _check_bounds(self) -> Self:
        _check_metric_name("metric", self.metric)
        if self.min is None and self.max is None:
            raise rules.rule_error("min", rules.CONSTRAINT_NEEDS_BOUND)
        if self.min is not None and self.max is not None and self.max < self.min:
            raise rules.rule_error("max", rules.MAX_NOT_BELOW_MIN, f"{self.max} < {self.min}")
        return self

    def violation(self, value: float | None) -> float:
        """At most 0 when `value` is within the bounds, else its distance to the nearest
        bound; infinite when the trial never reported the metric (nothing shows it holds)."""
        if value is None or math.isnan(value):
            return math.inf
        gaps = [gap for gap in (_gap(self.min, value), _gap(value, self.max)) if gap is not None]
        return max(gaps)


def _gap(low: float | None, high: float | None) -> float | None:
    return None if low is None or high is None else low - high


@dataclass(frozen=True)
class Criteria:
    """The objectives in spec order (the first primary) and the constraints of an
    experiment: what the planner judges a trial by."""

    objectives: tuple[Goal, ...]
    constraints: tuple[Constraint, ...] = ()

    @property
    def primary(self) -> Goal:
        return self.objectives[0]

    @property
    def several(self) -> bool:
        """Whether the search trades several objectives off (a Pareto front)."""
        return len(self.objectives) > 1

    @property
    def metrics(self) -> tuple[str, ...]:
        return tuple(goal.metric for goal in self.objectives)

    @property
    def key(self) -> str:
        """What a cache of decisions depends on: an edit of any part refolds."""
        parts = [*(g.model_dump_json() for g in self.objectives), *self._constraint_texts()]
        return "|".join(parts)

    def _constraint_texts(self) -> list[str]:
        return [constraint.model_dump_json() for constraint in self.constraints]

    def to_minimized(self, values: Sequence[float]) -> tuple[float, ...]:
        """One value per objective, in spec order, minimized (or, as negation is its own
        inverse, minimized values as reported)."""
        pairs = zip(self.objectives, values, strict=True)
        return tuple(goal.to_minimized(value) for goal, value in pairs)

    def violations(self, values: Mapping[str, float]) -> tuple[float, ...]:
        """One per constraint (see `Constraint.violation`)."""
        return tuple(c.violation(values.get(c.metric)) for c in self.constraints)
