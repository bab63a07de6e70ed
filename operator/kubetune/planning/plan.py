"""One planning step of an experiment: the single pure entry point the operator's
reconcile loop and the local runner both call.

``plan_next(experiment, spec, history, elapsed)`` says what to do now: which trials to
stop (early stopping, or all active ones when the search is over), which new trials to
create, and whether and why the experiment finishes. Acting on the plan (Jobs or
subprocesses) and recording the results is the caller's job; calling again with the
updated trials gives the next step.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import timedelta

from kubetune.api import ParetoFront, TrialCounts, TuningExperimentSpec
from kubetune.planning.history import History
from kubetune.planning.lifecycle import TrialReason
from kubetune.planning.progress import (
    Finish,
    TrialStop,
    best_trial,
    count_trials,
    early_stops,
    finish_reason,
    launch_count,
    pareto_status,
    step_size,
)
from kubetune.planning.records import TrialRecord
from kubetune.planning.suggest import NewTrial, suggest_trials


@dataclass(frozen=True)
class Plan:
    stop: tuple[TrialStop, ...]
    create: tuple[NewTrial, ...]
    finish: Finish | None
    counts: TrialCounts
    best: TrialRecord | None
    pareto: ParetoFront | None = None

    @property
    def full_step(self) -> bool:
        """Whether the step launched as many trials as a step may: more may be waiting
        for a slot that is already free, and the next step should come at once."""
        return bool(self.create) and len(self.create) >= step_size(self.counts)


def plan_next(
    experiment: str,
    spec: TuningExperimentSpec,
    history: History,
    elapsed: timedelta,
    halt: Finish | None = None,
) -> Plan:
    """Decide the next step. Trials stopped early free their slots for new trials in the
    same step, and their values already inform the new suggestions. `halt`: an end the
    runtime found, that no trial record shows (Kueue can never admit a trial)."""
    finish = halt or finish_reason(spec, history, elapsed)
    if finish is not None:
        return _finishing(spec, history, finish)
    stops = tuple(early_stops(spec, history))
    after_stops = _with_stopped(history, {stop.trial for stop in stops})
    suggested = suggest_trials(experiment, spec, after_stops, launch_count(spec, after_stops))
    if suggested.exhausted and not suggested.trials:
        finish = finish_reason(spec, after_stops, elapsed, space_exhausted=True)
    counts = count_trials(after_stops, spec)
    best, pareto = best_trial(spec, after_stops), pareto_status(spec, after_stops)
    return Plan(stops, suggested.trials, finish, counts, best, pareto)


def _finishing(spec: TuningExperimentSpec, history: History, finish: Finish) -> Plan:
    message = f"the experiment finished: {finish.reason}"
    stops = tuple(
        TrialStop(record.name, TrialReason.EXPERIMENT_FINISHED, message)
        for record in history.active
    )
    # Counted as they will stand: a finished experiment gets no later pass to recount.
    counts = count_trials(_with_stopped(history, {stop.trial for stop in stops}), spec)
    return Plan(stops, (), finish, counts, best_trial(spec, history), pareto_status(spec, history))


def _with_stopped(history: History, stopped: set[str]) -> History:
    """Stopped trials are active ones, so they are among the recent records."""
    return history.with_recent(
        [
            dataclasses.replace(record, phase="EarlyStopped") if record.name in stopped else record
            for record in history.recent
        ]
    )
