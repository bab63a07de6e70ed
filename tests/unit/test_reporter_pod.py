"""The reporter sidecar added to a trial Job: a native sidecar sharing only an emptyDir
with the trainer, which keeps its command and gets no credentials."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kubetune.planning.sidecar import METRICS_FILE, REPORTER_CONTAINER, add_reporter


def job(pod_extra: dict[str, Any] | None = None) -> dict[str, Any]:
    trainer = {"name": "trainer", "image": "t:1", "command": ["python", "train.py", "--lr=0.1"],
               "env": [{"name": "KUBETUNE_METRICS_FILE", "value": "/elsewhere"}]}  # fmt: skip
    pod = {"containers": [trainer], "restartPolicy": "Never", **(pod_extra or {})}
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "e-0001"},
            "spec": {"template": {"spec": pod}}}  # fmt: skip


def with_reporter(manifest: dict[str, Any], **token: str) -> dict[str, Any]:
    arguments = token or {"token": "abc"}
    return add_reporter(
        manifest, image="kubetune/trial:1", ingest_url="http://op:8443", experiment="e",
        trial="e-0001", **arguments,
    )  # fmt: skip


def test_adds_a_native_sidecar_sharing_an_empty_dir() -> None:
    original = job()
    pod = with_reporter(original)["spec"]["template"]["spec"]
    (reporter,) = pod["initContainers"]
    assert reporter["name"] == REPORTER_CONTAINER and reporter["restartPolicy"] == "Always"
    assert reporter["command"] == ["kubetune-reporter"]
    assert reporter["resources"]["requests"] == {"cpu": "10m", "memory": "32Mi"}
    env = {item["name"]: item for item in reporter["env"]}
    assert env["KUBETUNE_TRIAL_TOKEN"]["value"] == "abc"
    assert env["KUBETUNE_INGEST_URL"]["value"] == "http://op:8443"
    assert env["KUBETUNE_NAMESPACE"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.namespace"
    (volume,) = pod["volumes"]
    assert "emptyDir" in volume
    (trainer,) = pod["containers"]
    assert trainer["command"] == ["python", "train.py", "--lr=0.1"]
    assert trainer["env"] == [{"name": "KUBETUNE_METRICS_FILE", "value": METRICS_FILE}]
    assert not any("TOKEN" in item["name"] for item in trainer["env"])
    assert trainer["volumeMounts"][0]["mountPath"] == reporter["volumeMounts"][0]["mountPath"]
    assert original == job()  # the input is not modified


def test_the_pod_gets_no_kubernetes_credentials_unless_the_template_asks() -> None:
    assert with_reporter(job())["spec"]["template"]["spec"]["automountServiceAccountToken"] is False
    asked = with_reporter(job({"automountServiceAccountToken": True}))
    assert asked["spec"]["template"]["spec"]["automountServiceAccountToken"] is True


def test_the_token_can_come_from_a_secret() -> None:
    pod = with_reporter(job(), token_secret_name="e-0001-token")["spec"]["template"]["spec"]
    token = {item["name"]: item for item in pod["initContainers"][0]["env"]}["KUBETUNE_TRIAL_TOKEN"]
    assert token["valueFrom"] == {"secretKeyRef": {"name": "e-0001-token", "key": "token"}}


def test_needs_exactly_one_token_source() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        add_reporter(job(), image="i", ingest_url="u", experiment="e", trial="t")


def test_adding_twice_gives_the_same_pod() -> None:
    once = with_reporter(job())
    assert with_reporter(copy.deepcopy(once)) == once
