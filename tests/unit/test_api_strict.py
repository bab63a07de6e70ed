"""Local mode validates a spec as the API server does: strict JSON types, camelCase keys
only, argv as lists of strings, and no spec that is accepted but can never produce a
result (an unreportable metric, a zero duration, bounds the search cannot represent).
Each message names the field the way `kubectl apply` does."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from kubetune.api import SpecError, parse_experiment
from kubetune.api.convert import as_sent_by_kubectl

BASE: dict[str, Any] = {
    "apiVersion": "kubetune.dev/v1alpha1",
    "kind": "TuningExperiment",
    "metadata": {"name": "t"},
    "spec": {
        "objective": {"metric": "val_accuracy"},
        "parameters": [
            {"name": "lr", "type": "float", "min": 1e-4, "max": 1.0, "scale": "log"},
            {"name": "layers", "type": "int", "min": 1, "max": 8},
            {"name": "batch", "type": "discrete", "values": [16, 32]},
        ],
        "earlyStopping": {"rule": "asha", "maxResource": 9},
        "limits": {"maxTrials": 8, "parallelTrials": 2, "trialTimeout": "10m"},
        "trial": {"template": {"spec": {"containers": [{"name": "t", "command": ["x"]}]}}},
    },
}
Change = Callable[[dict[str, Any]], object]


def errors_of(change: Change) -> list[str]:
    document = copy.deepcopy(BASE)
    change(document["spec"])
    with pytest.raises(SpecError) as caught:
        parse_experiment(document)
    return caught.value.errors


def container(spec: dict[str, Any]) -> dict[str, Any]:
    first: dict[str, Any] = spec["trial"]["template"]["spec"]["containers"][0]
    return first


STRICT_TYPES: list[tuple[Change, str]] = [
    (
        lambda s: s["limits"].update(maxTrials="5"),
        'spec.limits.maxTrials: Invalid value: "string": must be of type integer',
    ),
    (
        lambda s: s["parameters"][0].update(min="0.01"),
        'spec.parameters[0].min: Invalid value: "string": must be of type number',
    ),
    (
        lambda s: s["parameters"][1].update(max=7.5),
        'spec.parameters[1].max: Invalid value: "number": must be of type integer',
    ),
    (
        lambda s: s["parameters"][2].update(values=[16, "32"]),
        'spec.parameters[2].values[1]: Invalid value: "string": must be of type number',
    ),
    (
        lambda s: s["objective"].update(metric=7),
        'spec.objective.metric: Invalid value: "integer": must be of type string',
    ),
    (
        lambda s: s.update(suspend="true"),
        'spec.suspend: Invalid value: "string": must be of type boolean',
    ),
    (
        lambda s: s["trial"].update(gpus=True),
        'spec.trial.gpus: Invalid value: "boolean": must be of type integer',
    ),
    (
        lambda s: s.update(limits=[]),
        'spec.limits: Invalid value: "array": must be of type object',
    ),
    (
        lambda s: s["earlyStopping"].update(min_resource=3),
        "spec.earlyStopping.min_resource: Forbidden: unknown field",
    ),
    (
        lambda s: s["trial"].update(gpu_resource="amd.com/gpu"),
        "spec.trial.gpu_resource: Forbidden: unknown field",
    ),
]


def test_an_unknown_metadata_field_is_rejected_as_strict_validation_does() -> None:
    document = copy.deepcopy(BASE)
    document["metadata"]["label"] = {"team": "a"}
    with pytest.raises(SpecError) as caught:
        parse_experiment(document)
    assert caught.value.errors == ["metadata.label: Forbidden: unknown field"]


@pytest.mark.parametrize(("change", "message"), STRICT_TYPES)
def test_a_mistyped_or_snake_case_field_is_rejected_by_name(change: Change, message: str) -> None:
    assert errors_of(change) == [message]


ARGV: list[tuple[Change, str]] = [
    (
        lambda s: container(s).update(command="python train.py"),
        'spec.trial.template.spec.containers[0].command: Invalid value: "string": '
        "must be of type array",
    ),
    (
        lambda s: container(s).update(args=["--lr", 0.1]),
        'spec.trial.template.spec.containers[0].args[1]: Invalid value: "number": '
        "must be of type string",
    ),
    (
        lambda s: s["trial"]["template"]["spec"]["containers"].append("sidecar"),
        'spec.trial.template.spec.containers[1]: Invalid value: "string": must be of type object',
    ),
    (
        lambda s: container(s).update(args=["x"] * 1025),
        "spec.trial.template.spec.containers[0].args: must have at most 1024 items",
    ),
]


@pytest.mark.parametrize(("change", "message"), ARGV)
def test_a_container_argv_must_be_a_list_of_strings(change: Change, message: str) -> None:
    assert errors_of(change) == [message]


HOPELESS: list[tuple[Change, str]] = [
    (
        lambda s: s["objective"].update(metric="val accuracy"),
        "spec.objective.metric: must be a metric name a trainer can report",
    ),
    (
        lambda s: s["objective"].update(metric="step"),
        "spec.objective.metric: must be a metric name a trainer can report",
    ),
    (
        lambda s: s["objective"].update(additionalMetrics=["loss", "top-1 error"]),
        "spec.objective.additionalMetrics: must be a metric name a trainer can report",
    ),
    (
        lambda s: s["limits"].update(trialTimeout="0s"),
        "spec.limits.trialTimeout: must be longer than 0s (got 0s)",
    ),
    (
        lambda s: s["limits"].update(maxDuration="0h0m"),
        "spec.limits.maxDuration: must be longer than 0s (got 0h0m)",
    ),
    (
        lambda s: s["parameters"][0].update(scale="linear", min=-1e308),
        "spec.parameters[0].min: must be between -1e15 and 1e15 (got -1e+308)",
    ),
    (
        lambda s: s["parameters"][0].update(max=1e308),
        "spec.parameters[0].max: must be between -1e15 and 1e15 (got 1e+308)",
    ),
    (
        lambda s: s["parameters"][1].update(max=2**60),
        "spec.parameters[1].max: must be between -1e15 and 1e15",
    ),
]


@pytest.mark.parametrize(("change", "message"), HOPELESS)
def test_a_spec_that_cannot_produce_a_result_is_refused(change: Change, message: str) -> None:
    (error,) = errors_of(change)
    assert error.startswith(message)


def test_nan_and_infinity_are_refused_as_json_cannot_carry_them() -> None:
    (error,) = errors_of(lambda s: s["objective"].update(target=float("nan")))
    assert error.startswith("spec.objective.target: ")


def test_the_limits_themselves_are_accepted() -> None:
    document = copy.deepcopy(BASE)
    document["spec"]["parameters"][0].update(scale="linear", min=-1e15, max=1e15)
    document["spec"]["objective"].update(metric="train/loss-1.b")
    assert parse_experiment(document).spec.parameters[0].max == 1e15


def test_whole_floats_reach_integer_fields_as_kubectl_sends_them() -> None:
    document = copy.deepcopy(BASE)
    document["spec"]["limits"]["maxTrials"] = 8.0
    document["spec"]["parameters"][2]["values"] = [16.0, 0.5]
    spec = parse_experiment(document).spec
    assert spec.limits.max_trials == 8
    assert spec.parameters[2].values == [16, 0.5]  # type: ignore[union-attr]


def test_kubectl_numbers_keep_fractions_and_huge_values() -> None:
    assert as_sent_by_kubectl({"a": [2.0, 2.5, 1e300, True]}) == {"a": [2, 2.5, 1e300, True]}


def test_stored_status_and_trials_still_parse_leniently() -> None:
    document = copy.deepcopy(BASE)
    document["status"] = {
        "phase": "Running",
        "startTime": "2026-01-01T00:00:00Z",
        "best": {"trial": "t-00001", "value": 1, "parameters": {"lr": 0.5}},
        "fieldFromANewerOperator": {},
    }
    experiment = parse_experiment(document)
    assert experiment.status.start_time is not None
    assert experiment.status.best is not None and experiment.status.best.value == 1.0
