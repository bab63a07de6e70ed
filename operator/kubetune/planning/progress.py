"""Where an experiment stands: trial counts, the best trial, whether and why the search is
over, how many trials to launch now, and which running trials early stopping ends.

Every function is pure over (spec, trial records, elapsed time), so the operator after a
restart and the local runner after a resume reach the same decisions from the same
trials. Objective values are kept as reported; only the stopping rule sees them negated
(search code minimizes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from kubetune.api import (
    ParetoFront,
    TrialCounts,
    TuningExperimentSpec,
    parse_duration,
    stopping_settings,
)
from kubetune.planning import front
from kubetune.planning.history import History, curves_of, is_better
from kubetune.planning.lifecycle import TrialReason
from kubetune.planning.records import WAITING_PHASES, TrialRecord
from kubetune.search.stopping import make_stopping_rule

GOAL_REACHED = "GoalReached"
MAX_TRIALS_REACHED = "MaxTrialsReached"
SPACE_EXHAUSTED = "SearchSpaceExhausted"
MAX_DURATION_REACHED = "MaxDurationReached"
TOO_MANY_FAILED = "MaxFailedTrialsExceeded"


@dataclass(frozen=True)
class Finish:
    """Why the search is over. `succeeded` picks the experiment phase."""

    reason: str
    message: str
    succeeded: bool = True

    @property
    def phase(self) -> str:
        return "Succeeded" if self.succeeded else "Failed"


@dataclass(frozen=True)
class TrialStop:
    """A running trial the plan ends: early stopping, or the end of the experiment."""

    trial: str
    reason: TrialReason
    message: str


def waiting_phases(spec: TuningExperimentSpec) -> tuple[str, ...]:
    """The phases of a trial that waits to run. Under Kueue a Pending trial waits too: just
    created, or admitted with its pod not started yet."""
    return ("Pending", *WAITING_PHASES) if spec.trial.queue else WAITING_PHASES


def count_trials(history: History, spec: TuningExperimentSpec | None = None) -> TrialCounts:
    """`spec` tells queued trials from running ones (see `waiting_phases`)."""
    recent, finished = history.recent, history.finished
    waiting = waiting_phases(spec) if spec is not None else WAITING_PHASES

    def count(*phases: str) -> int:
        return sum(record.phase in phases for record in recent)

    succeeded = finished.succeeded + count("Succeeded")
    failed, stopped = finished.failed + count("Failed"), finished.stopped + count("EarlyStopped")
    return TrialCounts(
        created=len(finished.records) + len(recent),
        running=count(*(p for p in ("Pending", "Running") if p not in waiting)),
        queued=count(*waiting) if spec is not None and spec.trial.queue else None,
        succeeded=succeeded,
        failed=failed,
        stopped=stopped,
        finished=succeeded + failed + stopped,
    )


def best_trial(spec: TuningExperimentSpec, history: History) -> TrialRecord | None:
    """The feasible succeeded trial with the best (primary) objective; the earlier trial
    wins a tie (see `history.is_better`)."""
    best = history.finished.best
    for record in history.recent:
        best = record if is_better(spec.criteria, record, best) else best
    return best


def pareto_status(spec: TuningExperimentSpec, history: History) -> ParetoFront | None:
    """With several objectives, the Pareto front and its hypervolume (see `front`)."""
    criteria = spec.criteria
    if not criteria.several:
        return None
    contenders = front.pooled(criteria, history.finished.contenders, history.recent)
    return front.pareto_front(criteria, spec.reference_point, contenders, history.finished.worst)


def finish_reason(
    spec: TuningExperimentSpec,
    history: History,
    elapsed: timedelta,
    space_exhausted: bool = False,
) -> Finish | None:
    """Why the search ends now, or None. The order matters: a goal reached on the last
    trial is reported as the goal, not as the trial budget."""
    limits, counts = spec.limits, count_trials(history, spec)
    best = best_trial(spec, history)
    if counts.failed > limits.max_failed_trials:
        message = (
            f"{counts.failed} trials failed; limits.maxFailedTrials is {limits.max_failed_trials}"
        )
        return Finish(TOO_MANY_FAILED, message, succeeded=False)
    if best is not None and best.value is not None and spec.objective.is_reached(best.value):
        objective = spec.objective
        message = (
            f"{best.name} reached {objective.metric}={best.value:g} (target {objective.target})"
        )
        return Finish(GOAL_REACHED, message)
    spent = partial(_budget_spent, best=best, constrained=bool(spec.constraints))
    if limits.max_duration and elapsed >= parse_duration(limits.max_duration):
        return spent(MAX_DURATION_REACHED, f"limits.maxDuration {limits.max_duration} passed")
    if counts.active:
        return None
    if counts.created >= limits.max_trials:
        return spent(MAX_TRIALS_REACHED, f"all {limits.max_trials} trials finished")
    if space_exhausted:
        return spent(SPACE_EXHAUSTED, "every point of the search space was tried")
    return None


def _budget_spent(
    reason: str, message: str, *, best: TrialRecord | None, constrained: bool
) -> Finish:
    """A search that used its budget succeeded only if some (feasible) trial did."""
    if best is None:
        within = " within spec.constraints" if constrained else ""
        return Finish(reason, f"{message}; no trial succeeded{within}", succeeded=False)
    return Finish(reason, message)


# A step launches a few trials, and the next step (run at once by both runtimes) the
# next few. On a cluster each launch is API writes: a pass filling 20 slots held its
# thread for seconds while a hundred other experiments waited for their first Job. An
# experiment's very first step launches one trial, so that every new experiment gets its
# first Job after one short pass, however many were created together. Both runtimes
# step the same way, so they suggest the same trials.
LAUNCHES_PER_STEP = 5
FIRST_STEP_LAUNCHES = 1


def step_size(counts: TrialCounts) -> int:
    """The most trials one step launches."""
    return LAUNCHES_PER_STEP if counts.created else FIRST_STEP_LAUNCHES


def launch_count(spec: TuningExperimentSpec, history: History) -> int:
    """New trials to start now: free parallel slots, capped by the remaining budget and
    by the step's size."""
    if spec.suspend:
        return 0
    counts = count_trials(history, spec)
    free_slots = spec.limits.parallel_trials - counts.active
    remaining = spec.limits.max_trials - counts.created
    return max(0, min(free_slots, remaining, step_size(counts), _room_to_wait(spec, counts)))


