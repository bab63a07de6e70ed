"""The `TuningExperiment` resource: what to optimize, over which space, how, and within
which limits. Its status lives in `status.py`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import ConfigDict, Field, model_validator

from kubetune.api import rules
from kubetune.api.algorithm import AlgorithmSpec, BayesianAlgorithm
from kubetune.api.base import (
    GROUP_VERSION,
    MAX_METRICS,
    MAX_NAME_LENGTH,
    MAX_PARAMETERS,
    SpecModel,
)
from kubetune.api.limits import Limits
from kubetune.api.params import Parameter, param_env_name
from kubetune.api.status import TuningExperimentStatus
from kubetune.api.stopping import EarlyStoppingSpec, NoStopping
from kubetune.api.trial import MetricStrategy
from kubetune.api.trialspec import TrialSpec
from kubetune.reporting.protocol import METRIC_NAME_PATTERN, STEP_KEY, is_metric_name

MetricName = Annotated[str, Field(min_length=1, max_length=MAX_NAME_LENGTH)]
# CEL's form of `is_metric_name`, built from the protocol's own pattern.
_REPORTABLE = f"matches('^{METRIC_NAME_PATTERN}$') && {{0}} != '{STEP_KEY}'"
# Strategies may only name metrics the experiment records: a typo would silently keep
# `latest` for the metric meant.
_KNOWN_STRATEGY_KEYS = (
    "!has(self.strategies) || self.strategies.all(k, k == self.metric"
    " || (has(self.additionalMetrics) && k in self.additionalMetrics))"
)


class Objective(SpecModel):
    """The metric the search optimizes, its direction, and an optional goal."""

    model_config = ConfigDict(
        json_schema_extra=rules.cel_rules(
            rules.cel(
                "self.metric." + _REPORTABLE.format("self.metric"),
                rules.REPORTABLE_METRIC,
                field=".metric",
            ),
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

    metric: MetricName
    """Name of the metric the trainer reports (e.g. val_accuracy) that the search tunes."""
    goal: Literal["minimize", "maximize"] = "maximize"
    """Whether a larger (maximize) or a smaller (minimize) metric is better."""
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
    def _check_reportable(self) -> Self:
        """A metric no trainer can report would fail every trial: refuse it at apply."""
        if not is_metric_name(self.metric):
            raise rules.rule_error("metric", rules.REPORTABLE_METRIC, f"got {self.metric!r}")
        for name in self.additional_metrics:
            if not is_metric_name(name):
                detail = f"got {name!r}"  # under the list, where the CEL rule reports it
                raise rules.rule_error("additionalMetrics", rules.REPORTABLE_METRIC, detail)
        return self

    @model_validator(mode="after")
    def _check_strategy_keys(self) -> Self:
        recorded = {self.metric, *self.additional_metrics}
        for name in self.strategies:
            if name not in recorded:
                detail = f"got {name!r}"
                raise rules.rule_error("strategies", rules.STRATEGY_FOR_KNOWN_METRIC, detail)
        return self

    def to_minimized(self, value: float) -> float:
        """Search algorithms minimize: negate maximized metrics."""
        return -value if self.goal == "maximize" else value

    def is_reached(self, value: float) -> bool:
        """Whether `value` meets `target` (never, without a target)."""
        if self.target is None:
            return False
        return value >= self.target if self.goal == "maximize" else value <= self.target


# CEL's form of `param_env_name` for hyphens, the one character a name may hold that an
# environment variable may not.
_ENV_SPELLING = "{0}.name.upperAscii().replace('-', '_')"


class TuningExperimentSpec(SpecModel):
    """What to tune, over which space, with which algorithm, within which limits."""

    model_config = ConfigDict(
        json_schema_extra=rules.cel_rules(
            rules.cel(
                "self.parameters.all(p, self.parameters.exists_one(q, q.name == p.name))",
                rules.PARAMETER_NAMES_UNIQUE,
                field=".parameters",
            ),
            rules.cel(
                f"self.parameters.all(p, self.parameters.exists_one(q, "
                f"{_ENV_SPELLING.format('q')} == {_ENV_SPELLING.format('p')}))",
                rules.PARAMETER_ENV_NAMES_UNIQUE,
                field=".parameters",
            ),
        )
    )

    objective: Objective
    """The metric to optimize, its direction and an optional target."""
    parameters: list[Parameter] = Field(min_length=1, max_length=MAX_PARAMETERS)
    """The search space: one entry per hyperparameter, each with a unique name."""
    algorithm: AlgorithmSpec = Field(default_factory=BayesianAlgorithm)
    """The algorithm that suggests parameters and its settings; unset: bayesian."""
    early_stopping: EarlyStoppingSpec = Field(default_factory=NoStopping)
    """The rule that stops losing trials before they finish; unset: none."""
    limits: Limits = Field(default_factory=Limits)
    """Trial budget, parallelism, failures tolerated and durations."""
    trial: TrialSpec
    """The pod every trial runs and the GPUs it requests."""
    suspend: bool = False
    """While true, no new trials start and the Jobs of running trials are suspended."""

    @model_validator(mode="after")
    def _check_unique_names(self) -> Self:
        seen: set[str] = set()
        for index, parameter in enumerate(self.parameters):
            if parameter.name in seen:
                detail = f"{parameter.name!r} repeats"
                field = f"parameters[{index}].name"
                raise rules.rule_error(field, rules.PARAMETER_NAMES_UNIQUE, detail)
            seen.add(parameter.name)
        return self._check_unique_env_names()

    def _check_unique_env_names(self) -> Self:
        """`lr` and `LR`, or `num-layers` and `num_layers`, would share one variable."""
        owners: dict[str, str] = {}
        for index, parameter in enumerate(self.parameters):
            variable = param_env_name(parameter.name)
            if variable in owners:
                detail = f"{owners[variable]!r} and {parameter.name!r} are both {variable}"
                field = f"parameters[{index}].name"
                raise rules.rule_error(field, rules.PARAMETER_ENV_NAMES_UNIQUE, detail)
            owners[variable] = parameter.name
        return self


# ObjectMeta's fields (Kubernetes v1): strict field validation refuses any other key under
# metadata, so a typo such as `label:` fails at apply rather than being dropped.
OBJECT_META_FIELDS = frozenset(
    [
        "name",
        "generateName",
        "namespace",
        "selfLink",
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "labels",
        "annotations",
        "ownerReferences",
        "finalizers",
        "managedFields",
    ]
)


class TuningExperiment(SpecModel):
    """A hyperparameter search: trials suggested, run as Jobs and judged by a metric."""

    api_version: Literal["kubetune.dev/v1alpha1"] = GROUP_VERSION
    kind: Literal["TuningExperiment"] = "TuningExperiment"
    metadata: dict[str, Any] = Field(default_factory=dict)
    spec: TuningExperimentSpec
    status: TuningExperimentStatus = Field(default_factory=TuningExperimentStatus)

    @model_validator(mode="after")
    def _check_name_length(self) -> Self:
        name = str(self.metadata.get("name", ""))
        if len(name) > rules.MAX_EXPERIMENT_NAME_LENGTH:
            detail = f"got {len(name)}"
            raise rules.rule_error("metadata.name", rules.EXPERIMENT_NAME_TOO_LONG, detail)
        return self

    @model_validator(mode="after")
    def _check_metadata_fields(self) -> Self:
        unknown = sorted(set(self.metadata) - OBJECT_META_FIELDS)
        if unknown:
            raise rules.rule_error(f"metadata.{unknown[0]}", rules.UNKNOWN_FIELD)
        return self
