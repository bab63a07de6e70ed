"""Everything one reconcile pass reads, gathered in four requests.

Level-triggered: each pass reads the experiment, its trials, Jobs and Pods fresh from the
API server (no cache, no memory of earlier passes), so whatever woke the operator, and
however many events it missed while it was down, the pass acts on the whole truth.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from kubetune.k8s import custom, workloads
from kubetune.k8s.rest import Kube
from kubetune.planning.jobs import TRIAL_LABEL

Document = dict[str, Any]


@dataclass
class Observed:
    """An experiment as stored, with its trials (by index) and their Jobs and Pods."""

    experiment: Document
    trials: list[Document] = field(default_factory=list)
    jobs: dict[str, Document] = field(default_factory=dict)
    pods: dict[str, list[Document]] = field(default_factory=dict)

    @property
    def namespace(self) -> str:
        return str(self.experiment["metadata"]["namespace"])

    @property
    def name(self) -> str:
        return str(self.experiment["metadata"]["name"])

    @property
    def status(self) -> Document:
        return dict(self.experiment.get("status") or {})


def observe_experiment(kube: Kube, namespace: str, name: str) -> Observed | None:
    """The experiment alone; None when it is gone or being deleted (GC does the rest)."""
    stored = custom.get_experiment(kube, namespace, name)
    if stored is None or stored["metadata"].get("deletionTimestamp"):
        return None
    return Observed(stored)


def observe_trials(kube: Kube, observed: Observed) -> None:
    """Fill in trials, Jobs and Pods (read after the experiment, never before it)."""
    namespace, name = observed.namespace, observed.name
    trials = custom.list_trials(kube, namespace, name)
    observed.trials = sorted(trials, key=lambda trial: trial["spec"]["index"])
    jobs = workloads.list_jobs(kube, namespace, name)
    observed.jobs = {job["metadata"]["name"]: job for job in jobs}
    pods: defaultdict[str, list[Document]] = defaultdict(list)
    for pod in workloads.list_pods(kube, namespace, name):
        pods[pod["metadata"].get("labels", {}).get(TRIAL_LABEL, "")].append(pod)
    observed.pods = dict(pods)
