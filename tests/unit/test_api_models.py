"""Validation of TuningExperiment documents: every rule names its field, and the models
read and write Kubernetes' camelCase."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from kubetune.api import (
    SpecError,
    dump_resource,
    parse_duration,
    parse_experiment,
    stopping_settings,
    suggester_settings,
    to_search_space,
)
from kubetune.search.space import CategoricalParam, DiscreteParam, FloatParam, IntParam

BASE: dict[str, Any] = {
    "apiVersion": "kubetune.dev/v1alpha1",
    "kind": "TuningExperiment",
    "metadata": {"name": "t"},
    "spec": {
        "objective": {"metric": "loss", "goal": "minimize"},
        "parameters": [
            {"name": "lr", "type": "float", "min": 1e-4, "max": 1.0, "scale": "log"},
            {"name": "layers", "type": "int", "min": 1, "max": 8, "step": 2},
            {"name": "opt", "type": "categorical", "values": ["sgd", "adam"]},
            {"name": "batch", "type": "discrete", "values": [64, 16, 0.5]},
        ],
        "limits": {"maxTrials": 8, "parallelTrials": 2, "maxDuration": "1h30m"},
        "trial": {"template": {"spec": {"containers": [{"name": "t", "image": "i"}]}}},
    },
}
Change = Callable[[dict[str, Any]], object]


def with_change(change: Change) -> dict[str, Any]:
    doc = copy.deepcopy(BASE)
    change(doc["spec"])
    return doc


def param(index: int, **fields: Any) -> Change:
    return lambda spec: spec["parameters"][index].update(fields)


REJECTED: list[tuple[Change, str]] = [
    (param(0, min=2.0), "spec.parameters[0].max: must be greater than min (got min=2.0"),
    (param(1, max=1), "spec.parameters[1].max: must be greater than min"),
    (param(0, min=0.0), "spec.parameters[0].min: must be greater than 0 for log scale"),
    (param(1, step=0), "spec.parameters[1].step: Input should be greater than or equal to 1"),
    (param(2, values=[]), "spec.parameters[2].values: should have at least 1 items"),
    (param(2, values=["a", "a"]), "spec.parameters[2].values: values must be unique"),
    (param(3, values=[]), "spec.parameters[3].values: should have at least 1 items"),
    (param(3, values=[1, 2, 1]), "spec.parameters[3].values: values must be unique"),
    (param(1, name="lr"), "spec.parameters[1].name: parameter names must be unique"),
    (param(1, name="n layers"), "spec.parameters[1].name: must start with a letter or _"),
    (param(1, name="1st"), "spec.parameters[1].name: must start with a letter or _"),
    (param(1, name="LR"), "spec.parameters[1].name: parameter names must differ in more than"),
    (param(1, type="integer"), 'spec.parameters[1].type: Unsupported value: "integer"'),
    (param(0, values=[1]), "spec.parameters[0].values: Forbidden"),
    (lambda s: s["parameters"][0].pop("max"), "spec.parameters[0].max: Required value"),
    (lambda s: s["limits"].update(parallelTrials=9), "spec.limits.parallelTrials: must not"),
    (lambda s: s["limits"].update(maxDuration="1 hour"), "spec.limits.maxDuration: should"),
    (lambda s: s["limits"].update(trialTimeout="5"), "spec.limits.trialTimeout: should"),
    (lambda s: s["trial"].update(gpus=-1), "spec.trial.gpus: Input should be greater"),
    (lambda s: s["trial"].update(template={}), "spec.trial.template: must have at least"),
    (lambda s: s["objective"].update(goal="up"), 'spec.objective.goal: Unsupported value: "up"'),
    (lambda s: s.pop("objective"), "spec.objective: exactly one of objective and objectives"),
    (lambda s: s.update(algorithm={"name": "x"}), 'spec.algorithm.name: Unsupported value: "x"'),
    (lambda s: s.update(algorithm={"name": "random", "gamma": 0.2}), "algorithm.gamma: Forbid"),
    (
        lambda s: s.update(algorithm={"name": "evolution", "tournamentSize": 30}),
        "spec.algorithm.tournamentSize: must not exceed populationSize",
    ),
    (
        lambda s: s.update(earlyStopping={"rule": "hyperband"}),
        "spec.earlyStopping.maxResource: Required value",
    ),
    (
        lambda s: s.update(earlyStopping={"rule": "asha", "minResource": 4, "maxResource": 2}),
        "spec.earlyStopping.maxResource: must be greater than minResource",
    ),
    (lambda s: s.update(earlyStopping={"rule": "sha"}), "spec.earlyStopping.rule: Unsupported"),
    (lambda s: s.update(sspend=True), "spec.sspend: Forbidden: unknown field"),
    (
        lambda s: s["objective"].update(strategies={"los": "min"}),
        "spec.objective.strategies: must name the objective metric or one of additionalMetrics",
    ),
    (
        lambda s: s["objective"].update(strategies={"loss": "lowest"}),
        "spec.objective.strategies.loss: Unsupported value",
    ),
]


@pytest.mark.parametrize(("change", "message"), REJECTED)
def test_each_rule_rejects_with_a_message_naming_the_field(change: Change, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_experiment(with_change(change))
    assert message in str(caught.value)


def test_strategies_name_the_objective_or_an_additional_metric() -> None:
    objective = {"metric": "loss", "additionalMetrics": ["acc"]}
    objective["strategies"] = {"loss": "min", "acc": "max"}
    spec = parse_experiment(with_change(lambda s: s.update(objective=objective))).spec
    assert spec.objective.strategies == {"loss": "min", "acc": "max"}
    assert parse_experiment(BASE).spec.objective.strategies == {}, "latest for every metric"


def test_a_valid_document_parses_with_defaults() -> None:
    experiment = parse_experiment(BASE)
    assert experiment.spec.algorithm.name == "bayesian"
    assert experiment.spec.early_stopping.rule == "none"
    assert experiment.spec.limits.max_failed_trials == 3
    assert experiment.spec.trial.gpu_resource == "nvidia.com/gpu"
    assert experiment.status.phase == "Pending"


def test_a_hyphenated_parameter_name_is_accepted_as_katib_users_write_it() -> None:
    experiment = parse_experiment(with_change(param(1, name="num-layers")))
    assert experiment.spec.parameters[1].name == "num-layers"


def test_names_sharing_an_environment_variable_are_refused_naming_both() -> None:
    doc = with_change(param(1, name="l-r"))
    doc["spec"]["parameters"][0]["name"] = "l_r"
    with pytest.raises(SpecError, match="'l_r' and 'l-r' are both KUBETUNE_PARAM_L_R"):
        parse_experiment(doc)


def test_camel_case_round_trip() -> None:
    document = dump_resource(parse_experiment(BASE))
    assert document["spec"]["limits"]["parallelTrials"] == 2
    assert "parallel_trials" not in document["spec"]["limits"]
    assert dump_resource(parse_experiment(document)) == document


def test_snake_case_keys_are_unknown_fields_as_on_the_api_server() -> None:
    doc = with_change(lambda s: s.update(limits={"max_trials": 3, "parallel_trials": 3}))
    with pytest.raises(SpecError) as caught:
        parse_experiment(doc)
    assert caught.value.errors == [
        "spec.limits.max_trials: Forbidden: unknown field",
        "spec.limits.parallel_trials: Forbidden: unknown field",
    ]


def test_search_space_mirrors_parameters_in_order() -> None:
    space = to_search_space(parse_experiment(BASE).spec)
    assert space.params == (
        FloatParam("lr", 1e-4, 1.0, log=True),
        IntParam("layers", 1, 8, log=False, step=2),
        CategoricalParam("opt", ("sgd", "adam")),
        DiscreteParam("batch", (0.5, 16, 64)),
    )


def test_factory_settings_are_snake_case_without_tags() -> None:
    doc = with_change(
        lambda s: s.update(
            algorithm={"name": "tpe", "seed": 3, "gamma": 0.3},
            earlyStopping={"rule": "asha", "maxResource": 9},
        )
    )
    spec = parse_experiment(doc).spec
    assert suggester_settings(spec.algorithm) == (
        "tpe",
        {"initial_trials": None, "gamma": 0.3, "candidates": 24},
    )
    assert stopping_settings(spec.early_stopping) == (
        "asha",
        {"min_resource": 1, "max_resource": 9, "reduction_factor": 3},
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("45s", timedelta(seconds=45)),
        ("90m", timedelta(minutes=90)),
        ("1h30m", timedelta(minutes=90)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "1d", "h", "30m1h", "1.5h"])
def test_parse_duration_rejects_with_the_accepted_forms(text: str) -> None:
    with pytest.raises(ValueError, match="such as 45s, 90m, 2h or 1h30m"):
        parse_duration(text)
