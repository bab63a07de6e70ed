"""The trial Job manifest: parameters, GPUs, labels, ownership, limits."""

from __future__ import annotations

from typing import Any

import pytest

from kubetune.api import TuningExperiment, parse_experiment, parse_trial
from kubetune.planning.jobs import (
    PRIORITY_CLASS_LABEL,
    QUEUE_NAME_LABEL,
    build_trial_job,
    build_trial_resource,
    trainer_name,
)
from kubetune.planning.placeholders import PlaceholderError


def experiment_document(**trial: Any) -> dict[str, Any]:
    containers = trial.pop(
        "containers",
        [
            {"name": "logger", "image": "busybox"},
            {"name": "trainer", "image": "trial:1", "args": ["--lr=${lr}", "--opt=${opt}"]},
        ],
    )
    return {
        "apiVersion": "kubetune.dev/v1alpha1",
        "kind": "TuningExperiment",
        "metadata": {"name": "exp", "namespace": "team", "uid": "uid-exp"},
        "spec": {
            "objective": {"metric": "loss", "goal": "minimize"},
            "parameters": [
                {"name": "lr", "type": "float", "min": 0.001, "max": 0.1},
                {"name": "opt", "type": "categorical", "values": ["sgd", "adam"]},
            ],
            "limits": {"maxTrials": 4, "trialRetries": 2, "trialTimeout": "1h30m"},
            "trial": {
                "gpus": 2,
                "template": {
                    "metadata": {"annotations": {"a": "b"}},
                    "spec": {"containers": containers},
                },
                **trial,
            },
        },
    }


def stored_trial(experiment: TuningExperiment, params: dict[str, Any]) -> dict[str, Any]:
    document = build_trial_resource(
        {**experiment.model_dump(by_alias=True), "metadata": experiment.metadata},
        3,
        "exp-0003",
        params,
    )
    document["metadata"]["uid"] = "uid-trial"
    return document


def test_job_substitutes_parameters_and_requests_gpus_on_the_trainer() -> None:
    experiment = parse_experiment(experiment_document())
    trial = parse_trial(stored_trial(experiment, {"lr": 0.01, "opt": "adam"}))
    job = build_trial_job(experiment, trial)

    pod = job["spec"]["template"]["spec"]
    logger, trainer = pod["containers"]
    assert trainer["args"] == ["--lr=0.01", "--opt=adam"]
    assert trainer["resources"] == {
        "requests": {"nvidia.com/gpu": "2"},
        "limits": {"nvidia.com/gpu": "2"},
    }
    assert "resources" not in logger
    env = {variable["name"]: variable["value"] for variable in trainer["env"]}
    assert env["KUBETUNE_PARAM_LR"] == "0.01"
    assert env["KUBETUNE_PARAM_OPT"] == "adam"
    assert (env["KUBETUNE_TRIAL"], env["KUBETUNE_EXPERIMENT"]) == ("exp-0003", "exp")
    assert pod["restartPolicy"] == "Never"
    assert trainer_name(experiment) == "trainer"


def test_job_carries_labels_owner_and_limits() -> None:
    experiment = parse_experiment(experiment_document())
    trial = parse_trial(stored_trial(experiment, {"lr": 0.01, "opt": "sgd"}))
    job = build_trial_job(experiment, trial)

    labels = {"kubetune.dev/experiment": "exp", "kubetune.dev/trial": "exp-0003"}
    assert job["metadata"]["name"] == "exp-0003"
    assert job["metadata"]["labels"] == labels
    assert job["spec"]["template"]["metadata"]["labels"] == labels
    assert job["spec"]["template"]["metadata"]["annotations"] == {"a": "b"}
    (owner,) = job["metadata"]["ownerReferences"]
    assert (owner["kind"], owner["name"], owner["uid"], owner["controller"]) == (
        "TuningTrial",
        "exp-0003",
        "uid-trial",
        True,
    )
    assert job["spec"]["backoffLimit"] == 2
    assert job["spec"]["activeDeadlineSeconds"] == 5400
    assert "ttlSecondsAfterFinished" not in job["spec"]  # set once the trial settles


PARAMS = {"lr": 0.01, "opt": "sgd"}


