"""Carrying out the pass's decisions about trials and their Jobs.

Every step is safe to repeat after a crash at any point: the trial is created before its
Job, both with deterministic names and creates that accept an object of the same owner
(409), and the Job's name is written to the trial's status only after the Job exists
(by the next pass, with the trial's first phase). So a trial without a recorded Job gets
its Job (again) on the next pass, and a trial whose recorded Job has vanished is failed
rather than silently re-run.
"""

from __future__ import annotations

from typing import Any

from kubetune.api import TuningExperiment, parse_trial
from kubetune.k8s import custom, workloads
from kubetune.k8s.custom import TRIALS
from kubetune.k8s.owned import OwnedObjects
from kubetune.k8s.rest import Kube, is_status
from kubetune.planning.actions import CreateJob, CreateTrial, PatchTrialStatus, ValidateJob
from kubetune.planning.jobs import build_trial_workload
from kubetune.planning.pass_decision import Snapshot
from kubetune.reconcile import metrics
from kubetune.reconcile.reporter_jobs import attach_reporter

Document = dict[str, Any]


class StaleReadError(Exception):
    """A trial changed after the pass read it (the ingest recorded a report): what the
    pass decided from that read must not be written. The change itself is a watch event
    that runs the next pass, which decides again on what is stored now."""


class TrialWriter:
    """The trial and Job writes of one pass; remembers the trials it created, whose Jobs
    follow them in the same pass."""

    def __init__(
        self, kube: Kube, snapshot: Snapshot, experiment: TuningExperiment, owned: OwnedObjects
    ) -> None:
        self.kube, self.snapshot, self.experiment, self.owned = kube, snapshot, experiment, owned
        self.namespace = experiment.metadata["namespace"]
        self.trials = {trial["metadata"]["name"]: trial for trial in snapshot.trials}

    def create_trial(self, action: CreateTrial) -> None:
        stored = custom.create_trial(self.kube, self.namespace, action.trial)
        self.trials[stored["metadata"]["name"]] = stored
        self.owned.wrote(TRIALS, self.namespace, stored)
        metrics.trial_created(self.namespace, self.snapshot.name)

    def create_job(self, action: CreateJob) -> None:
        job = self._job_of(self.trials[action.trial])
        stored = workloads.create_job(self.kube, self.namespace, job)
        self.owned.wrote(workloads.workload_plural(job["kind"]), self.namespace, stored)

    def validate_job(self, action: ValidateJob) -> None:
        """The Job exactly as it will be created (reporter included), dry-run."""
        workloads.dry_run_job(self.kube, self.namespace, self._job_of(action.trial))

    def patch_status(self, action: PatchTrialStatus) -> None:
        """A conditional write that meets a newer trial (409) raises StaleReadError."""
        try:
            stored = custom.patch_trial_status(
                self.kube, self.namespace, action.trial, action.patch, action.resource_version
            )
        except Exception as error:
            if action.resource_version is None or not is_status(error, 409):
                raise
            raise StaleReadError(action.trial) from None
        self.owned.wrote(TRIALS, self.namespace, stored)
        metrics.trial_status_written(self.namespace, self.snapshot.name, action.patch)

    def _job_of(self, trial: Document) -> Document:
        job = build_trial_workload(self.experiment, parse_trial(trial))
        return attach_reporter(self.kube, self.experiment, job)
