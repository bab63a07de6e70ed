"""What became of a trial, read from its Job (or JobSet) and Pods.

Pure: the handlers list the Job and Pods and hand them here. Kubernetes reports failures in
several places (Job conditions, container states, pod phases); this module folds them into
one phase with a reason a user can act on: OOMKilled, ImagePullBackOff, ExitCode (with the
code), TrialTimeout (the Job's DeadlineExceeded, named as local mode names it),
BackoffLimitExceeded. A Job that never starts because its image cannot be pulled would
wait forever, so that is a failure too.

A JobSet trial ends by its kind's CEL rules over the JobSet's status (`workload_rules`),
not by its first finished pod (one pod of many); a failure's reason is still read from
the containers (OOMKilled, exit code) of whichever pod failed, or from its own Jobs: one
that ran past its deadline makes the trial a TrialTimeout, as a Job trial's does (the
JobSet's own condition says only that a Job failed). Its final metrics come
from the reporting pod (`sidecar.designated_replica`).

Final metrics come from the trainer container's termination message (what it wrote to
/dev/termination-log): a JSON document ``{"metrics": {...}}`` or lines of the stdout
protocol ``kubetune metric a=1 b=2``. The lifecycle (`planning.lifecycle.conclude`) records
them over what the reporter sidecar sent, then judges the trial.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from kubetune.api.workload import BUILT_IN_KINDS, JOBSET, KindRules
from kubetune.planning.admission import waiting_outcome, waits_for_admission
from kubetune.planning.lifecycle import Outcome, TrialReason
from kubetune.planning.sidecar import replica_of
from kubetune.planning.workload_rules import Verdict, WorkloadRuleError, verdict
from kubetune.reporting.protocol import MetricReport, parse_json_line, parse_line

Document = Mapping[str, Any]
# Waiting reasons that never resolve by themselves: the Job would hang until its deadline.
STUCK_WAITING_REASONS = frozenset(
    {"ImagePullBackOff", "ErrImagePull", "InvalidImageName", "CreateContainerConfigError"}
)
DONE_CONDITIONS = ("Complete", "SuccessCriteriaMet")
FAILED_CONDITIONS = ("Failed", "FailureTarget")
JOBSET_ENDED_CONDITIONS = ("Completed", "Failed")
INVALID_RULE = "WorkloadRuleError"


def jobset_outcome(
    jobset: Document,
    pods: Sequence[Document],
    trainer: str,
    rules: KindRules | None = None,
    replica: str | None = None,
    *,
    workload: Document | None = None,
    children: Sequence[Document] = (),
) -> Outcome:
    """The outcome of a JobSet trial by `rules` (default: JobSet's built-in ones); its
    metrics from the pods of `replica` (the reporting pod's place); while Kueue holds it,
    what its `workload` says; why it failed, from its pods or its own Jobs (`children`)."""
    if waits_for_admission(jobset):
        return waiting_outcome(workload, JOBSET)
    try:
        decided = verdict(rules or BUILT_IN_KINDS[JOBSET], jobset.get("status") or {})
    except WorkloadRuleError as error:
        return Outcome("Failed", INVALID_RULE, str(error))
    if decided == Verdict.SUCCEEDED:
        return _succeeded([pod for pod in pods if replica_of(pod) == replica], trainer)
    if decided == Verdict.FAILED:
        expired = next((job for job in children if _timed_out(job)), None)
        if expired is not None:
            return _job_timeout(expired)
        return _failed(_condition(jobset, "Failed") or {}, pods, trainer)
    stuck = _stuck_container(pods)
    if stuck is not None:
        return Outcome("Failed", stuck[0], stuck[1])
    return Outcome("Running" if any(_phase(pod) == "Running" for pod in pods) else "Pending")


def trial_outcome(
    job: Document | None,
    pods: Sequence[Document],
    trainer: str,
    workload: Document | None = None,
    jobset: tuple[KindRules | None, str | None] = (None, None),
    *,
    children: Sequence[Document] = (),
) -> Outcome:
    """The outcome of one trial's Job and Pods (`trainer`: the trainer container's name;
    `workload`: the Kueue Workload of a queued Job, if any, see `admission`); of a
    JobSet, by `jobset`'s rules and reporting replica, with its own Jobs (`children`;
    see `jobset_outcome`)."""
    if job is None:
        return Outcome("Pending")
    if job.get("kind") == JOBSET:
        return jobset_outcome(job, pods, trainer, *jobset, workload=workload, children=children)
    if waits_for_admission(job) and not _finished_pod(pods):
        return waiting_outcome(workload)
    # A trial Job runs one pod to completion: its pod's success is the Job's, known a
    # moment before the Job controller (which batches pod updates) marks it Complete.
    if _condition(job, *DONE_CONDITIONS) or _finished_pod(pods):
        return _succeeded(pods, trainer)
    if _timed_out(job):
        return _job_timeout(job)
    failed = _condition(job, *FAILED_CONDITIONS)
    if failed is not None:
        return _failed(failed, pods, trainer)
    stuck = _stuck_container(pods)
    if stuck is not None:
        return Outcome("Failed", stuck[0], stuck[1])
    running = any(_phase(pod) == "Running" for pod in pods)
    return Outcome("Running" if running else "Pending")


def _timed_out(job: Document) -> bool:
    """The Job failed because it ran past its activeDeadlineSeconds."""
    return (_condition(job, *FAILED_CONDITIONS) or {}).get("reason") == "DeadlineExceeded"


def _job_timeout(job: Document) -> Outcome:
    return timeout_outcome((job.get("spec") or {}).get("activeDeadlineSeconds"))


def timeout_outcome(seconds: float | None) -> Outcome:
    """A trial that ran past `limits.trialTimeout`, in the same words in both runtimes
    (on a cluster the Job's `activeDeadlineSeconds` ends it, and Kubernetes says
    DeadlineExceeded)."""
    limit = "" if seconds is None else f" ({seconds:g} s)"
    return Outcome("Failed", TrialReason.TIMEOUT, f"ran longer than limits.trialTimeout{limit}")


def _finished_pod(pods: Sequence[Document]) -> bool:
    """A pod that succeeded as Kueue evicted its Job still counts (its result is in)."""
    return any(_phase(pod) == "Succeeded" for pod in pods)


def job_finished(job: Document) -> bool:
    """The Job controller has marked the Job done or failed (JobSet's: the JobSet)."""
    ended = JOBSET_ENDED_CONDITIONS if job.get("kind") == JOBSET else ()
    return _condition(job, *DONE_CONDITIONS, *FAILED_CONDITIONS, *ended) is not None


def _phase(pod: Document) -> str | None:
    phase = pod.get("status", {}).get("phase")
    return str(phase) if phase else None


def _condition(job: Document, *types: str) -> Document | None:
    for condition in job.get("status", {}).get("conditions") or []:
        if condition.get("type") in types and condition.get("status") == "True":
            return dict(condition)
    return None


def _succeeded(pods: Sequence[Document], trainer: str) -> Outcome:
    done = [pod for pod in pods if _phase(pod) == "Succeeded"]
    terminated = _terminated_state(_latest(done), trainer) if done else None
    message = (terminated or {}).get("message") or ""
    return Outcome("Succeeded", TrialReason.COMPLETED, metrics=parse_termination_message(message))


def _failed(condition: Document, pods: Sequence[Document], trainer: str) -> Outcome:
    """Prefer what the container says (OOMKilled, exit code) over the Job's summary."""
    job_reason = condition.get("reason") or "Failed"
    message = condition.get("message") or ""
    terminated = [_terminated_state(pod, trainer) for pod in pods]
    states = [state for state in terminated if state and state.get("exitCode", 0) != 0]
    if any(state.get("reason") == "OOMKilled" for state in states):
        return Outcome("Failed", TrialReason.OOM_KILLED, "the trainer ran out of memory")
    if not states:
        return Outcome("Failed", job_reason, message)
    code = states[-1].get("exitCode")
    return Outcome("Failed", TrialReason.EXIT_CODE, f"the trainer exited with code {code}")


def _stuck_container(pods: Sequence[Document]) -> tuple[str, str] | None:
    for pod in pods:
        for status in pod.get("status", {}).get("containerStatuses") or []:
            waiting = (status.get("state") or {}).get("waiting") or {}
            if waiting.get("reason") in STUCK_WAITING_REASONS:
                detail = waiting.get("message") or f"container {status.get('name')!r}"
                return waiting["reason"], detail
    return None


def _latest(pods: Sequence[Document]) -> Document:
    return max(pods, key=lambda pod: pod.get("metadata", {}).get("creationTimestamp") or "")


def _terminated_state(pod: Document, trainer: str) -> Document | None:
    """The trainer container's terminated state (the last one, should it have restarted)."""
    for status in pod.get("status", {}).get("containerStatuses") or []:
        if status.get("name") == trainer:
            state = (status.get("state") or {}).get("terminated")
            last: Document | None = (status.get("lastState") or {}).get("terminated")
            return dict(state) if state else last
    return None


def parse_termination_message(text: str) -> dict[str, float]:
    """Metrics from a termination message; unparsable text yields none (never raises)."""
    metrics: dict[str, float] = {}
    whole = _parse_whole_json(text)
    reports = [whole] if whole else [_parse_any_line(line) for line in text.splitlines()]
    for report in reports:
        if isinstance(report, MetricReport):
            metrics.update(report.metrics)
    return metrics


def _parse_whole_json(text: str) -> MetricReport | None:
    """A pretty-printed JSON document spans lines: read it as one line first."""
    try:
        compact = json.dumps(json.loads(text)) if text.strip().startswith("{") else ""
    except (ValueError, RecursionError):
        return None
    report = parse_json_line(compact) if compact else None
    return report if isinstance(report, MetricReport) else None


def _parse_any_line(line: str) -> object:
    return parse_json_line(line) if line.lstrip().startswith("{") else parse_line(line)
