"""The decision of one reconcile pass: from what the pass observed to the writes it makes.

Pure (no API, no clock: `now` is an argument), so the whole pass is a function from a
`Snapshot` to a list of `actions`, and the reconcile package only observes and applies.
The order of the list is the order of the writes:

1. the accepted spec is recorded on the first pass (see `spec_changes`);
2. every active trial's status follows its Job and Pods (a trial whose Job was never
   made gets it now);
3. the plan (`plan.plan_next`, shared with local mode) stops trials, then launches new
   ones: their TuningTrials, then for each its Job and then `status.jobName`, and one
   `TrialLaunched` Event naming them all (an Event is best effort: a pass that ends
   early loses it, never a trial). Before the very first trial the Job is dry-run, so a
   template the API server refuses fails the experiment at once (`refusal_actions`)
   instead of failing every pass;
4. the experiment's status, only the fields that changed, and the Event of its end.

New trials get indices above every index ever used (`status.trials.created` is that
high-water mark), so a trial deleted by hand is never re-created under its name with
other parameters: it is forgotten, and its place in the budget goes to a new trial.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from itertools import accumulate
from typing import Any

from kubetune.api import (
    TERMINAL_PHASES,
    SpecError,
    TuningExperiment,
    dump_resource,
    parse_experiment,
    parse_trial,
)
from kubetune.api.workload import JOB
from kubetune.planning.actions import (
    Action,
    CreateJob,
    CreateTrial,
    EmitEvent,
    PatchExperimentStatus,
    PatchTrialStatus,
    StoreAcceptedSpec,
    SuspendJob,
    ValidateJob,
)
from kubetune.planning.admission import UNADMITTABLE
from kubetune.planning.history import FinishedSummaries, History, SettledTrials
from kubetune.planning.jobs import build_trial_resource, queued
from kubetune.planning.placeholders import PlaceholderError, check_template
from kubetune.planning.plan import Plan, plan_next
from kubetune.planning.printed_metrics import PrintedLog, printed_reports
from kubetune.planning.progress import Finish
from kubetune.planning.records import TrialRecord, record_of, trial_name
from kubetune.planning.refusals import Refusal, describe_refusal
from kubetune.planning.settle import (
    ACTIVE_PHASES,
    DEFAULT_FINISHED_JOB_TTL_SECONDS,
    release_settled,
    settle_trial,
    stop_trial,
)
from kubetune.planning.spec_changes import accepted_part, decide_spec, digest_of, encode_spec
from kubetune.planning.status import (
    experiment_status,
    invalid_spec_status,
    refused_spec_conditions,
    set_condition,
    status_patch,
    timestamp,
)
from kubetune.planning.suggest import NewTrial
from kubetune.planning.workload_support import DEFAULT_SUPPORT, WorkloadSupport, workload_problem

Document = dict[str, Any]
PROVISIONAL_UID = "kubetune-dry-run"  # the owner uid of a Job that is only validated
INVALID_TEMPLATE = "InvalidTrialTemplate"
LAUNCH_MESSAGE_CHARS = 1000  # Events are read in `kubectl describe`, and cut at 1024
_FINISHED = FinishedSummaries()  # each experiment's settled trials, folded once each


@dataclass(frozen=True)
class Snapshot:
    """What a pass observed: the experiment; the trials it owns, the `settled` ones (as the
    trial cache keeps them, see `history`) apart from the others (by index); their Jobs
    and Pods (by trial name); and the accepted spec's immutable part (JSON; None before
    the first pass). `accepted_recorded`: that part is stored and its digest annotated."""

    experiment: Document
    trials: tuple[Document, ...] = ()
    jobs: Mapping[str, Document] = field(default_factory=dict)
    pods: Mapping[str, Sequence[Document]] = field(default_factory=dict)
    accepted_spec: str | None = None
    accepted_recorded: bool = False
    # What the trainers of just-finished trials printed (their logs), by trial name; read
    # into reports by the pass, which knows the experiment's line formats.
    printed: Mapping[str, PrintedLog] = field(default_factory=dict)
    settled: SettledTrials = field(default_factory=SettledTrials)
    # Kueue's Workloads of queued trials' Jobs, by trial name (see `admission`).
    workloads: Mapping[str, Document] = field(default_factory=dict)
    # The trial workload kinds the operator allows and the cluster serves.
    workload_support: WorkloadSupport = DEFAULT_SUPPORT
    # A JobSet trial's own Jobs, by trial name: one past its deadline is a TrialTimeout.
    children: Mapping[str, Sequence[Document]] = field(default_factory=dict)

    @property
    def status(self) -> Document:
        return dict(self.experiment.get("status") or {})

    @property
    def name(self) -> str:
        return str(self.experiment["metadata"]["name"])

    @property
    def finished(self) -> bool:
        return self.status.get("phase") in TERMINAL_PHASES

    @property
    def workload(self) -> dict[str, Any]:
        """The stored `spec.trial.workload`, as written (empty for a Job experiment)."""
        trial = (self.experiment.get("spec") or {}).get("trial") or {}
        return dict(trial.get("workload") or {})

    @property
    def workload_kind(self) -> str:
        """The kind of the trials' workloads (`jobs` holds them): Job, or JobSet."""
        return str(self.workload.get("kind", JOB))


