"""Experiments on a cluster, read for `kubetune status|trials|best|plot`.

The read-only commands are written against `ExperimentSource`; this is its cluster
implementation, beside the local runner's directory. It reads what the operator stores:
the TuningExperiment with its status and the TuningTrials labelled with its name.
"""

from __future__ import annotations

from kubetune.api import TuningExperiment, parse_experiment, parse_trial
from kubetune.k8s.custom import get_experiment, list_experiments, list_trials
from kubetune.k8s.rest import Kube
from kubetune.planning.source import ExperimentNotFoundError, ExperimentSnapshot


class ClusterSource:
    """`ExperimentSource` over one namespace of the cluster a kubeconfig points at."""

    def __init__(self, kube: Kube, namespace: str) -> None:
        self.kube = kube
        self.namespace = namespace

    def names(self) -> list[str]:
        documents = list_experiments(self.kube, self.namespace)
        return sorted(str(document["metadata"]["name"]) for document in documents)

    def experiment(self, name: str) -> TuningExperiment:
        document = get_experiment(self.kube, self.namespace, name)
        if document is None:
            known = ", ".join(self.names()) or "none"
            raise ExperimentNotFoundError(
                f"no TuningExperiment {name!r} in namespace {self.namespace} "
                f"(experiments there: {known})"
            )
        return parse_experiment(document)

    def load(self, name: str) -> ExperimentSnapshot:
        experiment = self.experiment(name)
        trials = [parse_trial(trial) for trial in list_trials(self.kube, self.namespace, name)]
        trials.sort(key=lambda trial: trial.spec.index)
        return ExperimentSnapshot(experiment, trials)
