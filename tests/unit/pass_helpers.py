"""What the reconcile pass tests share: an experiment on the fake API server, the pass,
and the Job controller plus kubelet played by the test (pods that run and finish)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from kubetune.reconcile.experiment import reconcile_experiment
from tests.unit.fake_kube import FakeKube

Document = dict[str, Any]
NAMESPACE = "team"
GROUP_PATH = f"/apis/kubetune.dev/v1alpha1/namespaces/{NAMESPACE}"
EXPERIMENTS = f"{GROUP_PATH}/tuningexperiments"
TRIALS = f"{GROUP_PATH}/tuningtrials"
JOBS = f"/apis/batch/v1/namespaces/{NAMESPACE}/jobs"
PODS = f"/api/v1/namespaces/{NAMESPACE}/pods"
SECRETS = f"/api/v1/namespaces/{NAMESPACE}/secrets"
Trainer = Callable[[dict[str, float]], tuple[int, str]]


def experiment_body(
    name: str = "exp", *, max_trials: int = 4, parallel: int = 2, **spec: Any
) -> Document:
    """Maximize `score` over x, y in [-1, 1]; one GPU per trial."""
    container = spec.pop(
        "container", {"name": "trainer", "image": "trial:1", "args": ["--x=${x}", "--y=${y}"]}
    )
    return {
        "apiVersion": "kubetune.dev/v1alpha1",
        "kind": "TuningExperiment",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "objective": {"metric": "score", "goal": "maximize", **spec.pop("objective", {})},
            "parameters": [
                {"name": "x", "type": "float", "min": -1.0, "max": 1.0},
                {"name": "y", "type": "float", "min": -1.0, "max": 1.0},
            ],
            "algorithm": {"name": "random", "seed": 3},
            "limits": {
                "maxTrials": max_trials,
                "parallelTrials": parallel,
                **spec.pop("limits", {}),
            },
            "trial": {
                "gpus": 1,
                "template": {"spec": {"containers": [container]}},
                **spec.pop("trial", {}),
            },
            **spec,
        },
    }


def create(fake: FakeKube, body: Document) -> Document:
    return fake.request("POST", EXPERIMENTS, body=body)


def reconcile(fake: FakeKube, name: str = "exp") -> None:
    """What one event makes the operator do: a pass, and the next at once while a pass
    launched a full step (as `handlers._reconcile` loops)."""
    while reconcile_experiment(fake, NAMESPACE, name):
        pass


def reconcile_once(fake: FakeKube, name: str = "exp") -> bool:
    """Exactly one pass; whether it launched a full step."""
    return reconcile_experiment(fake, NAMESPACE, name)


def stored(fake: FakeKube, name: str = "exp") -> Document:
    return fake.request("GET", f"{EXPERIMENTS}/{name}")


def status(fake: FakeKube, name: str = "exp") -> Document:
    return dict(stored(fake, name).get("status") or {})


def condition(fake: FakeKube, kind: str, name: str = "exp") -> Document | None:
    return next((c for c in status(fake, name).get("conditions", []) if c["type"] == kind), None)


def trials(fake: FakeKube) -> list[Document]:
    return sorted(fake.of_kind("tuningtrials"), key=lambda trial: trial["spec"]["index"])


def events(fake: FakeKube) -> list[tuple[str, str, str]]:
    return [(e["reason"], e["message"], e["type"]) for e in fake.of_kind("events")]


def params_of(job: Document) -> dict[str, float]:
    env = job["spec"]["template"]["spec"]["containers"][0]["env"]
    prefix = "KUBETUNE_PARAM_"
    return {
        e["name"][len(prefix) :].lower(): float(e["value"])
        for e in env
        if e["name"].startswith(prefix)
    }


def scoring(params: dict[str, float]) -> tuple[int, str]:
    value = -((params["x"] - 0.3) ** 2) - (params["y"] + 0.2) ** 2
    return 0, f'{{"metrics": {{"score": {value!r}}}}}'


def finish_pods(fake: FakeKube, trainer: Trainer = scoring) -> int:
    """Every Job without a pod gets one that has already finished as `trainer` says."""
    owned = {pod["metadata"]["ownerReferences"][0]["uid"] for pod in fake.of_kind("pods")}
    finished = 0
    for job in fake.of_kind("jobs"):
        if job["metadata"]["uid"] not in owned and not job["spec"].get("suspend"):
            code, message = trainer(params_of(job))
            add_pod(fake, job, "Succeeded" if code == 0 else "Failed", code, message)
            finished += 1
    return finished


def add_pod(fake: FakeKube, job: Document, phase: str, code: int = 0, message: str = "") -> None:
    name = job["metadata"]["name"]
    terminated = {"exitCode": code, "message": message, "reason": "Completed"}
    owner = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "name": name,
        "uid": job["metadata"]["uid"],
        "controller": True,
    }
    fake.objects[f"{PODS}/{name}-pod"] = {
        "metadata": {
            "name": f"{name}-pod",
            "namespace": NAMESPACE,
            "uid": str(uuid.uuid4()),
            "labels": job["spec"]["template"]["metadata"]["labels"],
            "ownerReferences": [owner],
            "creationTimestamp": "2030-01-01T00:00:00Z",
        },
        "status": {
            "phase": phase,
            "containerStatuses": [{"name": "trainer", "state": {"terminated": terminated}}],
        },
    }


def run_to_end(fake: FakeKube, name: str = "exp", passes: int = 40) -> Document:
    """Alternate passes and finishing pods until the experiment finishes."""
    for _ in range(passes):
        reconcile(fake, name)
        if status(fake, name).get("phase") in ("Succeeded", "Failed"):
            break
        finish_pods(fake)
    return status(fake, name)
