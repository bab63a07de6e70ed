"""Trial pods whose containers really run, as local processes.

kwok binds pods to the fake GPU node but runs nothing. For pods annotated
`kwok.x-k8s.io/status: custom`, `ProcessPodDriver` plays the kubelet: it starts the pod's
trainer command and its reporter sidecar with the pod's environment (the emptyDir becomes
a temporary directory), writes the pod status a kubelet would write, sends the reporter
SIGTERM once the trainer exits (as Kubernetes does for native sidecars), and kills both
when the pod is deleted (an early-stopped trial's Job is deleted). A pod without the
sidecar (a JobSet trial's pods outside the reporting replicated job) runs its trainer
alone; the downward API's labels and annotations reach the sidecar as a kubelet gives them.

The trainer's stdout and stderr go to a CRI-format log file that a kwok `Logs` object
names, so `pods/log` of the trainer answers through the API server as a kubelet would,
and all of it is written before the pod is reported finished.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kubernetes import client

from tests.cluster import ClusterClient, Ticker, kwok
from tests.cluster.binaries import REPO_ROOT
from tests.integration.container_log import ContainerLogWriter

EXPERIMENT_LABEL = "kubetune.dev/experiment"
TRIAL_LABEL = "kubetune.dev/trial"
REPORTER = "kubetune-reporter"
VENV_BIN = Path(sys.executable).parent
# Test speed: the reporter sends every 0.2 s instead of its default 2 s.
REPORTER_TUNING = {"KUBETUNE_REPORT_INTERVAL": "0.2"}


@dataclass
class RunningPod:
    trainer: subprocess.Popen[bytes]
    reporter: subprocess.Popen[bytes] | None
    trainer_log: ContainerLogWriter

    def kill(self) -> None:
        for process in (self.trainer, self.reporter):
            if process is None:
                continue
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            process.wait(10)
        self.trainer_log.close()


class ProcessPodDriver(Ticker):
    """Runs each trial pod's trainer and reporter as processes; keeps going past a
    trainer that breaks (its error is reported when the test's block ends)."""

    period, join_seconds, stop_on_error = 0.1, 30.0, False

    def __init__(self, cluster: ClusterClient, namespace: str, workdir: Path) -> None:
        super().__init__()
        self.core = cluster.core_v1()
        self.custom = client.CustomObjectsApi(cluster.api_client())
        self.namespace, self.workdir = namespace, workdir
        self.running: dict[str, RunningPod] = {}
        self.completed: dict[str, int] = {}  # pod -> trainer exit code
        self.trial_of: dict[str, str] = {}  # pod -> trial
        self.killed: list[str] = []  # pods deleted while their trainer ran

    def tick(self) -> None:
        self._drive()

    def stopped(self) -> None:
        for pod in self.running.values():
            pod.kill()

    def _drive(self) -> None:
        pods = self.core.list_namespaced_pod(self.namespace, label_selector=EXPERIMENT_LABEL)
        for pod in pods.items:
            name = pod.metadata.name
            if pod.metadata.deletion_timestamp is not None:
                self._delete_pod(name)
            elif pod.spec.node_name and name not in self.running and name not in self.completed:
                self._start(pod)
        for name, running in list(self.running.items()):
            if running.trainer.poll() is not None:
                self._finish(name, running)

    def _start(self, pod: Any) -> None:
        name = pod.metadata.name
        self.trial_of[name] = pod.metadata.labels[TRIAL_LABEL]
        volume = self.workdir / name
        volume.mkdir(parents=True, exist_ok=True)
        trainer = pod.spec.containers[0]
        reporter = next((c for c in pod.spec.init_containers or [] if c.name == REPORTER), None)
        trainer_log = self._container_log(name, trainer.name, volume)
        trainer_process = self._spawn(pod, trainer, volume, {}, output=subprocess.PIPE)
        trainer_log.follow(trainer_process.stdout, "stdout")  # type: ignore[arg-type]
        trainer_log.follow(trainer_process.stderr, "stderr")  # type: ignore[arg-type]
        self.running[name] = RunningPod(
            trainer=trainer_process,
            reporter=reporter and self._spawn(pod, reporter, volume, REPORTER_TUNING),
            trainer_log=trainer_log,
        )
        self._write_status(name, "Running", {"running": {"startedAt": _now()}})

    def _container_log(self, pod: str, container: str, volume: Path) -> ContainerLogWriter:
        """The container's log file, made known to kwok before the container writes."""
        path = volume / f"{container}.log"
        logs = kwok.container_logs(pod, {container: path})
        self.custom.create_namespaced_custom_object(
            kwok.LOGS_GROUP, kwok.LOGS_VERSION, self.namespace, kwok.LOGS_PLURAL, logs
        )
        return ContainerLogWriter(path)

    def _spawn(
        self, pod: Any, container: Any, volume: Path, extra: dict[str, str],
        output: int | None = None,
    ) -> subprocess.Popen[bytes]:  # fmt: skip
        env = {**container_env(pod, container, volume), **extra}
        argv = [*(container.command or []), *(container.args or [])]
        executable = [local_executable(argv[0]), *argv[1:]]
        return subprocess.Popen(executable, env=env, cwd=REPO_ROOT, stdout=output, stderr=output)

    def trainer_exit_codes(self) -> dict[str, int]:
        """Trial -> exit code of its trainer, for trials whose trainer ran to its end."""
        return {self.trial_of[pod]: code for pod, code in self.completed.items()}

    def _finish(self, name: str, running: RunningPod) -> None:
        """The trainer exited: stop the sidecar as the kubelet would, then complete."""
        reporter_code = 0
        if running.reporter is not None:
            running.reporter.terminate()
            reporter_code = running.reporter.wait(30)
        running.trainer_log.close()  # every line is in the log before the pod is finished
        code = int(running.trainer.returncode)
        del self.running[name]
        self.completed[name] = code
        terminated = {"exitCode": code, "reason": "Completed" if code == 0 else "Error",
                      "startedAt": _now(), "finishedAt": _now()}  # fmt: skip
        reporter_state = {**terminated, "exitCode": reporter_code}
        phase = "Succeeded" if code == 0 else "Failed"
        self._write_status(name, phase, {"terminated": terminated}, {"terminated": reporter_state})

    def _delete_pod(self, name: str) -> None:
        running = self.running.pop(name, None)
        if running is not None:
            running.kill()
            self.killed.append(name)
        kwok.confirm_deletion(self.core, self.namespace, name)  # kwok may have done it already

    def _write_status(
        self, name: str, phase: str, trainer: dict[str, Any], reporter: dict[str, Any] | None = None
    ) -> None:
        def status(container: str, state: dict[str, Any]) -> dict[str, Any]:
            return {"name": container, "image": "kubetune/trial:test", "imageID": "",
                    "ready": "running" in state, "restartCount": 0, "state": state,
                    "started": "running" in state}  # fmt: skip

        sidecar = status(REPORTER, reporter or {"running": {"startedAt": _now()}})
        body = {"phase": phase, "containerStatuses": [status("trainer", trainer)],
                "initContainerStatuses": [sidecar]}  # fmt: skip
        self.core.patch_namespaced_pod_status(name, self.namespace, {"status": body})


def container_env(pod: Any, container: Any, volume: Path) -> dict[str, str]:
    """The container's environment as a kubelet would set it; the metrics emptyDir is
    `volume`. Nothing from the test's own environment leaks in but PATH (no KUBECONFIG)."""
    env = {"PATH": f"{VENV_BIN}:/usr/bin:/bin", "PYTHONPATH": str(REPO_ROOT / "operator")}
    for variable in container.env or []:
        if variable.value is not None:
            env[variable.name] = variable.value
        elif variable.value_from and variable.value_from.field_ref:
            env[variable.name] = _field(pod, variable.value_from.field_ref.field_path)
    if "KUBETUNE_METRICS_FILE" in env:
        env["KUBETUNE_METRICS_FILE"] = str(volume / Path(env["KUBETUNE_METRICS_FILE"]).name)
    return env


def _field(pod: Any, path: str) -> str:
    """A downward API fieldRef: the namespace, or one label or annotation ('' if absent)."""
    if path == "metadata.namespace":
        return str(pod.metadata.namespace)
    match = re.fullmatch(r"metadata\.(labels|annotations)\['([^']+)'\]", path)
    assert match is not None, path
    return str((getattr(pod.metadata, match[1]) or {}).get(match[2], ""))


def local_executable(name: str) -> str:
    """`python` is this test's interpreter; console scripts come from its venv."""
    if name in ("python", "python3"):
        return sys.executable
    return str(VENV_BIN / name) if (VENV_BIN / name).exists() else name


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
