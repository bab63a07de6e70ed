"""Spec edits and spec size: the accepted spec lives in a Secret, the experiment carries a
digest of it, so a spec near the API server's object limit works."""

from __future__ import annotations

import json

import pytest

from kubetune.planning.spec_changes import ACCEPTED_SPEC_ANNOTATION, spec_digest
from tests.unit.fake_kube import FakeKube, api_error
from tests.unit.pass_helpers import (
    EXPERIMENTS,
    SECRETS,
    condition,
    create,
    experiment_body,
    reconcile,
    status,
    stored,
    trials,
)


@pytest.fixture
def fake() -> FakeKube:
    return FakeKube()


def _patch_spec(fake: FakeKube, spec: dict[str, object]) -> None:
    fake.request("PATCH", f"{EXPERIMENTS}/exp", body={"spec": spec})


def _secret_reads(fake: FakeKube) -> int:
    return sum(path.startswith(SECRETS) for method, path in fake.requests if method == "GET")


def test_the_first_pass_records_the_accepted_spec_as_a_digest(fake: FakeKube) -> None:
    body = create(fake, experiment_body())
    reconcile(fake)
    annotation = stored(fake)["metadata"]["annotations"][ACCEPTED_SPEC_ANNOTATION]
    assert annotation == spec_digest(body["spec"])
    assert f"{SECRETS}/exp-kubetune-spec" in fake.objects


def test_an_immutable_edit_is_refused_and_the_accepted_spec_kept(fake: FakeKube) -> None:
    create(fake, experiment_body(max_trials=6, parallel=1))
    reconcile(fake)
    _patch_spec(fake, {"objective": {"metric": "loss", "goal": "minimize"}})
    reconcile(fake)
    accepted = condition(fake, "SpecAccepted")
    assert accepted is not None and accepted["status"] == "False"
    assert "spec.objective" in accepted["message"]
    assert _secret_reads(fake) == 1  # read only because the digest differs
    _patch_spec(fake, {"objective": {"metric": "score", "goal": "maximize"}})
    reconcile(fake)
    assert condition(fake, "SpecAccepted")["status"] == "True"


def test_mutable_edits_take_effect_without_reading_the_secret(fake: FakeKube) -> None:
    create(fake, experiment_body(max_trials=6, parallel=1))
    reconcile(fake)
    _patch_spec(fake, {"limits": {"parallelTrials": 3}})
    reconcile(fake)
    assert len(trials(fake)) == 3
    assert _secret_reads(fake) == 0
    assert condition(fake, "SpecAccepted") is None


def test_a_spec_near_the_object_limit_keeps_the_experiment_small(fake: FakeKube) -> None:
    container = {
        "name": "trainer",
        "image": "trial:1",
        "env": [{"name": "BIG", "value": "x" * 600_000}],
    }
    create(fake, experiment_body(container=container))
    reconcile(fake)
    annotations = stored(fake)["metadata"]["annotations"]
    assert sum(len(value) for value in annotations.values()) < 100
    assert len(json.dumps(fake.objects[f"{SECRETS}/exp-kubetune-spec"])) < 10_000  # gzip
    assert status(fake)["phase"] == "Running" and len(trials(fake)) == 2


def test_a_legacy_full_spec_annotation_is_migrated(fake: FakeKube) -> None:
    body = experiment_body(max_trials=6, parallel=1)
    legacy = json.dumps(body["spec"])
    body["metadata"]["annotations"] = {ACCEPTED_SPEC_ANNOTATION: legacy}
    create(fake, body)
    _patch_spec(fake, {"algorithm": {"name": "sobol", "seed": 1}})
    reconcile(fake)
    assert condition(fake, "SpecAccepted")["status"] == "False"  # judged against the legacy copy
    annotation = stored(fake)["metadata"]["annotations"][ACCEPTED_SPEC_ANNOTATION]
    assert annotation == spec_digest(json.loads(legacy))
    reconcile(fake)
    assert condition(fake, "SpecAccepted")["status"] == "False"  # now from the Secret


def test_an_unreadable_legacy_annotation_counts_as_none(fake: FakeKube) -> None:
    body = experiment_body()
    body["metadata"]["annotations"] = {ACCEPTED_SPEC_ANNOTATION: "{not json"}
    create(fake, body)
    reconcile(fake)
    assert stored(fake)["metadata"]["annotations"][ACCEPTED_SPEC_ANNOTATION].startswith("sha256:")


def test_a_digest_without_its_secret_accepts_the_submitted_spec(fake: FakeKube) -> None:
    create(fake, experiment_body())
    reconcile(fake)
    del fake.objects[f"{SECRETS}/exp-kubetune-spec"]
    _patch_spec(fake, {"algorithm": {"name": "sobol", "seed": 1}})
    reconcile(fake)
    assert condition(fake, "SpecAccepted") is None
    assert f"{SECRETS}/exp-kubetune-spec" in fake.objects


def test_a_spec_too_big_for_a_secret_still_runs(fake: FakeKube) -> None:
    fake.refusers.append(
        lambda path, body, dry_run: api_error(422, "Too long") if path == SECRETS else None
    )
    create(fake, experiment_body())
    reconcile(fake)
    assert stored(fake)["metadata"]["annotations"][ACCEPTED_SPEC_ANNOTATION].startswith("sha256:")
    assert status(fake)["phase"] == "Running"