@dataclass(frozen=True)
class PassDecision:
    """The writes, in order, and what they were decided from (for building Jobs)."""

    actions: tuple[Action, ...]
    experiment: TuningExperiment | None = None
    plan: Plan | None = None


def decide_pass(
    snapshot: Snapshot,
    now: datetime,
    finished_job_ttl: int | None = DEFAULT_FINISHED_JOB_TTL_SECONDS,
) -> PassDecision:
    """Everything one pass writes, given what it observed. `finished_job_ttl`: seconds a
    settled trial's finished Job is kept (None: for ever)."""
    if snapshot.finished:
        return PassDecision(())
    spec = decide_spec(snapshot.experiment.get("spec") or {}, snapshot.accepted_spec)
    try:
        experiment = _runnable(snapshot.experiment, spec.effective, snapshot.workload_support)
    except (SpecError, PlaceholderError) as error:
        return PassDecision(invalid_spec_actions(snapshot, str(error), now))
    settled, trials = _settle_all(snapshot, experiment, now)
    history = _history(snapshot, experiment, trials)
    halt = _unadmittable(trials)
    plan = plan_next(snapshot.name, experiment.spec, history, _age(snapshot, now), halt)
    launched, created = _launches(
        snapshot, experiment, plan, trials, now, next_index=history.next_index
    )
    releases = release_settled(trials, dict(snapshot.jobs), dict(snapshot.pods), finished_job_ttl)
    actions = [*_accept(snapshot), *settled, *releases, *_stops(plan, trials, now), *launched]
    actions += _record(snapshot, experiment, plan, spec.refused, created=created, now=now)
    return PassDecision(tuple(actions), experiment, plan)


def _runnable(
    document: Document, spec: Mapping[str, Any], support: WorkloadSupport
) -> TuningExperiment:
    experiment = parse_experiment({**document, "spec": dict(spec), "status": {}})
    if problem := workload_problem(experiment.spec.trial.workload, support):
        raise SpecError([problem])
    names = [parameter.name for parameter in experiment.spec.parameters]
    check_template(experiment.spec.trial.template, names)
    return experiment


def _accept(snapshot: Snapshot) -> list[Action]:
    """Record the accepted spec once (a legacy full-spec annotation is replaced too)."""
    if snapshot.accepted_recorded:
        return []
    encoded = snapshot.accepted_spec or encode_spec(accepted_part(snapshot.experiment["spec"]))
    return [StoreAcceptedSpec(encoded, digest_of(encoded))]


