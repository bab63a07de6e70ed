"""What the operator tests share: the CRDs installed, the operator running, a trainer
played by the test, and small readers of what the operator wrote.

No kubelet runs trials here: kwok leaves pods annotated `kwok.x-k8s.io/status: custom`
to the `TrialPodDriver`, which plays the container: it reads the trial's parameters from
the pod's environment, decides the trainer's result with a function the test gives it,
and writes the pod status a kubelet would write, termination message included.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from kopf.testing import KopfRunner
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.cluster import CUSTOM_STATUS_ANNOTATION, ClusterClient, Ticker, eventually
from tests.cluster.binaries import REPO_ROOT
from tests.cluster.kwok import confirm_deletion

GROUP, VERSION = "kubetune.dev", "v1alpha1"
EXPERIMENT_LABEL = "kubetune.dev/experiment"
OPERATOR_ARGS = ["run", "--standalone", "-m", "kubetune.reconcile.handlers"]
# Trainer result: (exit code, termination message), or None to keep the trial running.
Trainer = Callable[[dict[str, str]], tuple[int, str] | None]
Document = dict[str, Any]


def install_crds(cluster: ClusterClient) -> None:
    cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(REPO_ROOT / "crds"))
    for plural in ("tuningexperiments", "tuningtrials"):
        crd = f"crd/{plural}.{GROUP}"
        cluster.kubectl("wait", "--for=condition=Established", crd, "--timeout=60s")


@contextlib.contextmanager
def operator_running(*namespaces: str) -> Iterator[KopfRunner]:
    """The operator in this process, watching the namespaces, as kopf's docs recommend."""
    watched = [arg for namespace in namespaces for arg in ("--namespace", namespace)]
    with KopfRunner([*OPERATOR_ARGS, *watched]) as runner:
        yield runner
    assert runner.exception is None, runner.output[-3000:]


def experiment(name: str, *, max_trials: int, parallel: int, args: list[str] | None = None,
               **spec: Any) -> Document:  # fmt: skip
    """An experiment maximizing `score` over x, y in [-1, 1], one GPU per trial."""
    container = {"name": "trainer", "image": "kubetune/trial:test",
                 "args": args or ["--x=${x}", "--y=${y}"]}  # fmt: skip
    limits = {"maxTrials": max_trials, "parallelTrials": parallel, **spec.pop("limits", {})}
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "TuningExperiment",
        "metadata": {"name": name},
        "spec": {
            "objective": {"metric": "score", "goal": "maximize", **spec.pop("objective", {})},
            "parameters": [
                {"name": "x", "type": "float", "min": -1.0, "max": 1.0},
                {"name": "y", "type": "float", "min": -1.0, "max": 1.0},
            ],
            "algorithm": {"name": "random", "seed": 3},
            "limits": limits,
            "trial": {
                "gpus": 1,
                "template": {
                    "metadata": {"annotations": dict([CUSTOM_STATUS_ANNOTATION])},
                    "spec": {"containers": [container]},
                },
            },
            **spec,
        },
    }


def score(params: dict[str, float]) -> float:
    """The trainer's known objective: best at x=0.3, y=-0.2."""
    return -((params["x"] - 0.3) ** 2) - (params["y"] + 0.2) ** 2


def scoring_trainer(params: dict[str, str]) -> tuple[int, str]:
    value = score({name: float(text) for name, text in params.items()})
    return 0, f'{{"metrics": {{"score": {value!r}}}}}'


class Cluster:
    """Readers and writers of the objects these tests look at."""

    def __init__(self, cluster: ClusterClient, namespace: str) -> None:
        self.cluster, self.namespace = cluster, namespace
        api_client = cluster.api_client()
        self.custom = client.CustomObjectsApi(api_client)
        self.core = client.CoreV1Api(api_client)
        self.batch = client.BatchV1Api(api_client)

    def create(self, body: Document) -> None:
        self.custom.create_namespaced_custom_object(
            GROUP, VERSION, self.namespace, "tuningexperiments", body
        )

    def experiment(self, name: str) -> Document:
        found = self.custom.get_namespaced_custom_object(
            GROUP, VERSION, self.namespace, "tuningexperiments", name
        )
        return dict(found)

    def delete_experiment(self, name: str) -> None:
        self.custom.delete_namespaced_custom_object(
            GROUP, VERSION, self.namespace, "tuningexperiments", name
        )

    def experiment_gone(self, name: str) -> bool:
        """Whether the experiment is deleted (finalizers and all, as kubectl waits)."""
        try:
            self.experiment(name)
        except ApiException as error:
            return error.status == 404
        return False

    def patch_spec(self, name: str, spec: Document) -> None:
        self.custom.patch_namespaced_custom_object(
            GROUP, VERSION, self.namespace, "tuningexperiments", name, {"spec": spec},
            _content_type="application/merge-patch+json",
        )  # fmt: skip

    def trials(self) -> list[Document]:
        found = self.custom.list_namespaced_custom_object(
            GROUP, VERSION, self.namespace, "tuningtrials"
        )
        return sorted(found["items"], key=lambda trial: trial["spec"]["index"])

    def jobs(self) -> list[Document]:
        jobs = self.batch.list_namespaced_job(self.namespace).items
        return [self.batch.api_client.sanitize_for_serialization(job) for job in jobs]

    def events(self, name: str) -> list[tuple[str, str]]:
        selector = f"involvedObject.name={name}"
        events = self.core.list_namespaced_event(self.namespace, field_selector=selector).items
        return [(event.reason, event.message) for event in events]

    def wait_for_phase(self, name: str, *phases: str, timeout: float = 90) -> Document:
        def finished() -> Document | None:
            found = self.experiment(name)
            return found if found.get("status", {}).get("phase") in phases else None

        return eventually(finished, f"experiment {name} in phase {phases}", timeout, 0.3)