def _room_to_wait(spec: TuningExperimentSpec, counts: TrialCounts) -> int:
    """Under Kueue, how many more trials may wait: new trials follow admissions, so the
    parallelism follows the quota. Unbounded without a queue."""
    queue = spec.trial.queue
    return (
        spec.limits.parallel_trials if queue is None else queue.max_waiting - (counts.queued or 0)
    )


def early_stops(spec: TuningExperimentSpec, history: History) -> list[TrialStop]:
    """Running trials the experiment's stopping rule ends now. Every other trial's curve,
    finished or not, is evidence for the rule."""
    rule_name, settings = stopping_settings(spec.early_stopping)
    rule = make_stopping_rule(rule_name, **settings)
    running = {record.name: record for record in history.recent if record.phase == "Running"}
    if rule is None or not running:
        return []
    recent = curves_of(spec.criteria, history.recent)
    judged = [curve for curve in recent if curve.trial in running]
    decisions = rule.stops(judged, history.finished.curves + recent)
    return [
        TrialStop(
            curve.trial,
            TrialReason.EARLY_STOPPED,
            _stop_message(rule_name, spec, running[curve.trial]),
        )
        for curve, stopped in zip(judged, decisions, strict=True)
        if stopped
    ]


def _stop_message(rule_name: str, spec: TuningExperimentSpec, record: TrialRecord) -> str:
    step, value, *_ = record.curve[-1]
    metric = spec.objective.metric
    return f"{rule_name} rule: {metric}={value:g} at step {step} is among the worst"
