"""`kubetune convert katib`: every example in examples/katib/ converts to an experiment that
passes the checks of `kubetune run` (or is refused naming the field its header names), and
each Katib concept lands on its kubetune field."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubetune.api import parse_experiment
from kubetune.cli import main
from kubetune.convert import ConversionError, convert_katib
from kubetune.local.kubectl_yaml import load_yaml
from kubetune.local.prepare import prepare_experiment
from kubetune.planning.placeholders import substitute_container
from tests.docs_yaml import yaml_blocks
from tests.katib_fixtures import (
    CONVERTIBLE,
    EXAMPLES,
    REFUSED,
    REPO_ROOT,
    KatibExample,
    example_id,
)

JOB: dict[str, Any] = {
    "apiVersion": "batch/v1",
    "kind": "Job",
    "spec": {
        "template": {
            "spec": {
                "containers": [
                    {"name": "main", "image": "i", "command": ["python", "t.py"], "args": []}
                ]
            }
        }
    },
}
BASE: dict[str, Any] = {
    "apiVersion": "kubeflow.org/v1beta1",
    "kind": "Experiment",
    "metadata": {"name": "k"},
    "spec": {
        "objective": {"type": "minimize", "objectiveMetricName": "loss"},
        "algorithm": {"algorithmName": "random"},
        "parameters": [
            {"name": "lr", "parameterType": "double", "feasibleSpace": {"min": "0.1", "max": "1"}}
        ],
        "trialTemplate": {
            "trialParameters": [{"name": "learningRate", "reference": "lr"}],
            "trialSpec": JOB,
        },
    },
}


def katib(**spec: Any) -> dict[str, Any]:
    document = copy.deepcopy(BASE)
    document["spec"].update(copy.deepcopy(spec))
    return document


def with_args(*args: str, **spec: Any) -> dict[str, Any]:
    document = katib(**spec)
    pod = document["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]
    pod["spec"]["containers"][0]["args"] = list(args)
    return document


def converted_spec(document: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = convert_katib(document).document["spec"]
    return spec


def refusals(document: dict[str, Any]) -> list[str]:
    with pytest.raises(ConversionError) as caught:
        convert_katib(document)
    return caught.value.refused


def test_the_examples_cover_the_katib_algorithms_and_refusals() -> None:
    algorithms = {example.document["spec"]["algorithm"]["algorithmName"] for example in EXAMPLES}
    assert {"random", "grid", "bayesianoptimization", "tpe", "cmaes", "hyperband"} <= algorithms
    assert any("earlyStopping" in example.document["spec"] for example in EXAMPLES)
    assert len(CONVERTIBLE) >= 8 and len(REFUSED) >= 2


@pytest.mark.parametrize("example", CONVERTIBLE, ids=example_id)
def test_an_example_converts_to_an_experiment_kubetune_run_accepts(example: KatibExample) -> None:
    conversion = convert_katib(example.document)
    experiment = prepare_experiment(conversion.document)
    assert experiment.metadata["name"] == example.document["metadata"]["name"]
    text = conversion.to_yaml(example.path.name)
    assert load_yaml(text) == conversion.document  # the notes are comments only
    for entry in conversion.dropped:
        assert f"#   - {entry}" in text


@pytest.mark.parametrize("example", REFUSED, ids=example_id)
def test_an_unsupported_example_is_refused_naming_the_field(example: KatibExample) -> None:
    (refusal,) = refusals(example.document)
    assert refusal.startswith(f"{example.unsupported_field}: ")
    assert "unsupported" in refusal


def test_objective_type_goal_and_metrics_map_to_kubetune_names() -> None:
    objective = {
        "type": "maximize",
        "goal": "0.9",
        "objectiveMetricName": "Validation-accuracy",
        "additionalMetricNames": ["loss"],
    }
    assert converted_spec(katib(objective=objective))["objective"] == {
        "metric": "Validation-accuracy",
        "goal": "maximize",
        "target": 0.9,
        "additionalMetrics": ["loss"],
    }


def test_katibs_best_value_strategy_is_named_as_not_carried_over() -> None:
    dropped = convert_katib(katib()).dropped
    assert any(entry.startswith("spec.objective.metricStrategies: Katib") for entry in dropped)
    strategies = [{"name": "loss", "value": "latest"}]
    latest = {"type": "minimize", "objectiveMetricName": "loss", "metricStrategies": strategies}
    assert not any("metricStrategies" in e for e in convert_katib(katib(objective=latest)).dropped)


def space(kind: str, **feasible: Any) -> dict[str, Any]:
    parameter = {"name": "lr", "parameterType": kind, "feasibleSpace": feasible}
    (converted,) = converted_spec(katib(parameters=[parameter]))["parameters"]
    converted.pop("name")
    return dict(converted)


def test_feasible_spaces_become_kubetune_parameter_types() -> None:
    assert space("double", min="1e-4", max="0.1", distribution="logUniform") == {
        "type": "float",
        "min": 1e-4,
        "max": 0.1,
        "scale": "log",
    }
    assert space("int", min="2", max="8", step="2") == {
        "type": "int",
        "min": 2,
        "max": 8,
        "step": 2,
    }
    assert space("double", min="0.1", max="0.3", step="0.1") == {
        "type": "discrete",
        "values": [0.1, 0.2, 0.3],
    }
    assert space("discrete", list=["16", "0.5"]) == {"type": "discrete", "values": [16, 0.5]}
    assert space("categorical", list=["sgd", "adam"]) == {
        "type": "categorical",
        "values": ["sgd", "adam"],
    }


def test_an_unknown_distribution_is_refused_naming_the_known_ones() -> None:
    parameter = {"name": "lr", "parameterType": "double"}
    parameter["feasibleSpace"] = {"min": "1", "max": "2", "distribution": "lognormal"}
    (refusal,) = refusals(katib(parameters=[parameter]))
    assert refusal.startswith("spec.parameters[0].feasibleSpace.distribution: 'lognormal'; known")


def test_a_number_that_is_none_is_refused_naming_the_bound() -> None:
    parameter = {"name": "lr", "parameterType": "double", "feasibleSpace": {"min": "x", "max": "1"}}
    assert refusals(katib(parameters=[parameter])) == [
        "spec.parameters[0].feasibleSpace.min: must be a number, got 'x'"
    ]


@pytest.mark.parametrize(
    ("katib_name", "name", "settings"),
    [
        ("random", "random", {"seed": 4}),
        ("grid", "grid", {"seed": 4}),
        ("sobol", "sobol", {"seed": 4}),
        ("bayesianoptimization", "bayesian", {"seed": 4, "initialTrials": 3}),
        ("tpe", "tpe", {"seed": 4, "initialTrials": 3, "candidates": 9}),
        ("multivariate-tpe", "tpe", {"seed": 4, "initialTrials": 3, "candidates": 9}),
        ("cmaes", "evolution", {"seed": 4, "populationSize": 6}),
        ("pbt", "evolution", {"seed": 4, "populationSize": 6}),
    ],
)
def test_each_katib_algorithm_maps_to_the_nearest_with_the_settings_kubetune_has(
    katib_name: str, name: str, settings: dict[str, int]
) -> None:
    given = {
        "random_state": "4",
        "n_initial_points": "3",
        "n_startup_trials": "3",
        "n_ei_candidates": "9",
        "n_population": "6",
    }
    items = [{"name": key, "value": value} for key, value in given.items()]
    algorithm = {"algorithmName": katib_name, "algorithmSettings": items}
    assert converted_spec(katib(algorithm=algorithm))["algorithm"] == {"name": name, **settings}


def test_an_unknown_algorithm_and_neural_architecture_search_are_refused() -> None:
    document = katib(algorithm={"algorithmName": "enas"}, nasConfig={"graphConfig": {}})
    assert [entry.split(":")[0] for entry in refusals(document)] == [
        "spec.nasConfig",
        "spec.algorithm.algorithmName",
    ]


def test_hyperband_becomes_random_search_with_the_hyperband_stopping_rule() -> None:
    epochs = {"name": "epochs", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "9"}}
    settings = {"resource_name": "epochs", "r_l": "9", "eta": "3"}
    algorithm = {
        "algorithmName": "hyperband",
        "algorithmSettings": [{"name": k, "value": v} for k, v in settings.items()],
    }
    document = with_args("--epochs=${trialParameters.epochs}", algorithm=algorithm)
    document["spec"]["parameters"].append(epochs)
    document["spec"]["trialTemplate"]["trialParameters"].append(
        {"name": "epochs", "reference": "epochs"}
    )
    spec = converted_spec(document)
    assert spec["algorithm"] == {"name": "random"}
    assert spec["earlyStopping"] == {"rule": "hyperband", "maxResource": 9, "reductionFactor": 3}
    assert [parameter["name"] for parameter in spec["parameters"]] == ["lr"]
    assert spec["trial"]["template"]["spec"]["containers"][0]["args"] == ["--epochs=9"]


def test_hyperband_without_r_l_is_refused_once() -> None:
    document = katib(algorithm={"algorithmName": "hyperband"})
    assert refusals(document) == [
        "spec.algorithm.algorithmSettings[r_l]: required: it becomes earlyStopping.maxResource"
    ]


def test_medianstop_becomes_the_median_rule_with_its_settings() -> None:
    settings = [{"name": "min_trials_required", "value": "4"}, {"name": "start_step", "value": "2"}]
    stopping = {"algorithmName": "medianstop", "algorithmSettings": settings}
    assert converted_spec(katib(earlyStopping=stopping))["earlyStopping"] == {
        "rule": "median",
        "minTrials": 4,
        "warmupSteps": 2,
    }


def test_trial_counts_and_the_jobs_deadline_and_retries_become_limits() -> None:
    document = katib(maxTrialCount=12, parallelTrialCount=3, maxFailedTrialCount=2)
    document["spec"]["trialTemplate"]["trialSpec"]["spec"].update(
        activeDeadlineSeconds=900, backoffLimit=2, ttlSecondsAfterFinished=60
    )
    conversion = convert_katib(document)
    assert conversion.document["spec"]["limits"] == {
        "maxTrials": 12,
        "parallelTrials": 3,
        "maxFailedTrials": 2,
        "trialTimeout": "900s",
        "trialRetries": 2,
    }
    assert any(
        e.startswith("spec.trialTemplate.trialSpec.spec.ttlSeconds") for e in conversion.dropped
    )


def test_references_become_placeholders_and_shell_text_stays_literal() -> None:
    document = with_args("--lr=${trialParameters.learningRate}", "echo ${HOME} $$")
    (container,) = converted_spec(document)["trial"]["template"]["spec"]["containers"]
    assert container["args"] == ["--lr=${lr}", "echo $${HOME} $$$$"]
    filled = substitute_container(container, {"lr": 0.5})
    assert filled["args"] == ["--lr=0.5", "echo ${HOME} $$"]  # what Katib's pod received


def test_a_renamed_parameter_is_followed_by_its_references() -> None:
    document = with_args("--lr=${trialParameters.learningRate}")
    document["spec"]["parameters"][0]["name"] = "learning rate"
    document["spec"]["trialTemplate"]["trialParameters"][0]["reference"] = "learning rate"
    conversion = convert_katib(document)
    spec = conversion.document["spec"]
    assert spec["parameters"][0]["name"] == "learning_rate"
    assert spec["trial"]["template"]["spec"]["containers"][0]["args"] == ["--lr=${learning_rate}"]
    assert "spec.parameters[0].name: 'learning rate' renamed 'learning_rate'" in conversion.dropped


def test_a_hyphenated_name_is_kept_as_kubetune_accepts_it() -> None:
    document = with_args("--n=${trialParameters.learningRate}")
    document["spec"]["parameters"][0]["name"] = "num-layers"
    document["spec"]["trialTemplate"]["trialParameters"][0]["reference"] = "num-layers"
    spec = converted_spec(document)
    assert spec["parameters"][0]["name"] == "num-layers"
    assert (
        parse_experiment(convert_katib(document).document).spec.parameters[0].name == "num-layers"
    )


def test_a_reference_where_kubetune_fills_nothing_is_refused_naming_the_field() -> None:
    document = katib()
    pod = document["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]
    pod["metadata"] = {"annotations": {"lr": "${trialParameters.learningRate}"}}
    (refusal,) = refusals(document)
    assert refusal.startswith("spec.trialTemplate.trialSpec.spec.template.metadata.annotations.lr:")
    assert "only in command, args and env values" in refusal


def test_trial_metadata_and_unknown_references_are_refused() -> None:
    document = with_args("--name=${trialParameters.trialName}", "${trialParameters.nope}")
    document["spec"]["trialTemplate"]["trialParameters"].append(
        {"name": "trialName", "reference": "${trialSpec.Name}"}
    )
    first, second = refusals(document)
    assert first.startswith("spec.trialTemplate.trialParameters[1].reference: '${trialSpec.Name}'")
    assert "$KUBETUNE_TRIAL" in first
    assert second.endswith(
        "${trialParameters.nope} names no entry of spec.trialTemplate.trialParameters"
    )


def test_the_primary_container_becomes_the_trainer() -> None:
    document = katib()
    pod_spec = document["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]
    pod_spec["containers"].insert(0, {"name": "sidecar", "image": "s"})
    document["spec"]["trialTemplate"]["primaryContainerName"] = "main"
    containers = converted_spec(document)["trial"]["template"]["spec"]["containers"]
    assert [container["name"] for container in containers] == ["main", "sidecar"]


@pytest.mark.parametrize(
    ("resource", "trial_fields"),
    [
        ("nvidia.com/gpu", {"gpus": 2}),
        ("amd.com/gpu", {"gpus": 2, "gpuResource": "amd.com/gpu"}),
    ],
)
def test_the_trainers_gpu_limit_becomes_trial_gpus(
    resource: str, trial_fields: dict[str, Any]
) -> None:
    document = katib()
    pod_spec = document["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]
    limits = {resource: "2", "memory": "1Gi"}
    pod_spec["containers"][0]["resources"] = {"limits": limits, "requests": {resource: "2"}}
    trial = converted_spec(document)["trial"]
    assert {key: trial[key] for key in trial if key != "template"} == trial_fields
    (container,) = trial["template"]["spec"]["containers"]
    assert container["resources"] == {"limits": {"memory": "1Gi"}}


def test_a_missing_trial_spec_is_refused() -> None:
    document = katib(trialTemplate={})
    assert refusals(document) == ["spec.trialTemplate.trialSpec: Required value: the trial's Job"]


def test_a_template_from_a_config_map_is_refused() -> None:
    document = katib()
    document["spec"]["trialTemplate"] = {"configMap": {"configMapName": "c", "templatePath": "t"}}
    (refusal,) = refusals(document)
    assert refusal.startswith("spec.trialTemplate.configMap: paste the template inline")


@pytest.mark.parametrize(
    ("collector", "says"),
    [
        ({}, "StdOut: kubetune ignores Katib's `loss=<value>` lines"),
        ({"collector": {"kind": "None"}}, "None: kubetune always collects metrics"),
        (
            {"collector": {"kind": "Push"}},
            "Push: call kubetune.reporting.report(step=..., loss=...)",
        ),
        ({"collector": {"kind": "TensorFlowEvent"}}, "TensorFlowEvent: kubetune reads no"),
        (
            {"collector": {"kind": "File"}, "source": {"fileSystemPath": {"path": "/m.log"}}},
            "File: kubetune reads $KUBETUNE_METRICS_FILE, not /m.log",
        ),
    ],
)
def test_each_metrics_collector_says_how_the_trainer_must_report(
    collector: dict[str, Any], says: str
) -> None:
    dropped = convert_katib(katib(metricsCollectorSpec=collector)).dropped
    assert f"spec.metricsCollectorSpec.collector.kind: {says}" in "\n".join(dropped)


def test_a_document_that_is_no_katib_experiment_is_refused() -> None:
    document = katib()
    document["kind"] = "Suggestion"
    (refusal,) = refusals(document)
    assert refusal.startswith("apiVersion/kind: expected apiVersion kubeflow.org/v1beta1")


def test_an_invalid_result_is_refused_in_kubetune_terms() -> None:
    document = katib(maxTrialCount=2, parallelTrialCount=5)
    (refusal,) = refusals(document)
    assert "spec.limits.parallelTrials: must not exceed maxTrials" in refusal


def test_the_migration_guides_worked_example_shows_what_the_converter_writes() -> None:
    blocks = yaml_blocks([REPO_ROOT / "docs" / "katib.md"])
    katib_at = next(index for index, block in enumerate(blocks) if block.is_katib)
    katib_block, shown = blocks[katib_at], blocks[katib_at + 1]
    katib_document = load_yaml(katib_block.text)
    assert convert_katib(katib_document).document == load_yaml(shown.text)


def test_the_command_writes_the_file_and_lists_the_notes_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, target = tmp_path / "katib.yaml", tmp_path / "out.yaml"
    source.write_text(yaml.safe_dump(katib()))
    assert main(["convert", "katib", str(source), "-o", str(target)]) == 0
    assert parse_experiment(yaml.safe_load(target.read_text())).spec.objective.metric == "loss"
    assert "kubetune: not carried over: spec.metricsCollectorSpec" in capsys.readouterr().err


def test_the_command_refuses_a_tfjob_with_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tfjob,) = [example for example in REFUSED if example.path.stem == "tfjob"]
    target = tmp_path / "out.yaml"
    assert main(["convert", "katib", str(tfjob.path), "-o", str(target)]) == 2
    error = capsys.readouterr().err
    assert "spec.trialTemplate.trialSpec.kind: TFJob (kubeflow.org/v1) is unsupported" in error
    assert not target.exists()