def test_a_queued_trial_job_is_labelled_for_its_local_queue_and_created_suspended() -> None:
    queue = {"name": "team-gpus", "priorityClass": "low"}
    experiment = parse_experiment(experiment_document(queue=queue))
    job = build_trial_job(experiment, parse_trial(stored_trial(experiment, PARAMS)))

    labels = job["metadata"]["labels"]
    assert labels[QUEUE_NAME_LABEL] == "team-gpus"
    assert labels[PRIORITY_CLASS_LABEL] == "low"
    assert QUEUE_NAME_LABEL not in job["spec"]["template"]["metadata"]["labels"]
    assert job["spec"]["suspend"] is True  # Kueue resumes it once admitted


def test_without_a_queue_a_trial_job_starts_at_once_with_no_kueue_label() -> None:
    experiment = parse_experiment(experiment_document(queue={"name": "team-gpus"}))
    queued_job = build_trial_job(experiment, parse_trial(stored_trial(experiment, PARAMS)))
    assert PRIORITY_CLASS_LABEL not in queued_job["metadata"]["labels"]

    experiment = parse_experiment(experiment_document())
    job = build_trial_job(experiment, parse_trial(stored_trial(experiment, PARAMS)))
    assert not [label for label in job["metadata"]["labels"] if label.startswith("kueue.")]
    assert job["spec"]["suspend"] is False


@pytest.mark.parametrize("queue", [{"name": "Team_GPUs"}, {"name": ""}, {"name": "q", "x": 1}])
def test_a_queue_that_cannot_be_a_label_value_or_name_is_refused(queue: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="queue"):
        parse_experiment(experiment_document(queue=queue))


def test_first_container_is_the_trainer_when_none_is_named_so() -> None:
    containers = [{"name": "main", "image": "x", "command": ["run", "${lr}"]}]
    experiment = parse_experiment(experiment_document(containers=containers))
    trial = parse_trial(stored_trial(experiment, {"lr": 0.5, "opt": "sgd"}))
    (main,) = build_trial_job(experiment, trial)["spec"]["template"]["spec"]["containers"]
    assert main["command"] == ["run", "0.5"]
    assert main["resources"]["limits"] == {"nvidia.com/gpu": "2"}


def test_trial_resource_is_owned_by_the_experiment_and_deterministic() -> None:
    experiment = {"apiVersion": "kubetune.dev/v1alpha1", "kind": "TuningExperiment",
                  "metadata": {"name": "exp", "namespace": "team", "uid": "u1"},
                  "spec": {"objective": {"metric": "acc"}}}  # fmt: skip
    first = build_trial_resource(experiment, 7, "exp-0007", {"lr": 0.1})
    assert first == build_trial_resource(experiment, 7, "exp-0007", {"lr": 0.1})
    assert first["spec"] == {
        "experiment": "exp", "index": 7, "parameters": {"lr": 0.1}, "objectiveMetric": "acc"
    }  # fmt: skip
    assert first["metadata"]["ownerReferences"][0]["uid"] == "u1"
    experiment["spec"]["objective"]["strategies"] = {"acc": "max"}
    carried = build_trial_resource(experiment, 7, "exp-0007", {"lr": 0.1})["spec"]
    assert carried["strategies"] == {"acc": "max"}, "the ingest records by the strategy"


def test_unknown_placeholder_names_the_field() -> None:
    containers = [{"name": "trainer", "image": "x", "args": ["--momentum=${momentum}"]}]
    experiment = parse_experiment(experiment_document(containers=containers))
    trial = parse_trial(stored_trial(experiment, {"lr": 0.5, "opt": "sgd"}))
    with pytest.raises(PlaceholderError, match=r"containers\[0\].*args\[0\].*momentum"):
        build_trial_job(experiment, trial)


@pytest.mark.parametrize(
    ("field", "value"), [("env", {"A": "1"}), ("resources", "4Gi"), ("resources", {"limits": "x"})]
)
def test_fields_of_the_wrong_shape_reach_the_api_server_untouched(field: str, value: Any) -> None:
    """The server names the field when it refuses them; the builder must not crash."""
    container = {"name": "trainer", "image": "trial:1", field: value}
    experiment = parse_experiment(experiment_document(containers=[container]))
    trial = parse_trial(
        {
            **build_trial_resource(
                experiment_document(), 0, "exp-0000", {"lr": 0.01, "opt": "sgd"}
            ),
            "metadata": {"name": "exp-0000", "namespace": "team", "uid": "uid-trial"},
        }
    )
    built = build_trial_job(experiment, trial)["spec"]["template"]["spec"]["containers"][0]
    kept = built[field] if not isinstance(value, dict) else {k: built[field][k] for k in value}
    assert kept == value
