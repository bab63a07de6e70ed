"""The writes one reconcile pass decides on, as plain values.

`pass_decision.decide_pass` returns a list of these; `reconcile.apply` carries them out
in order through the k8s package. Keeping them as data makes the pass testable without an
API server and makes the order of writes explicit: a trial exists before its Job, its Job
before `status.jobName` names it, and the experiment's status is written last.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Document = dict[str, Any]


@dataclass(frozen=True)
class StoreAcceptedSpec:
    """Keep the accepted spec's immutable part (JSON) and mark the experiment with its
    digest."""

    encoded: str
    digest: str


@dataclass(frozen=True)
class ValidateJob:
    """Dry-run the Job of a trial not created yet (`trial`: the trial resource, with a
    provisional uid): the API server judges the template before any trial exists."""

    trial: Document


@dataclass(frozen=True)
class CreateTrial:
    trial: Document


@dataclass(frozen=True)
class CreateJob:
    """Create the Job of the named trial. The Job is built when the trial is stored (its
    owner reference needs the trial's uid), from the pass's experiment, by a pure builder."""

    trial: str


@dataclass(frozen=True)
class PatchTrialStatus:
    """Merge `patch` into the trial's status. With `resource_version`, only while the
    trial is that version: a write decided on a stale read is skipped, not forced."""

    trial: str
    patch: Document
    resource_version: str | None = None


@dataclass(frozen=True)
class DeleteJob:
    name: str


@dataclass(frozen=True)
class ExpireJob:
    """Let Kubernetes delete a settled trial's finished Job (and its Pods) `ttl_seconds`
    after it finished: its result is recorded, and a Job kept forever is memory in every
    watch and a row in every list."""

    name: str
    ttl_seconds: int


@dataclass(frozen=True)
class SuspendJob:
    name: str
    suspended: bool


@dataclass(frozen=True)
class PatchExperimentStatus:
    patch: Document


@dataclass(frozen=True)
class EmitEvent:
    reason: str
    message: str
    warning: bool = False


Action = (
    StoreAcceptedSpec
    | ValidateJob
    | CreateTrial
    | CreateJob
    | PatchTrialStatus
    | DeleteJob
    | ExpireJob
    | SuspendJob
    | PatchExperimentStatus
    | EmitEvent
)