def _settle_all(
    snapshot: Snapshot, experiment: TuningExperiment, now: datetime
) -> tuple[list[Action], list[Document]]:
    """Bring every active trial's status in line with its workload."""
    actions: list[Action] = []
    trials: list[Document] = []
    for stored in snapshot.trials:
        trial = stored
        if (stored.get("status") or {}).get("phase", "Pending") in ACTIVE_PHASES:
            name = stored["metadata"]["name"]
            found, pods = snapshot.jobs.get(name), snapshot.pods.get(name, ())
            log = snapshot.printed.get(name)
            printed = printed_reports(log, experiment.spec) if log else ()
            trial_actions, trial = settle_trial(
                experiment, stored, found, pods, now,
                printed=printed, workload=snapshot.workloads.get(name),
                children=snapshot.children.get(name, ()),
            )  # fmt: skip
            actions += trial_actions
        trials.append(trial)
    return actions, trials


def _unadmittable(trials: Sequence[Document]) -> Finish | None:
    """The end of an experiment whose trial Kueue can never admit: every trial asks for
    the same resources, so the next one would wait for ever too."""
    for trial in trials:
        status = trial.get("status") or {}
        if status.get("phase") == "Failed" and status.get("reason") in UNADMITTABLE:
            message = f"{trial['metadata']['name']} can never be admitted: {status.get('message')}"
            return Finish(str(status["reason"]), message, succeeded=False)
    return None


def _history(
    snapshot: Snapshot, experiment: TuningExperiment, trials: Sequence[Document]
) -> History:
    """The settled trials' summary (folded forward from the last pass) and the others."""
    criteria = experiment.spec.criteria

    def record(trial: Document) -> TrialRecord:
        return record_of(parse_trial(trial), criteria)

    uid = str(snapshot.experiment["metadata"].get("uid", ""))
    finished = _FINISHED.summary(uid, criteria, snapshot.settled, record)
    return History(tuple(record(trial) for trial in trials), finished)


def _age(snapshot: Snapshot, now: datetime) -> timedelta:
    started = snapshot.status.get("startTime")
    return now - datetime.fromisoformat(started) if started else timedelta(0)


def _stops(plan: Plan, trials: Sequence[Document], now: datetime) -> list[Action]:
    """Stops come before launches: they free the slots the new trials take."""
    by_name = {trial["metadata"]["name"]: trial for trial in trials}
    return [action for stop in plan.stop for action in stop_trial(stop, by_name[stop.trial], now)]


def _launches(
    snapshot: Snapshot,
    experiment: TuningExperiment,
    plan: Plan,
    trials: Sequence[Document],
    now: datetime,
    *,
    next_index: int,
) -> tuple[list[Action], int]:
    """Suspend or resume Jobs and launch the plan's trials; also the high-water mark of
    indices once they exist."""
    first = max(_created_mark(snapshot), next_index)
    if plan.finish is not None:
        return [], first
    # Kueue owns a queued Job's `suspend` (it resumes the Job on admission, suspends it on
    # preemption): the operator writing it too would start Jobs past the quota.
    actions = [] if queued(experiment) else _suspensions(snapshot, trials, experiment.spec.suspend)
    new = [_renumbered(snapshot.name, trial, first + i) for i, trial in enumerate(plan.create)]
    # The effective spec's objective (not a refused edit's): the ingest records by it.
    document = {**snapshot.experiment, "spec": dump_resource(experiment)["spec"]}
    resources = [build_trial_resource(document, t.index, t.name, t.params) for t in new]
    if resources and first == 0:
        actions.append(ValidateJob(_provisional(resources[0])))
    # Every trial first, in index order: a pass cut short leaves a prefix of them, never a
    # gap. Then each trial's Job, which `reconcile` may create concurrently. The Job's name
    # reaches the trial's status with its first phase (see `settle.settle_trial`).
    actions += [CreateTrial(resource) for resource in resources]
    actions += [CreateJob(trial.name) for trial in new]
    if new:
        actions.append(_launched_event(new))
    return actions, first + len(new)


def _launched_event(new: Sequence[NewTrial]) -> EmitEvent:
    """One Event per pass, not per trial (each is an API write): every trial with its
    parameters while they fit, then how many more up to which trial."""
    described = [f"{trial.name}: {trial.params}" for trial in new]
    shown = _how_many_fit(described, LAUNCH_MESSAGE_CHARS - 60)  # room for the tail
    message = "; ".join(described[:shown])
    if shown < len(new):
        message += f"; and {len(new) - shown} more, up to {new[-1].name}"
    return EmitEvent("TrialLaunched", message)


