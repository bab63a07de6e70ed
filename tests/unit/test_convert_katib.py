"""`kubetune convert katib`: every example in examples/katib/ converts to an experiment that
passes the checks of `kubetune run` (or is refused naming the field its header names), and
each Katib concept lands on its kubetune field."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubetune.api import parse_experiment
from kubetune.cli import main
from kubetune.convert import ConversionError, convert_katib
from kubetune.convert.katib_metrics import KATIB_DEFAULT_FORMAT, as_metrics_format
from kubetune.local.kubectl_yaml import load_yaml
from kubetune.local.prepare import prepare_experiment
from kubetune.planning.placeholders import substitute_container
from kubetune.reporting.line_formats import MAX_FORMAT_CHARS, MAX_FORMATS, LineReader
from kubetune.reporting.protocol import MetricReport
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
        "strategies": {"Validation-accuracy": "max", "loss": "max"},
    }


def objective_of(**objective: Any) -> dict[str, Any]:
    converted: dict[str, Any] = converted_spec(katib(objective=objective))["objective"]
    return converted


@pytest.mark.parametrize(("goal", "best"), [("minimize", "min"), ("maximize", "max")])
def test_without_metric_strategies_every_metric_follows_the_objectives_direction(
    goal: str, best: str
) -> None:
    """Katib's defaults, additional metrics included, so a trial scores as in Katib."""
    objective = objective_of(type=goal, objectiveMetricName="loss", additionalMetricNames=["acc"])
    assert objective["strategies"] == {"loss": best, "acc": best}


def test_metric_strategies_are_carried_over_and_latest_is_kubetunes_default() -> None:
    strategies = [{"name": "loss", "value": "latest"}, {"name": "acc", "value": "max"}]
    objective = objective_of(
        type="minimize",
        objectiveMetricName="loss",
        additionalMetricNames=["acc", "f1"],
        metricStrategies=strategies,
    )
    assert objective["strategies"] == {"acc": "max", "f1": "min"}
    latest = [{"name": "loss", "value": "latest"}]
    only_latest = objective_of(type="minimize", objectiveMetricName="loss", metricStrategies=latest)
    assert "strategies" not in only_latest


def test_a_strategy_for_an_unknown_metric_is_dropped_and_an_unknown_value_refused() -> None:
    strategies = [{"name": "f1", "value": "max"}]
    objective = {"type": "minimize", "objectiveMetricName": "loss", "metricStrategies": strategies}
    conversion = convert_katib(katib(objective=objective))
    assert conversion.document["spec"]["objective"]["strategies"] == {"loss": "min"}
    assert "spec.objective.metricStrategies[0]: 'f1' is neither the objective" in "\n".join(
        conversion.dropped
    )
    objective["metricStrategies"] = [{"name": "loss", "value": "average"}]
    (refusal,) = refusals(katib(objective=objective))
    assert refusal.startswith("spec.objective.metricStrategies[0]: value must be latest, min")


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
    assert {key: trial[key] for key in trial if key.startswith("gpu")} == trial_fields
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
def test_each_other_metrics_collector_says_how_the_trainer_must_report(
    collector: dict[str, Any], says: str
) -> None:
    conversion = convert_katib(katib(metricsCollectorSpec=collector))
    assert f"spec.metricsCollectorSpec.collector.kind: {says}" in "\n".join(conversion.dropped)
    assert "metricsFormat" not in conversion.document["spec"]["trial"]


def metrics_format(*katib_formats: str, kind: str = "StdOut") -> tuple[list[str], list[str]]:
    """(the converted metricsFormat, the notes) for a collector with these filters."""
    collector = {
        "collector": {"kind": kind},
        "source": {"filter": {"metricsFormat": katib_formats}},
    }
    conversion = convert_katib(katib(metricsCollectorSpec=collector))
    formats: list[str] = conversion.document["spec"]["trial"].get("metricsFormat", [])
    return formats, conversion.dropped


def reads(formats: list[str], line: str) -> dict[str, float]:
    reader = LineReader(formats, ["loss", "accuracy"])
    report = reader.read(line)
    assert report is None or isinstance(report, MetricReport)
    return report.metrics if report else {}


