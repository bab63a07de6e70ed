"""The status documents of an experiment and of its trials, built the same way for both
runtimes: conditions that keep their transition times, and patches that name only what
changed. The local runner stores these very documents; the operator writes their patches.

The operator reconciles often (every Job and Pod event triggers a pass); writing the
whole status each time would bump resourceVersion, wake every watcher and cost an API
write per event. Comparing the desired status with the stored one keeps a quiet
experiment quiet: a pass that changes nothing writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from kubetune.api import TuningExperimentSpec, TuningTrialStatus, dump_resource, rfc3339
from kubetune.planning.plan import Plan
from kubetune.planning.spec_changes import EDITABLE_FIELDS

Document = dict[str, Any]
# What the lifecycle decides about a trial; the rest of its status (jobName, startTime)
# belongs to whoever started its workload.
LIFECYCLE_FIELDS = (
    "phase", "reason", "message", "completionTime", "value", "metrics", "feasible", "curve",
    "preemptions",
)  # fmt: skip
# A trial's reason and message hold while they are true: a preempted trial running again
# drops "Preempted". (Removing an absent field is no change, so this costs no write.)
CLEARED_FIELDS = ("reason", "message")


def timestamp(moment: datetime) -> str:
    return rfc3339(moment)


def set_condition(
    conditions: list[Document],
    kind: str,
    state: bool,
    *,
    reason: str,
    message: str,
    now: datetime,
) -> list[Document]:
    """`conditions` with the one of type `kind` replaced; its lastTransitionTime moves
    only when its status flips, as `kubectl wait --for=condition` expects."""
    status = "True" if state else "False"
    previous = next((c for c in conditions if c.get("type") == kind), None)
    since = timestamp(now)
    if previous is not None and previous.get("status") == status:
        since = previous.get("lastTransitionTime", since)
    condition = {
        "type": kind, "status": status, "reason": reason,
        "message": message, "lastTransitionTime": since,
    }  # fmt: skip
    return [*(c for c in conditions if c.get("type") != kind), condition]


def condition_of(status: Mapping[str, Any], kind: str) -> Document | None:
    for condition in status.get("conditions") or []:
        if condition.get("type") == kind:
            return dict(condition)
    return None


def status_patch(stored: Mapping[str, Any], desired: Mapping[str, Any]) -> Document:
    """A JSON merge patch turning `stored` into `desired` at the top level; empty when
    nothing changed. Fields absent from `desired` are left alone (other writers, such as
    the ingest endpoint, may own them); a field set to None in `desired` is removed."""
    return {key: value for key, value in desired.items() if stored.get(key) != value}


def lifecycle_document(status: TuningTrialStatus) -> Document:
    """The fields of a trial's status that the lifecycle owns, as stored."""
    document = dump_resource(status)
    # Empty metrics and curve are left out: "none yet" is the same as absent, and writing
    # them would cost a write per trial for nothing.
    kept = {
        key: document[key] for key in LIFECYCLE_FIELDS if document.get(key) not in ({}, [], None)
    }
    return {**dict.fromkeys(CLEARED_FIELDS), **kept}


def experiment_status(
    stored: Mapping[str, Any], plan: Plan, now: datetime, spec: TuningExperimentSpec
) -> Document:
    """The experiment's status after a planning step (counts, best, Pareto front, phase,
    conditions)."""
    suspended = spec.suspend
    counts = _counts_after_launch(plan, queued=spec.trial.queue is not None)
    conditions = _waiting_condition(list(stored.get("conditions") or []), spec, counts, now)
    conditions = set_condition(
        conditions, "Suspended", suspended, reason="Suspended" if suspended else "Resumed",
        message="spec.suspend is true: no new trials, Jobs suspended" if suspended else "", now=now,
    )  # fmt: skip
    desired: Document = {
        "phase": "Running",
        "trials": counts,
        "best": _best(plan),
        "pareto": dump_resource(plan.pareto) if plan.pareto else None,
        "startTime": stored.get("startTime") or timestamp(now),
    }
    if plan.finish is not None:
        finish = plan.finish
        desired["phase"] = finish.phase
        desired["completionTime"] = stored.get("completionTime") or timestamp(now)
        conditions = set_condition(
            conditions, finish.phase, True, reason=finish.reason, message=finish.message, now=now
        )
    desired["conditions"] = conditions
    return desired


def _counts_after_launch(plan: Plan, *, queued: bool) -> Document:
    """Counts as they stand once the plan's new trials exist (the plan counts before);
    under Kueue a new trial waits (see `progress.waiting_phases`)."""
    counts = plan.counts.model_dump(mode="json", by_alias=True, exclude_none=True)
    counts["created"] += len(plan.create)
    counts["queued" if queued else "running"] += len(plan.create)
    return counts


def _waiting_condition(
    conditions: list[Document], spec: TuningExperimentSpec, counts: Document, now: datetime
) -> list[Document]:
    """Under Kueue, WaitingForQuota: True while some trial waits to run, so `kubectl wait`
    and dashboards can tell an experiment short of quota from one that is slow."""
    queue = spec.trial.queue
    if queue is None:
        return conditions
    waiting, running = counts["queued"], counts["running"]
    message = (
        f"{waiting} trials wait for admission to LocalQueue {queue.name}; {running} running"
        if waiting
        else ""
    )
    reason = "TrialsQueued" if waiting else "NoneQueued"
    return set_condition(
        conditions, "WaitingForQuota", bool(waiting), reason=reason, message=message, now=now
    )


def _best(plan: Plan) -> Document | None:
    best = plan.best
    if best is None or best.value is None:
        return None
    return {"trial": best.name, "value": best.value, "parameters": dict(best.params)}


def invalid_spec_status(stored: Mapping[str, Any], message: str, now: datetime) -> Document:
    """An experiment the operator cannot run: Failed, with the field named in the message."""
    conditions = set_condition(
        list(stored.get("conditions") or []), "Failed", True,
        reason="InvalidSpec", message=message, now=now,
    )  # fmt: skip
    completion = stored.get("completionTime") or timestamp(now)
    return {"phase": "Failed", "conditions": conditions, "completionTime": completion}


def refused_spec_conditions(
    stored: Mapping[str, Any], refused: tuple[str, ...], now: datetime
) -> list[Document]:
    """The SpecAccepted condition: False while an edit of an immutable field is ignored."""
    conditions = list(stored.get("conditions") or [])
    if not refused and condition_of(stored, "SpecAccepted") is None:
        return conditions
    message = (
        "changes to " + ", ".join(refused) + " are ignored while the experiment runs; "
        f"only {', '.join(EDITABLE_FIELDS)} may change"
    )
    if not refused:
        return set_condition(
            conditions, "SpecAccepted", True, reason="Accepted", message="", now=now
        )
    return set_condition(
        conditions, "SpecAccepted", False, reason="ImmutableFieldChanged", message=message, now=now
    )