def condition(experiment: Document, kind: str) -> Document | None:
    conditions = experiment.get("status", {}).get("conditions", [])
    return next((c for c in conditions if c["type"] == kind), None)


def is_true(experiment: Document, kind: str) -> bool:
    found = condition(experiment, kind)
    return found is not None and found["status"] == "True"


class TrialPodDriver(Ticker):
    """Plays kubelet and trainer for every trial pod of one namespace."""

    def __init__(
        self, cluster: ClusterClient, namespace: str, trainer: Trainer, hold: float = 0.3
    ) -> None:
        super().__init__()
        self.core = cluster.core_v1()
        self.namespace, self.trainer, self.hold = namespace, trainer, hold
        self.started: dict[str, float] = {}
        self.finished: dict[str, float] = {}  # pod name -> when its trainer's result was written
        self.most_running = 0

    def tick(self) -> None:
        self._drive()

    def _drive(self) -> None:
        pods = self.core.list_namespaced_pod(self.namespace, label_selector=EXPERIMENT_LABEL).items
        for pod in pods:
            if pod.metadata.deletion_timestamp is not None:
                confirm_deletion(self.core, self.namespace, pod.metadata.name)
        live = [
            pod
            for pod in pods
            if pod.metadata.deletion_timestamp is None
            and pod.status.phase in ("Pending", "Running")
        ]
        self.most_running = max(self.most_running, len(live))
        for pod in live:
            if pod.spec.node_name:
                self._step(pod)

    def _step(self, pod: Any) -> None:
        name = pod.metadata.name
        if pod.status.phase == "Pending":
            self._write(name, "Running", {"running": {"startedAt": _now()}})
            self.started[name] = time.monotonic()
            return
        if time.monotonic() - self.started.get(name, 0.0) < self.hold:
            return
        result = self.trainer(_params(pod))
        if result is not None:
            code, message = result
            reason = "Completed" if code == 0 else "Error"
            times = {"startedAt": _now(), "finishedAt": _now()}
            terminated = {"exitCode": code, "reason": reason, "message": message, **times}
            self._write(name, "Succeeded" if code == 0 else "Failed", {"terminated": terminated})
            self.finished[name] = time.monotonic()

    def _write(self, name: str, phase: str, state: Document) -> None:
        container = {"name": "trainer", "image": "kubetune/trial:test", "imageID": "",
                     "ready": phase == "Running", "restartCount": 0, "state": state}  # fmt: skip
        self.core.patch_namespaced_pod_status(
            name, self.namespace, {"status": {"phase": phase, "containerStatuses": [container]}}
        )


def _params(pod: Any) -> dict[str, str]:
    env = pod.spec.containers[0].env or []
    prefix = "KUBETUNE_PARAM_"
    return {
        var.name[len(prefix) :].lower(): var.value for var in env if var.name.startswith(prefix)
    }


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def kubeconfig_env(cluster: ClusterClient) -> None:
    """Both kopf and the operator's client read KUBECONFIG; resync fast for tests."""
    os.environ["KUBECONFIG"] = str(cluster.kubeconfig)
    os.environ.setdefault("KUBETUNE_RESYNC_SECONDS", "2")
    os.environ.setdefault("KUBETUNE_INGEST_PORT", "0")  # any free port: runs may overlap
    os.environ.setdefault("KUBETUNE_METRICS_PORT", "0")


class GatedTrainer:
    """`scoring_trainer`, but every trial keeps running until the test opens the gate."""

    def __init__(self) -> None:
        self.open = False

    def __call__(self, params: dict[str, str]) -> tuple[int, str] | None:
        return scoring_trainer(params) if self.open else None


def trainer_gpus(job: Document) -> str:
    return str(
        job["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"]
    )


def start_operator(cluster: ClusterClient, namespace: str) -> subprocess.Popen[bytes]:
    """The operator as a real `kopf run` process, which a test may SIGKILL."""
    env = {
        **os.environ,
        "KUBECONFIG": str(cluster.kubeconfig),
        "KUBETUNE_RESYNC_SECONDS": "2",
        "KUBETUNE_INGEST_PORT": "0",
    }
    argv = [sys.executable, "-m", "kopf", *OPERATOR_ARGS, "--namespace", namespace]
    return subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def run_through_kills(
    kube: Cluster, name: str, *, kills: int, seed: int, pause: float, timeout: float
) -> tuple[Document, list[int]]:
    """Experiment `name` run by operators SIGKILLed `kills` times while they work (once
    one has launched a trial, at a random instant of up to `pause` s of the passes that
    follow), then by one more until it ends. Returns the ended experiment and the number
    of trials at each kill."""
    chance, trials_at_kill = random.Random(seed), list[int]()
    for _ in range(kills):
        before = len(kube.trials())
        operator = start_operator(kube.cluster, kube.namespace)
        try:
            eventually(lambda n=before: len(kube.trials()) > n, "the operator at work", 60, 0.05)
            time.sleep(chance.uniform(0.0, pause))
        finally:  # killed when the wait fails too, so no operator outlives its test
            operator.send_signal(signal.SIGKILL)
            operator.wait()
        trials_at_kill.append(len(kube.trials()))
    last = start_operator(kube.cluster, kube.namespace)
    try:
        return kube.wait_for_phase(name, "Succeeded", "Failed", timeout=timeout), trials_at_kill
    finally:
        last.terminate()
        last.wait(30)