def _how_many_fit(texts: Sequence[str], limit: int) -> int:
    """How many of `texts`, joined by "; ", fit in `limit`; at least one (the Event cuts
    a single long one itself)."""
    totals = accumulate(len(text) + 2 for text in texts)
    return max(1, sum(1 for total in totals if total <= limit))


def _created_mark(snapshot: Snapshot) -> int:
    return int((snapshot.status.get("trials") or {}).get("created") or 0)


def _renumbered(experiment: str, trial: NewTrial, index: int) -> NewTrial:
    return replace(trial, index=index, name=trial_name(experiment, index))


def _provisional(resource: Document) -> Document:
    """The trial resource as if stored, so its Job can be built for a dry run."""
    metadata = {**resource["metadata"], "uid": PROVISIONAL_UID}
    return {**resource, "metadata": metadata}


def _suspensions(snapshot: Snapshot, trials: Sequence[Document], suspended: bool) -> list[Action]:
    """`spec.suspend` on the Job of every active trial (Kubernetes stops its Pods)."""
    actions: list[Action] = []
    for trial in trials:
        job = snapshot.jobs.get(trial["metadata"]["name"])
        active = (trial.get("status") or {}).get("phase", "Pending") in ACTIVE_PHASES
        if job is not None and active and bool(job["spec"].get("suspend")) != suspended:
            actions.append(SuspendJob(job["metadata"]["name"], suspended))
    return actions


def _record(
    snapshot: Snapshot,
    experiment: TuningExperiment,
    plan: Plan,
    refused: tuple[str, ...],
    *,
    created: int,
    now: datetime,
) -> list[Action]:
    stored = snapshot.status
    conditions = refused_spec_conditions(stored, refused, now)
    desired = experiment_status({**stored, "conditions": conditions}, plan, now, experiment.spec)
    desired["trials"] = {**desired["trials"], "created": max(desired["trials"]["created"], created)}
    patch = status_patch(stored, desired)
    actions: list[Action] = [PatchExperimentStatus(patch)] if patch else []
    if plan.finish is not None:
        finish = plan.finish
        message = f"{finish.reason}: {finish.message}"
        actions.append(EmitEvent(f"Experiment{finish.phase}", message, not finish.succeeded))
    return actions


def invalid_spec_actions(snapshot: Snapshot, message: str, now: datetime) -> tuple[Action, ...]:
    """A spec the operator cannot run: Failed, condition Failed/InvalidSpec, an Event."""
    patch = status_patch(snapshot.status, invalid_spec_status(snapshot.status, message, now))
    return (PatchExperimentStatus(patch), EmitEvent("InvalidSpec", message, warning=True))


def refusal_actions(
    snapshot: Snapshot,
    refusal: Refusal,
    gpu_resource: str,
    trial: str | None,
    now: datetime,
) -> tuple[Action, ...]:
    """The API server refused a trial's Job (or the trial): the template cannot run, and
    retrying cannot change that. Failed, condition Failed/InvalidTrialTemplate naming the
    field, a Warning Event; the trial whose Job was refused (if created) fails too."""
    message = describe_refusal(refusal, gpu_resource)
    stored = snapshot.status
    conditions = set_condition(
        list(stored.get("conditions") or []), "Failed", True,
        reason=INVALID_TEMPLATE, message=message, now=now,
    )  # fmt: skip
    completion = stored.get("completionTime") or timestamp(now)
    desired = {"phase": "Failed", "conditions": conditions, "completionTime": completion}
    actions: list[Action] = [PatchExperimentStatus(status_patch(stored, desired))]
    if trial is not None:
        failed = {"phase": "Failed", "reason": INVALID_TEMPLATE, "message": message,
                  "completionTime": timestamp(now)}  # fmt: skip
        actions.append(PatchTrialStatus(trial, failed))
    return (*actions, EmitEvent(INVALID_TEMPLATE, message, warning=True))
