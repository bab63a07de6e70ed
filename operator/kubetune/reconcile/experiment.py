"""One reconcile pass of one experiment: observe, decide (pure), apply.

Runs in a worker thread (the Kubernetes client and the suggesters block), under the
experiment's lock (see `serialize`). `observe` reads, `planning.pass_decision` decides
the writes as a list of actions, and this module carries them out in order, each step's
writes side by side (`actions.steps`). Restart-safe because nothing is kept between
passes: every action tolerates having been half done by a pass that was killed.

Two answers of the API server end the list early. A refusal (400/422) of a trial or its
Job means the template cannot run: the experiment fails at once, naming the field, and
no later pass retries it. A name taken by another owner's object (an earlier experiment
of the same name, being garbage-collected) is waited out: the pass stops, and a later one
(the object's deletion triggers it) carries on.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from kubetune.k8s import custom, events, spec_store, workloads
from kubetune.k8s.custom import EXPERIMENTS
from kubetune.k8s.owned import ListedObjects, OwnedObjects
from kubetune.k8s.rest import Document, ForeignObjectError, Kube, RefusedError
from kubetune.planning import actions
from kubetune.planning.jobs import workload_kind
from kubetune.planning.pass_decision import PassDecision, Snapshot, decide_pass, refusal_actions
from kubetune.planning.spec_changes import ACCEPTED_SPEC_ANNOTATION, digest_of
from kubetune.reconcile import metrics, settings
from kubetune.reconcile.observe import observe
from kubetune.reconcile.side_by_side import side_by_side
from kubetune.reconcile.trials import StaleReadError, TrialWriter

logger = logging.getLogger(__name__)
# Seconds a settled trial's finished Job and Pods are kept; None: for ever.
FINISHED_JOB_TTL_SECONDS = settings.FINISHED_JOB_TTL_SECONDS.read()
TRIAL_WRITES = (actions.ValidateJob, actions.CreateTrial, actions.CreateJob)


@metrics.RECONCILE_SECONDS.time()
def reconcile_experiment(
    kube: Kube, namespace: str, name: str, owned: OwnedObjects | None = None
) -> bool:
    """Bring one experiment one step closer to done. `owned`: where its trials, Jobs
    and Pods are read from (the operator's watches; a fresh list by default). Whether
    the pass launched a full step, so more trials may be waiting to launch."""
    now = datetime.now(UTC)
    owned = owned or ListedObjects(kube)
    snapshot = observe(kube, owned, namespace, name, FINISHED_JOB_TTL_SECONDS)
    metrics.record_experiment(namespace, name, None if snapshot is None else snapshot.status)
    if snapshot is None:
        return False
    began = time.perf_counter()
    decision = decide_pass(snapshot, now, FINISHED_JOB_TTL_SECONDS)
    if decision.plan is not None and decision.experiment is not None:
        algorithm = decision.experiment.spec.algorithm.name
        metrics.planned(algorithm, len(decision.plan.create), time.perf_counter() - began)
    done = Applier(kube, snapshot, decision, now, owned).apply()
    return done and decision.plan is not None and decision.plan.full_step


class ActionRefusedError(Exception):
    """The API server refused `action` (400/422): which write it was decides the answer."""

    def __init__(self, action: actions.Action, error: RefusedError) -> None:
        super().__init__(str(error))
        self.action, self.error = action, error


class Applier:
    """Carries out one decision's actions, in order."""

    def __init__(
        self,
        kube: Kube,
        snapshot: Snapshot,
        decision: PassDecision,
        now: datetime,
        owned: OwnedObjects,
    ) -> None:
        self.kube, self.snapshot, self.decision, self.now = kube, snapshot, decision, now
        self.owned = owned
        self.metadata = snapshot.experiment["metadata"]
        experiment = decision.experiment
        self.trials = None if experiment is None else TrialWriter(kube, snapshot, experiment, owned)
        # The accepted spec's kind where the pass parsed one (a submitted edit of an
        # immutable field is refused), else the stored spec's.
        self.kind = snapshot.workload_kind if experiment is None else workload_kind(experiment)
        self.handlers = self._handlers()

    def apply(self) -> bool:
        """Whether every action was carried out."""
        for step in actions.steps(self.decision.actions):
            try:
                self.run_step(step)
            except ActionRefusedError as refused:
                if not isinstance(refused.action, TRIAL_WRITES):
                    raise refused.error from None
                self._refused(refused.action, refused.error)
                return False
            except ForeignObjectError as error:
                logger.info("%s waits for garbage collection: %s", self.metadata["name"], error)
                return False
            except StaleReadError as error:
                logger.debug("%s: trial %s changed during the pass", self.metadata["name"], error)
                return False
        return True

    def run_step(self, step: tuple[actions.Action, ...]) -> None:
        """The step's writes side by side; the first error, in order, is the step's."""
        side_by_side([functools.partial(self.run, action) for action in step])

    def run(self, action: actions.Action) -> None:
        try:
            self.handlers[type(action)](action)
        except RefusedError as error:
            raise ActionRefusedError(action, error) from None

    def _handlers(self) -> dict[type, Callable[[Any], None]]:
        trials = self.trials
        by_type: dict[type, Callable[[Any], None]] = {
            actions.StoreAcceptedSpec: self._store_accepted_spec,
            actions.DeleteJob: self._delete_job,
            actions.ExpireJob: self._expire_job,
            actions.SuspendJob: self._suspend_job,
            actions.PatchExperimentStatus: self._patch_status,
            actions.EmitEvent: self._emit,
        }
        if trials is not None:
            by_type |= {
                actions.CreateTrial: trials.create_trial, actions.CreateJob: trials.create_job,
                actions.ValidateJob: trials.validate_job,
                actions.PatchTrialStatus: trials.patch_status,
            }  # fmt: skip
        return by_type

    def _refused(self, action: actions.Action, error: RefusedError) -> None:
        """The API server refused a trial or its Job: fail the experiment, naming the field."""
        logger.warning("%s: trial template refused: %s", self.metadata["name"], error)
        experiment = self.decision.experiment
        gpu_resource = experiment.spec.trial.gpu_resource if experiment else ""
        trial = action.trial if isinstance(action, actions.CreateJob) else None
        for step in refusal_actions(self.snapshot, error.refusal, gpu_resource, trial, self.now):
            self.run(step)

    def _store_accepted_spec(self, action: actions.StoreAcceptedSpec) -> None:
        """The digest is recorded even when the spec does not fit a Secret (over 1 MiB
        once compressed): the experiment runs, only its immutable fields go unguarded."""
        try:
            stored = spec_store.store_accepted_spec(
                self.kube, self.snapshot.experiment, action.encoded
            )
        except RefusedError as error:
            logger.warning("%s: accepted spec not stored: %s", self.metadata["name"], error)
            stored = action.encoded
        annotations = {ACCEPTED_SPEC_ANNOTATION: digest_of(stored)}
        namespace, name = self.metadata["namespace"], self.metadata["name"]
        patched = custom.patch_experiment_annotations(self.kube, namespace, name, annotations)
        self.owned.wrote(EXPERIMENTS, namespace, patched)

    def _delete_job(self, action: actions.DeleteJob) -> None:
        kind = self.kind
        workloads.delete_job(self.kube, self.metadata["namespace"], action.name, kind)

    def _expire_job(self, action: actions.ExpireJob) -> None:
        namespace, kind = self.metadata["namespace"], self.kind
        patched = workloads.expire_job(self.kube, namespace, action.name, action.ttl_seconds, kind)
        self._wrote_job(patched)

    def _suspend_job(self, action: actions.SuspendJob) -> None:
        namespace, kind = self.metadata["namespace"], self.kind
        patched = workloads.set_job_suspended(
            self.kube, namespace, action.name, action.suspended, kind
        )
        self._wrote_job(patched)

    def _wrote_job(self, patched: Document | None) -> None:
        """The next pass reads the Job as written, even before the watch brings it: with
        trials of seconds a pass runs several times a second, and one that read the Job
        unchanged would send the same write again."""
        if patched is not None:
            plural = workloads.workload_plural(self.kind)
            self.owned.wrote(plural, self.metadata["namespace"], patched)

    def _patch_status(self, action: actions.PatchExperimentStatus) -> None:
        namespace, name = self.metadata["namespace"], self.metadata["name"]
        patched = custom.patch_experiment_status(self.kube, namespace, name, action.patch)
        self.owned.wrote(EXPERIMENTS, namespace, patched)
        metrics.record_experiment(namespace, name, {**self.snapshot.status, **action.patch})

    def _emit(self, action: actions.EmitEvent) -> None:
        events.emit_event(
            self.kube, self.snapshot.experiment, action.reason, action.message, action.warning
        )
