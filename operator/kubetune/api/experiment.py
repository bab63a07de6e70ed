"""The `TuningExperiment` resource: what to optimize, over which space, how, and within
which limits. Its status lives in `status.py`.
"""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import ConfigDict, Field, model_validator

from kubetune.api import rules
from kubetune.api.algorithm import AlgorithmSpec, BayesianAlgorithm
from kubetune.api.base import (
    GROUP_VERSION,
    MAX_METRICS,
    MAX_OBJECTIVES,
    MAX_PARAMETERS,
    SpecModel,
)
from kubetune.api.limits import Limits
from kubetune.api.objectives import Constraint, Criteria, Goal, Objective
from kubetune.api.params import Parameter, param_env_name
from kubetune.api.status import TuningExperimentStatus
from kubetune.api.stopping import EarlyStoppingSpec, NoStopping
from kubetune.api.trialspec import TrialSpec

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
            rules.cel(
                "has(self.objective) != has(self.objectives)",
                rules.ONE_OBJECTIVE_FORM,
                field=".objective",
            ),
            rules.cel(
                "!has(self.objectives) || self.objectives.all(o,"
                " self.objectives.exists_one(p, p.metric == o.metric))",
                rules.OBJECTIVE_METRICS_UNIQUE,
                field=".objectives",
            ),
            rules.cel(
                "!has(self.referencePoint) || (has(self.objectives)"
                " && size(self.referencePoint) == size(self.objectives))",
                rules.REFERENCE_POINT_PER_OBJECTIVE,
                field=".referencePoint",
            ),
        )
    )

    single_objective: Objective | None = Field(default=None, alias="objective")
    """The metric to optimize, its direction and an optional target. Exactly one of
    objective and objectives is set."""
    objectives: list[Goal] | None = Field(default=None, min_length=2, max_length=MAX_OBJECTIVES)
    """Several metrics to optimize at once, each with its direction; the first is primary
    (it picks status.best). The search looks for the Pareto front of their trade-off and
    runs to its limits (there is no target)."""
    constraints: list[Constraint] = Field(default_factory=list, max_length=MAX_METRICS)
    """Metrics a trial must keep within bounds: a trial outside them is infeasible, kept
    and marked (status.feasible false), never the best trial nor on the Pareto front."""
    reference_point: list[float] | None = Field(default=None, max_length=MAX_OBJECTIVES)
    """With objectives: the worst value of each objective, in its order and units, that
    still counts toward status.pareto.hypervolume; unset: derived from the trials (see
    docs/multi-objective.md)."""
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

    @property
    def objective(self) -> Objective:
        """The primary objective, whichever form the spec uses: with objectives, the first
        one, its further objectives listed as additional metrics."""
        if self.single_objective is not None:
            return self.single_objective
        first, *others = self.objectives or []
        return Objective.model_construct(
            metric=first.metric,
            goal=first.goal,
            additional_metrics=[goal.metric for goal in others],
        )

    @property
    def criteria(self) -> Criteria:
        """Every objective in order and every constraint, as the planner judges trials."""
        objectives = tuple(self.objectives or [self.objective])
        return Criteria(objectives, tuple(self.constraints))

    @property
    def recorded_metrics(self) -> list[str]:
        """The metrics the spec names: objectives, additional metrics, constraints."""
        objective = self.objective
        named = [objective.metric, *objective.additional_metrics]
        return list(dict.fromkeys([*named, *(c.metric for c in self.constraints)]))

    @model_validator(mode="after")
    def _check_objective_form(self) -> Self:
        if (self.single_objective is None) == (self.objectives is None):
            raise rules.rule_error("objective", rules.ONE_OBJECTIVE_FORM)
        metrics = [goal.metric for goal in self.objectives or []]
        for index, metric in enumerate(metrics):
            if metric in metrics[:index]:
                detail = f"{metric!r} repeats"
                raise rules.rule_error("objectives", rules.OBJECTIVE_METRICS_UNIQUE, detail)
        return self._check_reference_point(len(metrics))

    def _check_reference_point(self, objectives: int) -> Self:
        if self.reference_point is not None and len(self.reference_point) != objectives:
            detail = f"{len(self.reference_point)} values for {objectives} objectives"
            field = "referencePoint"
            raise rules.rule_error(field, rules.REFERENCE_POINT_PER_OBJECTIVE, detail)
        return self

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
