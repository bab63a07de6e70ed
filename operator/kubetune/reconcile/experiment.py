"""One reconcile pass of one experiment: observe, plan, act, record.

Runs in a worker thread (the Kubernetes client and the suggesters block), under the
experiment's lock (see `serialize`). Restart-safe because it keeps nothing between passes:
trial outcomes are read from Jobs and Pods, the plan is a pure function of the trials, and
every action tolerates having been half done by a pass that was killed.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from kubetune.api import SpecError, TuningExperiment, parse_experiment, parse_trial
from kubetune.k8s import custom, events
from kubetune.k8s.rest import Kube
from kubetune.planning.placeholders import PlaceholderError, check_template
from kubetune.planning.plan import Plan, plan_next
from kubetune.planning.records import record_of
from kubetune.planning.spec_changes import ACCEPTED_SPEC_ANNOTATION, decide_spec
from kubetune.planning.status import (
    experiment_status,
    invalid_spec_status,
    refused_spec_conditions,
    status_patch,
)
from kubetune.reconcile import metrics, trials
from kubetune.reconcile.observe import Observed, observe_experiment, observe_trials
from kubetune.reconcile.printed_metrics import collect_printed_metrics

TERMINAL_PHASES = ("Succeeded", "Failed", "Stopped")


class InvalidSpecError(Exception):
    """The experiment cannot run as written; the message names the field."""


@metrics.RECONCILE_SECONDS.time()
def reconcile_experiment(kube: Kube, namespace: str, name: str) -> None:
    """Bring one experiment one step closer to done. Raises InvalidSpecError once the
    experiment is marked Failed for a spec that cannot run."""
    now = datetime.now(UTC)
    observed = observe_experiment(kube, namespace, name)
    metrics.record_experiment(namespace, name, None if observed is None else observed.status)
    if observed is None or observed.status.get("phase") in TERMINAL_PHASES:
        return
    experiment, refused = _accepted_experiment(kube, observed, now)
    observe_trials(kube, observed)
    for trial in observed.trials:
        if (trial.get("status") or {}).get("phase", "Pending") in trials.ACTIVE:
            # Print-only trainers: their log's metric lines, before the trial is settled.
            collect_printed_metrics(kube, observed, experiment, trial)
            trials.refresh_trial(kube, observed, experiment, trial, now)
    plan = _plan(observed, experiment, now)
    _act(kube, observed, experiment, plan, now)
    _record(kube, observed, experiment, plan, refused=refused, now=now)


def _act(
    kube: Kube, observed: Observed, experiment: TuningExperiment, plan: Plan, now: datetime
) -> None:
    """Stops first: they free the slots that the new trials take."""
    for stop in plan.stop:
        trials.stop_trial(kube, observed, stop, now)
    if plan.finish is None:
        trials.set_suspended(kube, observed, experiment.spec.suspend)
        for new in plan.create:
            trials.launch_trial(kube, observed, experiment, new, now)


def _record(
    kube: Kube,
    observed: Observed,
    experiment: TuningExperiment,
    plan: Plan,
    *,
    refused: tuple[str, ...],
    now: datetime,
) -> None:
    conditions = refused_spec_conditions(observed.status, refused, now)
    stored = {**observed.status, "conditions": conditions}
    _write_status(kube, observed, experiment_status(stored, plan, now, experiment.spec.suspend))
    finish = plan.finish
    if finish is not None:
        message = f"{finish.reason}: {finish.message}"
        reason = f"Experiment{finish.phase}"
        events.emit_event(kube, observed.experiment, reason, message, not finish.succeeded)


def _plan(observed: Observed, experiment: TuningExperiment, now: datetime) -> Plan:
    spec = experiment.spec
    records = [record_of(parse_trial(trial), spec.objective) for trial in observed.trials]
    started = observed.status.get("startTime")
    elapsed = now - datetime.fromisoformat(started) if started else timedelta(0)
    began = time.perf_counter()
    plan = plan_next(observed.name, spec, records, elapsed)
    metrics.planned(spec.algorithm.name, len(plan.create), time.perf_counter() - began)
    return plan


def _accepted_experiment(
    kube: Kube, observed: Observed, now: datetime
) -> tuple[TuningExperiment, tuple[str, ...]]:
    """The experiment to run (the last accepted spec plus allowed edits) and the refused
    fields; marks the experiment Failed and raises when the spec cannot run at all."""
    document = observed.experiment
    annotations = document["metadata"].get("annotations") or {}
    decision = decide_spec(document.get("spec") or {}, annotations.get(ACCEPTED_SPEC_ANNOTATION))
    try:
        experiment = parse_experiment({**document, "spec": decision.effective, "status": {}})
        names = [parameter.name for parameter in experiment.spec.parameters]
        check_template(experiment.spec.trial.template, names)
    except (SpecError, PlaceholderError) as error:
        _fail_invalid(kube, observed, str(error), now)
        raise InvalidSpecError(str(error)) from None
    if decision.annotation is not None:
        custom.patch_experiment_annotations(
            kube, observed.namespace, observed.name, {ACCEPTED_SPEC_ANNOTATION: decision.annotation}
        )
    return experiment, decision.refused


def _fail_invalid(kube: Kube, observed: Observed, message: str, now: datetime) -> None:
    _write_status(kube, observed, invalid_spec_status(observed.status, message, now))
    events.emit_event(kube, observed.experiment, "InvalidSpec", message, warning=True)


def _write_status(kube: Kube, observed: Observed, desired: dict[str, object]) -> None:
    patch = status_patch(observed.status, desired)
    if patch:
        custom.patch_experiment_status(kube, observed.namespace, observed.name, patch)
    metrics.record_experiment(observed.namespace, observed.name, {**observed.status, **desired})
