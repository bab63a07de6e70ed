"""The writes one reconcile pass decides on, as plain values.

`pass_decision.decide_pass` returns a list of these; `reconcile.experiment` carries them
out in order through the k8s package. Keeping them as data makes the pass testable without
an API server and makes the order of writes explicit: a trial exists before its Job, its
Job before `status.jobName` names it, and the experiment's status is written last.

Order matters between stages, not within one: `steps` groups each run of writes of one
stage to different objects into one step, whose writes may go to the API server side by
side (a pass's time is its round trips in a row).
"""

from __future__ import annotations

from collections.abc import Sequence
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


# The stage of each action that may share a step with its neighbours. CreateTrial has
# none: trials are created one by one in index order, so a pass cut short leaves a prefix
# of them, never a gap. An Event goes beside the status write it reports: Events are best
# effort, and a status write that fails fails the pass, whose retry at worst repeats it.
STAGES: dict[type, str] = {
    StoreAcceptedSpec: "prepare", ValidateJob: "prepare",
    PatchTrialStatus: "settle", DeleteJob: "settle", ExpireJob: "settle", SuspendJob: "settle",
    CreateJob: "launch",
    PatchExperimentStatus: "record", EmitEvent: "record",
}  # fmt: skip


def steps(decided: Sequence[Action]) -> list[tuple[Action, ...]]:
    """The actions in order, each maximal run of one stage that writes each object once
    as one step (a second write of an object starts a new step, so that object's writes
    keep their order: a stopped trial's Job is deleted before the trial is marked)."""
    grouped: list[tuple[Action, ...]] = []
    for action in decided:
        last = grouped[-1] if grouped else ()
        if last and _joins(last, action):
            grouped[-1] = (*last, action)
        else:
            grouped.append((action,))
    return grouped


def _joins(step: tuple[Action, ...], action: Action) -> bool:
    stage = STAGES.get(type(action))
    written = {_object_of(other) for other in step}
    same_stage = stage is not None and STAGES.get(type(step[0])) == stage
    return same_stage and (_object_of(action) is None or _object_of(action) not in written)


def _object_of(action: Action) -> str | None:
    """What the action writes, by name (a trial's Job and JobSet are named after the
    trial); None for an Event, a new object each time."""
    if isinstance(action, (PatchTrialStatus, CreateJob)):
        return action.trial
    if isinstance(action, (DeleteJob, ExpireJob, SuspendJob)):
        return action.name
    return None if isinstance(action, EmitEvent) else type(action).__name__
