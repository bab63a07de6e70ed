"""Where the read-only commands (`kubetune status|trials|best|plot`) find an experiment.

The local runner's directory and a cluster (through kubeconfig) both hold the same two
things: the TuningExperiment with its status, and its TuningTrials. The commands are
written against this protocol only, so a cluster backend is one more implementation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from kubetune.api import TuningExperiment, TuningTrial


class ExperimentNotFoundError(LookupError):
    """No experiment of that name; the message says where it was looked for."""


@dataclass(frozen=True)
class ExperimentSnapshot:
    experiment: TuningExperiment
    trials: list[TuningTrial]  # sorted by index

    @property
    def name(self) -> str:
        return str(self.experiment.metadata.get("name", ""))


class ExperimentSource(Protocol):
    def names(self) -> list[str]:
        """Experiments this source knows, sorted."""
        ...

    def experiment(self, name: str) -> TuningExperiment:
        """The experiment with its status, without reading its trials (`kubetune list`
        stays one read per experiment); raises ExperimentNotFoundError."""
        ...

    def load(self, name: str) -> ExperimentSnapshot:
        """The experiment and its trials; raises ExperimentNotFoundError."""
        ...