def test_the_default_collector_reads_katibs_default_lines_with_no_note() -> None:
    for collector in ({}, {"collector": {"kind": "StdOut"}}):
        conversion = convert_katib(katib(metricsCollectorSpec=collector))
        assert not any("metricsCollectorSpec" in entry for entry in conversion.dropped)
        formats = conversion.document["spec"]["trial"]["metricsFormat"]
        assert formats == [as_metrics_format(KATIB_DEFAULT_FORMAT)[0]]
    assert reads(formats, "INFO:root:epoch 3: loss=0.31 accuracy=.98 lr=0.1") == {
        "loss": 0.31,
        "accuracy": 0.98,
    }
    assert reads(formats, "Score=-7.53e-05 loss=1E0") == {"loss": 1.0}


def test_katibs_group_reading_is_named_and_extra_groups_no_longer_capture() -> None:
    ours, problem = as_metrics_format(KATIB_DEFAULT_FORMAT)
    assert problem is None and re.compile(ours).groupindex.keys() == {"name", "value"}
    assert re.compile(ours).groups == 2
    assert reads([ours], "loss = 2.5e-1") == {"loss": 0.25}


def test_a_metrics_format_filter_is_carried_over_when_kubetune_reads_it_as_katib() -> None:
    formats, dropped = metrics_format(
        r"(\w+):\s*([\d.]+)",  # two groups: as written
        r"(?P<name>\w+)=(?P<value>\S+)",  # the named groups: as written
        r"\[([a-z]+)\]=(\d+)(ms)?",  # a third group: made non-capturing
    )
    assert formats[:2] == [r"(\w+):\s*([\d.]+)", r"(?P<name>\w+)=(?P<value>\S+)"]
    assert formats[2] == r"\[(?P<name>[a-z]+)\]=(?P<value>\d+)(?:ms)?"
    assert not dropped
    assert reads(formats, "epoch 2 [loss]=7ms accuracy: 0.5") == {"loss": 7, "accuracy": 0.5}


def test_a_filter_kubetune_cannot_read_is_named_in_a_note() -> None:
    formats, dropped = metrics_format(r"(\w+", r"(\w+)", r"(?P<n>\w+)(=)(\d+)", r"(\w+)=(\d+)")
    assert formats == [r"(\w+)=(\d+)"]
    notes = "\n".join(dropped)
    where = "spec.metricsCollectorSpec.source.filter.metricsFormat"
    assert f"{where}[0]: '(\\\\w+': must be a valid regular expression" in notes
    assert f"{where}[1]: '(\\\\w+)': must have the named groups name and value" in notes
    assert f"{where}[2]: " in notes and f"{where}[3]" not in notes
    assert "so its lines are not read" in notes


def test_filters_beyond_kubetunes_limits_are_named_in_a_note() -> None:
    long = "(a)(b)" + "x" * MAX_FORMAT_CHARS
    formats, dropped = metrics_format(long, *[f"(a{i})(b)" for i in range(MAX_FORMATS + 1)])
    assert formats == [f"(a{i})(b)" for i in range(MAX_FORMATS)]
    where = "spec.metricsCollectorSpec.source.filter.metricsFormat"
    assert any(
        entry.startswith(f"{where}[0]: ") and f"at most {MAX_FORMAT_CHARS}" in entry
        for entry in dropped
    )
    assert any(entry.startswith(f"{where}[{MAX_FORMATS + 1}]: ") for entry in dropped)


def test_the_filter_of_another_collector_is_not_carried_over() -> None:
    formats, dropped = metrics_format(r"(\w+)=(\d+)", kind="File")
    assert formats == []
    assert "spec.metricsCollectorSpec.source.filter.metricsFormat: kubetune reads no" in "\n".join(
        dropped
    )


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
    source.write_text(yaml.safe_dump(katib(metricsCollectorSpec={"collector": {"kind": "None"}})))
    assert main(["convert", "katib", str(source), "-o", str(target)]) == 0
    assert parse_experiment(yaml.safe_load(target.read_text())).spec.objective.metric == "loss"
    note = "kubetune: not carried over: spec.metricsCollectorSpec.collector.kind: None"
    assert note in capsys.readouterr().err


def test_the_command_refuses_a_tfjob_with_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tfjob,) = [example for example in REFUSED if example.path.stem == "tfjob"]
    target = tmp_path / "out.yaml"
    assert main(["convert", "katib", str(tfjob.path), "-o", str(target)]) == 2
    error = capsys.readouterr().err
    assert "spec.trialTemplate.trialSpec.kind: TFJob (kubeflow.org/v1) is unsupported" in error
    assert not target.exists()
