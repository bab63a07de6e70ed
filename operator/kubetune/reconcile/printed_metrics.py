"""Collect what a finished trainer printed, before the pass settles its trial.

The reconcile pass calls `collect_printed_metrics` for each active trial just before
`trials.refresh_trial`: once the trial's pod has finished, the trainer's log is read
through the API server (`k8s.logs`), its metric lines are recorded on the trial's status
the way the ingest records the sidecar's reports, and the trial document is updated in
place, so the settling that follows sees the printed objective. Why this design, and why
only at the end of a trial, is in `planning.printed_metrics`.

Safe to repeat: after a crash between this write and the settling, the next pass reads
the log again and finds nothing new to write. A log that cannot be read leaves the trial
to be settled with what the sidecar and the termination message delivered.
"""

from __future__ import annotations

from typing import Any

from kubetune.api import TuningExperiment, parse_trial
from kubetune.k8s import custom
from kubetune.k8s.logs import LogBounds, read_container_log
from kubetune.k8s.rest import Kube
from kubetune.planning.jobs import trainer_name
from kubetune.planning.printed_metrics import (
    LOG_LIMIT_BYTES,
    LOG_READ_TIMEOUT_S,
    LOG_TAIL_LINES,
    pod_to_read,
    printed_metrics_patch,
    reports_in_log,
)
from kubetune.reconcile.observe import Observed
from kubetune.reporting.protocol import MetricReport

Document = dict[str, Any]
BOUNDS = LogBounds(LOG_TAIL_LINES, LOG_LIMIT_BYTES, LOG_READ_TIMEOUT_S)


def collect_printed_metrics(
    kube: Kube, observed: Observed, experiment: TuningExperiment, trial: Document
) -> None:
    """Record the printed metrics of an active trial whose pod has just finished."""
    name, status = trial["metadata"]["name"], trial.get("status") or {}
    trainer, objective = trainer_name(experiment), experiment.spec.objective.metric
    job, pods = observed.jobs.get(name), observed.pods.get(name, [])
    pod = pod_to_read(job, pods, objective, trainer, status.get("metrics") or {})
    reports = [] if pod is None else _printed_reports(kube, observed.namespace, pod, trainer)
    patch = printed_metrics_patch(parse_trial(trial).status, reports) if reports else None
    if patch is not None:
        custom.patch_trial_status(kube, observed.namespace, name, patch)
        trial["status"] = {**status, **patch}


def _printed_reports(kube: Kube, namespace: str, pod: str, trainer: str) -> list[MetricReport]:
    """The metric lines in the trainer's log; none when the log cannot be read."""
    log = read_container_log(kube, namespace, pod, trainer, BOUNDS)
    return [] if log is None else reports_in_log(log.text, log.truncated)
