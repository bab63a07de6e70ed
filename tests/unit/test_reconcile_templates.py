"""A trial template the API server refuses fails the experiment in one pass, naming the
field, and is never retried."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kubetune.planning.refusals import (
    Cause,
    Refusal,
    describe_refusal,
    experiment_field,
    parse_refusal,
)
from tests.unit.fake_kube import FakeKube, api_error
from tests.unit.pass_helpers import (
    JOBS,
    condition,
    create,
    events,
    experiment_body,
    reconcile,
    status,
    trials,
)

TRAINER = {"name": "trainer", "image": "trial:1"}
BAD_TEMPLATES: list[tuple[dict[str, Any], dict[str, Any], str]] = [
    ({"name": "trainer"}, {}, "spec.trial.template.spec.containers[0].image"),
    ({**TRAINER, "env": {"A": "1"}}, {}, "spec.trial.template.spec.containers.env"),
    ({**TRAINER, "resources": "4Gi"}, {}, "spec.trial.template.spec.containers.resources"),
    ({**TRAINER, "name": "Trainer_1"}, {}, "spec.trial.template.spec.containers[0].name"),
]


def test_a_command_given_as_one_string_is_an_invalid_spec_naming_the_field() -> None:
    """The CRD types command as a list, so kubectl apply refuses it; an object stored
    before that rule fails once, with the same words, before any dry run."""
    fake = FakeKube()
    create(fake, experiment_body(container={**TRAINER, "command": "python train.py"}))
    reconcile(fake)
    failed = condition(fake, "Failed")
    assert failed is not None and failed["reason"] == "InvalidSpec"
    assert "spec.trial.template.spec.containers[0].command" in failed["message"]
    assert not trials(fake) and not fake.of_kind("jobs")


@pytest.mark.parametrize(("container", "trial", "field"), BAD_TEMPLATES)
def test_a_refused_template_fails_the_experiment_naming_the_field(
    container: dict[str, Any], trial: dict[str, Any], field: str
) -> None:
    fake = FakeKube()
    create(fake, experiment_body(container=container, trial=trial))
    reconcile(fake)
    assert status(fake)["phase"] == "Failed"
    failed = condition(fake, "Failed")
    assert failed is not None and failed["reason"] == "InvalidTrialTemplate"
    assert field in failed["message"]
    [(reason, message, kind)] = events(fake)
    assert (reason, kind) == ("InvalidTrialTemplate", "Warning") and field in message
    assert not trials(fake) and not fake.of_kind("jobs")
    writes = len(fake.write_requests())
    reconcile(fake)  # finished: no retry, no write
    assert len(fake.write_requests()) == writes


def test_a_gpu_resource_that_is_no_resource_name_is_an_invalid_spec() -> None:
    """The CRD refuses it at apply; an object stored before that rule still fails once."""
    fake = FakeKube()
    create(fake, experiment_body(trial={"gpuResource": "nvidia gpu"}))
    reconcile(fake)
    failed = condition(fake, "Failed")
    assert failed is not None and failed["reason"] == "InvalidSpec"
    assert "gpuResource" in failed["message"]


def test_a_job_refused_after_the_dry_run_fails_its_trial_too() -> None:
    fake = FakeKube()

    def refuse_real_jobs(path: str, body: dict[str, Any], dry_run: bool) -> Any:
        if path == JOBS and not dry_run:
            return api_error(
                422,
                "invalid",
                [{"field": "spec.template.spec.hostname", "message": "Invalid value"}],
            )
        return None

    fake.refusers.append(refuse_real_jobs)
    create(fake, experiment_body(max_trials=2, parallel=1))
    reconcile(fake)
    assert condition(fake, "Failed")["reason"] == "InvalidTrialTemplate"
    assert "spec.trial.template.spec.hostname" in condition(fake, "Failed")["message"]
    trial = trials(fake)[0]
    assert (trial["status"]["phase"], trial["status"]["reason"]) == (
        "Failed",
        "InvalidTrialTemplate",
    )


def test_a_refused_trial_fails_the_experiment() -> None:
    fake = FakeKube()
    fake.refusers.append(
        lambda path, body, dry_run: api_error(422, "bad trial") if "tuningtrials" in path else None
    )
    create(fake, experiment_body())
    reconcile(fake)
    assert condition(fake, "Failed")["reason"] == "InvalidTrialTemplate"


def test_server_causes_become_the_experiments_fields() -> None:
    cause = {"field": "spec.template.spec.containers[0].image", "message": "Required value"}
    body = json.dumps({"kind": "Status", "message": "invalid", "details": {"causes": [cause]}})
    refusal = parse_refusal(422, body)
    assert refusal.causes == (Cause("spec.template.spec.containers[0].image", "Required value"),)
    assert describe_refusal(refusal, "nvidia.com/gpu") == (
        "the API server refused the trial Job (422): "
        "spec.trial.template.spec.containers[0].image: Required value"
    )


def test_a_body_that_is_not_a_status_is_kept_as_the_message() -> None:
    assert parse_refusal(400, "not json") == Refusal(400, "not json")
    assert parse_refusal(400, "[1]") == Refusal(400, "[1]")
    assert parse_refusal(400, None) == Refusal(400, "")


def test_a_decoding_error_names_the_go_field_as_the_experiments() -> None:
    message = (
        "cannot unmarshal string into Go struct field PodSpec.spec.template.spec."
        "containers of type []v1.Container"
    )
    described = describe_refusal(Refusal(400, message), "nvidia.com/gpu")
    assert described.startswith(
        "the API server refused the trial Job (400): spec.trial.template.spec.containers: "
    )


def test_only_the_operators_own_gpu_key_maps_to_gpu_resource() -> None:
    limit = "spec.template.spec.containers[0].resources.limits[a b]"
    assert experiment_field(limit, "a b") == "spec.trial.gpuResource"
    assert experiment_field(limit, "nvidia.com/gpu") == (
        "spec.trial.template.spec.containers[0].resources.limits[a b]"
    )
    assert experiment_field("metadata.name", "x") == "metadata.name"
