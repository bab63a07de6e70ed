"""What Kueue says about a trial's Job: waiting for admission, or never to be admitted.

Pure, over the Job and the Workload Kueue made for it (spec.trial.queue). Kueue admits a
Job by clearing its `spec.suspend`, and evicts it (preemption, a reclaimed loan) by
setting it again, so a queue-labelled Job that is suspended waits for quota. Why it waits
is on its Workload: the QuotaReserved condition's message, which Kueue's flavor assigner
writes. Two of its answers cannot change while the ClusterQueue stays as it is (a request
over the most the queue could ever lend or borrow, a resource no flavor offers), so
waiting would be for ever: the trial fails at once, naming Kueue's reason, and as every
trial asks the same the experiment ends too (`UNADMITTABLE`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubetune.api.workload import BUILT_IN_KINDS, JOB
from kubetune.planning.jobs import QUEUE_NAME_LABEL
from kubetune.planning.lifecycle import Outcome, TrialReason

Document = Mapping[str, Any]
# Phrases of Kueue's flavor assigner (sigs.k8s.io/kueue, pkg/scheduler/flavorassigner).
NEVER_FITS = "> maximum capacity"
NO_RESOURCE = "unavailable in ClusterQueue"
NO_FLAVOR = "doesn't match node affinity"
MAY_FIT_LATER = "insufficient unused quota"  # a flavor that fits once others finish
# Kueue makes a Workload for a queued Job (or JobSet) within a moment; while there is
# none, say where to look.
NO_WORKLOAD = (
    "no Kueue Workload for the {kind} yet: Kueue must be installed and manage {group}/{kind}"
)
UNADMITTABLE = frozenset({TrialReason.EXCEEDS_MAX_QUOTA, TrialReason.NO_MATCHING_FLAVOR})


def waits_for_admission(job: Document) -> bool:
    """A Job Kueue has not admitted (yet, or again after an eviction)."""
    labelled = QUEUE_NAME_LABEL in (job.get("metadata", {}).get("labels") or {})
    return labelled and bool(job.get("spec", {}).get("suspend"))


def waiting_outcome(workload: Document | None, kind: str = JOB) -> Outcome:
    """Queued, with Kueue's reason when its Workload gives one; Failed when that reason
    says the trial can never be admitted. `kind`: the trial's workload kind, which Kueue
    admits whole."""
    if workload is None:
        group = BUILT_IN_KINDS[kind].api_version.split("/")[0]
        message = NO_WORKLOAD.format(kind=kind, group=group)
        return Outcome("Queued", TrialReason.WAITING_FOR_QUOTA, message)
    message = _pending_message(workload)
    if MAY_FIT_LATER not in message:
        if NEVER_FITS in message:
            return Outcome("Failed", TrialReason.EXCEEDS_MAX_QUOTA, message)
        if NO_RESOURCE in message or NO_FLAVOR in message:
            return Outcome("Failed", TrialReason.NO_MATCHING_FLAVOR, message)
    return Outcome("Queued", TrialReason.WAITING_FOR_QUOTA, message or None)


def _pending_message(workload: Document) -> str:
    for condition in workload.get("status", {}).get("conditions") or []:
        if condition.get("type") == "QuotaReserved" and condition.get("status") == "False":
            return str(condition.get("message") or "")
    return ""
