"""Metrics a trainer printed, read back from its log once its pod has finished.

Why: the protocol promises that printing ``kubetune metric val_accuracy=0.9 step=3`` is
enough, and local mode reads the trainer's stdout. On a cluster the reporter sidecar
cannot see that stdout (separate containers, no shared process namespace, and the user's
command is never rewritten to tee it), so the operator reads the trainer container's log
through the API server instead, when the trial's pod has finished and before the trial
is settled. The trainer gets no credentials; the operator already may read its pods.

Why only then, not while the trial runs: one read per trial, at its end, costs one
bounded request per trial, whatever the scale (100 experiments of 20 parallel trials
finish a few trials a second at most). Following every running trainer's log would cost a
long-lived kubelet stream, or a poll, per running trial (2,000 at that scale) to gain live
early stopping for trainers that could get it anyway from the SDK or the metrics file,
which the sidecar delivers as they are written. So a print-only trainer gets its curve and
objective recorded, and is judged by the stopping rules as a finished trial; it is not
stopped early itself. docs/metrics.md says so.

Reports that also came through the sidecar are harmless: recording is idempotent per step
(`lifecycle.record_reports`), and the pod is only finished once the native sidecar has
exited, so its deliveries are all stored before the log is replayed over them. The
reports join the pass's snapshot (observe) and are recorded by the lifecycle in the same
write that settles the trial (decide), so a print-only trial costs no extra write.

The lines are read by a `LineReader` built from the experiment (`line_reader`), as local
mode reads its trainers' stdout and stderr, so a trainer's own line format
(spec.trial.metricsFormat) counts in both runtimes.

Pure: the reconcile pass hands in the trial's Job and Pods and the log's text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kubetune.api import TuningExperimentSpec
from kubetune.api.workload import JOBSET
from kubetune.planning.jobs import trainer_index
from kubetune.planning.outcome import trial_outcome
from kubetune.reporting.line_formats import LineReader
from kubetune.reporting.protocol import MetricReport

Document = Mapping[str, Any]
FINISHED_POD_PHASES = ("Succeeded", "Failed")
# The end of a log matters most (the final objective); 20,000 lines of up to 4 MiB hold
# every report of any usual trainer, and bound what one read costs the API server.
LOG_TAIL_LINES = 20_000
LOG_LIMIT_BYTES = 4 * 1024 * 1024
LOG_READ_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class PrintedLog:
    """A finished trainer's log as read, and whether the read's bounds cut it short."""

    text: str
    truncated: bool


def trainer_of(job: Document) -> str:
    """The trainer container's name, as the Job (or JobSet: every pod is the same) was
    built (reporter excluded)."""
    spec = job["spec"]
    if job.get("kind") == JOBSET:
        spec = spec["replicatedJobs"][0]["template"]["spec"]
    containers = spec["template"]["spec"]["containers"]
    return str(containers[trainer_index(containers)].get("name", ""))


def pod_to_read(job: Document | None, pods: Sequence[Document], trainer: str) -> str | None:
    """The pod whose trainer log to read now: the trial's last finished pod, once the
    trial's outcome is final (so a Job still retrying a failed pod is not read each
    pass). None when there is nothing to read yet, or the pod is already gone."""
    if not trial_outcome(job, pods, trainer).finished:
        return None
    finished = [pod for pod in pods if _phase(pod) in FINISHED_POD_PHASES]
    succeeded = [pod for pod in finished if _phase(pod) == "Succeeded"]
    candidates = succeeded or finished
    if not candidates:
        return None
    return str(max(candidates, key=_created)["metadata"]["name"])


def _phase(pod: Document) -> str | None:
    return (pod.get("status") or {}).get("phase")


def _created(pod: Document) -> str:
    return str((pod.get("metadata") or {}).get("creationTimestamp") or "")


def printed_reports(log: PrintedLog, spec: TuningExperimentSpec) -> list[MetricReport]:
    """What one trainer's log reports, read from its first line with a fresh reader."""
    return reports_in_log(log.text, log.truncated, line_reader(spec))


def line_reader(spec: TuningExperimentSpec) -> LineReader:
    """How a trial's printed lines are read, the same in both runtimes."""
    return LineReader(spec.trial.metrics_format, spec.recorded_metrics)


def reports_in_log(
    text: str, truncated: bool, reader: LineReader | None = None
) -> list[MetricReport]:
    """The well-formed metric lines of a log, in order (by default, only `kubetune metric`
    lines). A fragment left by the byte limit is dropped: `loss=0.31` cut to `loss=0.3`
    would parse and be wrong."""
    lines = text.splitlines()
    if truncated and lines and not text.endswith("\n"):
        lines.pop()
    read = (reader or LineReader()).read
    parsed = (read(line) for line in lines)
    return [report for report in parsed if isinstance(report, MetricReport)]
