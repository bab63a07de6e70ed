"""The embedded local mode: run a TuningExperiment on this machine, trials as child
processes, with the same planner (kubetune.planning) the operator uses in a cluster.

One loop: collect what the running trainers reported and whether they ended, ask the
planner what to do next, stop and start processes accordingly, persist. Every trial is
on disk before its process starts, so a killed runner resumes without losing or
duplicating a trial: a trial that was running is re-run under the same name and index.

Around that loop, the runner holds the directory's lock (lock.py), ends trainers that a
killed predecessor left (orphans.py), stops in order on a signal or a closed stdout
(interrupts.py), and says so in the status (conditions.py); `spec.suspend` ends a run
before it starts anything.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, TextIO

from kubetune.api import (
    TERMINAL_PHASES,
    TuningExperiment,
    TuningExperimentStatus,
    TuningTrial,
    dump_resource,
    parse_duration,
)
from kubetune.local import DEFAULT_ROOT
from kubetune.local.conditions import (
    mark_interrupted,
    without_runner_conditions,
)
from kubetune.local.console import Progress, open_console
from kubetune.local.errors import ExperimentSuspendedError, ResumeConflictError
from kubetune.local.gpus import GpuPool, detect_gpus
from kubetune.local.interrupts import StopRequest, signals_ask_to_stop
from kubetune.local.launch import start_trial
from kubetune.local.lock import RunnerLock
from kubetune.local.orphans import end_leftover_trainers
from kubetune.local.process import TrialProcess, stop_all
from kubetune.local.store import ExperimentStore
from kubetune.local.trials import end, mark_running, new_trial, now, record, reset_for_rerun
from kubetune.planning.history import History
from kubetune.planning.lifecycle import Outcome, TrialReason, exit_outcome, is_finished
from kubetune.planning.outcome import timeout_outcome
from kubetune.planning.plan import Plan, plan_next
from kubetune.planning.progress import Finish, TrialStop, count_trials
from kubetune.planning.records import record_of
from kubetune.planning.spec_changes import EDITABLE_FIELDS, refused_edits
from kubetune.planning.status import experiment_status
from kubetune.reporting.protocol import MetricReport, ParseError

STATUS_EVERY_SECONDS = 2.0


@dataclass(frozen=True)
class RunOptions:
    root: Path = Path(DEFAULT_ROOT)
    poll_seconds: float = 0.05
    out: TextIO = field(default_factory=lambda: sys.stdout)


class LocalRunner:
    def __init__(
        self, experiment: TuningExperiment, document: dict[str, Any], options: RunOptions
    ) -> None:
        self.name = str(experiment.metadata["name"])
        self.spec = experiment.spec
        self.document = document
        self.options = options
        self.store = ExperimentStore(options.root, self.name)
        self.console = open_console(
            options.out, self.spec.objective.metric, self.spec.limits.max_trials
        )
        self.gpus = GpuPool(detect_gpus())
        self.trials: dict[str, TuningTrial] = {}
        self.processes: dict[str, TrialProcess] = {}
        self.retries: Counter[str] = Counter()
        self.run_id = f"{os.getpid()}-{time.time_ns()}"
        self.start_time = time.monotonic()
        self.used_seconds = 0.0
        self.status = TuningExperimentStatus()
        self.saved_at = 0.0
        limit = self.spec.limits.trial_timeout
        self.trial_timeout = parse_duration(limit).total_seconds() if limit else None
        self.lock = RunnerLock(self.store.lock_path)
        self.stop_request = StopRequest()

    def open(self) -> None:
        """Start a new run, or resume the stored one of the same spec."""
        self.claim_directory()
        if self.store.exists():
            self.check_resumable(self.store.saved_document().get("spec") or {})
        self.store.save_document(self.document)
        self.status, self.used_seconds = self.store.load_status()
        self.clear_runner_conditions()
        for trial in self.store.load_trials():
            if trial.status.phase in ("Pending", "Running"):
                reset_for_rerun(trial)
                self.store.save_trial(trial)
            self.trials[str(trial.metadata["name"])] = trial
        if self.spec.trial.gpus > len(self.gpus.devices) > 0:
            have = len(self.gpus.devices)
            raise ValueError(f"spec.trial.gpus: {self.spec.trial.gpus} per trial, {have} here")

    def check_resumable(self, saved: dict[str, Any]) -> None:
        """A resume may change what the operator lets a running experiment change (the
        budget, suspend); any other edit would mix incomparable trials."""
        refused = refused_edits(saved, self.document.get("spec") or {})
        if refused:
            raise ResumeConflictError(
                f"{self.store.path} holds a run of {self.name!r} with other "
                f"{', '.join(refused)}; only {', '.join(EDITABLE_FIELDS)} may change "
                "between runs: delete that directory or rename the experiment to start over"
            )

    def run(self) -> Finish:
        with signals_ask_to_stop(self.stop_request):
            try:
                while True:
                    self.stop_if_asked()
                    plan = self.step()
                    if plan.finish is not None and not self.processes:
                        final = self.plan()  # counts and best after the last stops
                        self.save_status(final, force=True)
                        return final.finish or plan.finish
                    time.sleep(self.options.poll_seconds)
            finally:
                self.wind_down()

    def history(self) -> History:
        """Every trial as a recent record: a local run's trials are a few files."""
        return History(tuple(record_of(t, self.spec.criteria) for t in self.trials.values()))

    def plan(self) -> Plan:
        return plan_next(self.name, self.spec, self.history(), self.elapsed())

    def step(self) -> Plan:
        self.collect()
        plan = self.plan()
        for stop in plan.stop:
            self.stop_trial(stop)
        for planned in plan.create:
            trial = new_trial(self.name, planned, self.spec)
            self.trials[planned.name] = trial
            self.store.save_trial(trial)  # on disk before it runs: a resume finds it
        if plan.finish is None:
            self.start_pending()
        self.show_progress(plan)
        self.save_status(plan)
        return plan

    def show_progress(self, plan: Plan) -> None:
        """Counted after this step's starts: the plan counted before them."""
        running = [self.trials[name] for name in self.processes]
        run_seconds = self.elapsed().total_seconds()
        now = Progress(count_trials(self.history()), plan.best, running, run_seconds)
        self.console.progress(now)

    def elapsed(self) -> timedelta:
        return timedelta(seconds=self.used_seconds + time.monotonic() - self.start_time)

    def collect(self) -> None:
        for name, process in list(self.processes.items()):
            trial = self.trials[name]
            changed = self.ingest(trial, process.drain())
            code = process.poll()
            if is_finished(trial.status):  # its own report ended it (a diverged objective)
                self.end_process(name, None)
            elif code is not None:
                self.ingest(trial, process.drain())  # what arrived while it exited
                self.end_process(name, code)
            elif self.trial_timeout is not None and process.elapsed() > self.trial_timeout:
                self.end_process(name, None)
            elif changed:
                self.store.save_trial(trial)

    def ingest(self, trial: TuningTrial, arrived: list[MetricReport | ParseError]) -> bool:
        """Record what the trainer reported, as the operator's ingest endpoint would."""
        name = trial.metadata["name"]
        for error in (item for item in arrived if isinstance(item, ParseError)):
            self.console.say(f"{name}: ignored a metric line: {error.reason}")
        reports = [item for item in arrived if isinstance(item, MetricReport)]
        refused = record(trial, reports) if reports else None
        if refused is not None:
            self.console.say(f"{name}: reports not recorded: {refused.message}")
        return bool(reports)

    def end_process(self, name: str, code: int | None) -> None:
        """`code` None: the process is stopped (out of time, or its trial already ended)."""
        process = self.processes.pop(name)
        process.stop() if code is None else process.close()
        self.gpus.release(name)
        trial = self.trials[name]
        limit = self.spec.limits.trial_timeout
        seconds = None if limit is None else parse_duration(limit).total_seconds()
        outcome = (
            timeout_outcome(seconds)
            if code is None
            else exit_outcome(code, process.stderr_summary())
        )
        end(trial, outcome, self.spec.constraints)
        retryable = trial.status.reason == TrialReason.EXIT_CODE
        if retryable and self.retries[name] < self.spec.limits.trial_retries:
            self.retries[name] += 1
            self.console.say(f"{name}: {trial.status.message}; retry {self.retries[name]}")
            reset_for_rerun(trial)
        else:
            self.console.trial_done(trial)
        self.store.save_trial(trial)

    def stop_trial(self, stop: TrialStop) -> None:
        process = self.processes.pop(stop.trial, None)
        if process is not None:
            process.stop()
            self.gpus.release(stop.trial)
        trial = self.trials[stop.trial]
        end(trial, Outcome("EarlyStopped", stop.reason, stop.message))
        self.store.save_trial(trial)
        self.console.trial_done(trial)

    def start_pending(self) -> None:
        waiting = [t for t in self.trials.values() if t.status.phase == "Pending"]
        for trial in sorted(waiting, key=lambda t: t.spec.index):
            name = str(trial.metadata["name"])
            needed = self.spec.trial.gpus if self.gpus.devices else 0
            devices = self.gpus.take(name, needed)
            if devices is None:
                return  # wait for a GPU to free up; starting later trials first would starve it
            self.launch(trial, devices)

    def launch(self, trial: TuningTrial, devices: list[int]) -> None:
        name = str(trial.metadata["name"])
        visible = devices if self.gpus.devices else None
        try:
            process = start_trial(self.spec, trial, self.store.path, self.run_id, visible)
        except OSError as error:
            self.gpus.release(name)
            message = f"cannot start the trainer: {error}"
            end(trial, Outcome("Failed", TrialReason.START_ERROR, message))
            self.console.trial_done(trial)
        else:
            self.processes[name] = process
            mark_running(trial)
            self.console.trial_started(trial)
        self.store.save_trial(trial)

    def save_status(self, plan: Plan, force: bool = False) -> None:
        """Written when something changed, and every few seconds for the time used."""
        stored = dump_resource(self.status)
        desired = experiment_status(stored, plan, now(), self.spec)
        status = TuningExperimentStatus.model_validate({**stored, **desired})
        changed = dump_resource(status) != dump_resource(self.status)
        if force or changed or time.monotonic() - self.saved_at > STATUS_EVERY_SECONDS:
            self.store.save_status(status, self.elapsed().total_seconds())
            self.status, self.saved_at = status, time.monotonic()

    # Lock, signals, interruption and suspend: how a run starts and ends, apart from the
    # trial bookkeeping above.

    def claim_directory(self) -> None:
        """Refuse a second runner, then end the trainers a killed runner left behind (with
        the lock held, no live runner owns them)."""
        self.lock.acquire()
        ended = end_leftover_trainers(self.store.processes)
        if ended:
            self.console.say(f"ended trainers left running by an earlier run: {', '.join(ended)}")

    def clear_runner_conditions(self) -> None:
        """A new run drives the experiment again: not Interrupted, and Suspended only if
        it still is (refuse_if_suspended)."""
        self.status = without_runner_conditions(self.status)
        self.store.save_status(self.status, self.used_seconds)

    def refuse_if_suspended(self) -> None:
        """`spec.suspend` as on a cluster: no new trials, and nothing else to wait for
        locally, so the run records the Suspended condition and ends."""
        if not self.spec.suspend:
            return
        plan = self.plan()
        if plan.finish is not None:  # nothing left to suspend: run() reports the finish
            return
        self.save_status(plan, force=True)  # the shared status says Suspended, as on a cluster
        raise ExperimentSuspendedError(
            f"{self.name} is suspended (spec.suspend: true), so no trial was started; "
            "set spec.suspend to false and run the same command again to resume"
        )

    def stop_if_asked(self) -> None:
        """Between steps, the safe point: a signal or a closed stdout stops the run here."""
        if self.console.reader_gone:
            self.stop_request.ask(signal.SIGPIPE)
        self.stop_request.raise_if_asked()

    def wind_down(self) -> None:
        """However run() ends, no trainer outlives it and the store says where it stopped;
        trials that were running stay Running on disk, and a resume re-runs them."""
        self.stop_request.winding_down = True
        stop_all(list(self.processes.values()))
        self.processes.clear()
        if self.status.phase not in TERMINAL_PHASES:
            mark_interrupted(self.status, self.stop_request.cause())
        self.store.save_status(self.status, self.elapsed().total_seconds())

    def close(self) -> None:
        self.lock.release()


def run_experiment(
    experiment: TuningExperiment, document: dict[str, Any], options: RunOptions
) -> tuple[Finish, TuningExperimentStatus]:
    """Run (or resume) `experiment` to its end; prints progress and a summary."""
    runner = LocalRunner(experiment, document, options)
    try:
        runner.open()
        runner.refuse_if_suspended()
        finish = runner.run()
    finally:
        runner.console.close()
        runner.close()
    best_name = runner.status.best.trial if runner.status.best else None
    best = runner.trials.get(best_name) if best_name else None
    pareto = runner.status.pareto
    runner.console.summary(runner.name, finish, best, str(options.root), pareto)
    return finish, runner.status
