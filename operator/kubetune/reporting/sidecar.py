"""``kubetune-reporter``: the sidecar that carries a trial's metrics to the operator.

It runs as a native sidecar (an init container with ``restartPolicy: Always``) beside the
trainer, tails the metrics file on the shared emptyDir, and posts reports in batches: a
batch leaves when it is full or when its oldest report has waited `interval` seconds, so
a chatty trainer costs a request per batch, not per line. When the trainer exits,
Kubernetes sends SIGTERM; the reporter then reads the rest of the file, delivers it
within the grace period and exits 0, so the Job completes with every metric recorded.

In a JobSet trial the reporter runs in every pod of the designated replicated job, but
only the designated pod's reports are taken. A reporter elsewhere sends nothing (the
ingest would refuse it) and waits for its SIGTERM: it does not exit at once, because the
kubelet restarts a native sidecar that exits.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from types import FrameType

from kubetune.reporting import env as trial_env
from kubetune.reporting.ingest_client import Backoff, IngestClient, TrialIdentity, log
from kubetune.reporting.protocol import MetricReport
from kubetune.reporting.tail import MetricsFileTail

POLL_INTERVAL_S = 0.2
# Below Kubernetes' default 30 s grace period, so the reporter exits on its own terms.
FLUSH_TIMEOUT_S = 20.0
MAX_BATCH = 256  # matches the ingest endpoint's per-request cap on points


@dataclass(frozen=True)
class ReporterSettings:
    metrics_file: str
    ingest_url: str
    batch_size: int
    interval_s: float
    flush_timeout_s: float


def parse_settings(argv: list[str] | None) -> ReporterSettings:
    """Command-line flags, defaulting to the environment the pod manifest sets."""
    env = os.environ.get
    parser = argparse.ArgumentParser(prog="kubetune-reporter", description=__doc__.split("\n")[0])
    parser.add_argument("--metrics-file", default=env(trial_env.METRICS_FILE, ""))
    parser.add_argument("--ingest-url", default=env(trial_env.INGEST_URL, ""))
    parser.add_argument("--batch-size", type=int, default=env(trial_env.REPORT_BATCH, "64"))
    parser.add_argument("--interval", type=float, default=env(trial_env.REPORT_INTERVAL, "2"))
    parser.add_argument(
        "--flush-timeout", type=float, default=env(trial_env.FLUSH_TIMEOUT, str(FLUSH_TIMEOUT_S))
    )
    args = parser.parse_args(argv)
    batch_size = max(1, min(int(args.batch_size), MAX_BATCH))
    return ReporterSettings(
        str(args.metrics_file), str(args.ingest_url), batch_size, args.interval, args.flush_timeout
    )


def identity_from_env() -> TrialIdentity | None:
    names = (trial_env.NAMESPACE, trial_env.EXPERIMENT, trial_env.TRIAL, trial_env.TRIAL_TOKEN)
    values = [os.environ.get(name, "") for name in names]
    if not all(values):
        missing = [name for name, value in zip(names, values, strict=True) if not value]
        log(f"missing environment: {', '.join(missing)}")
        return None
    namespace, experiment, trial, token = values
    return TrialIdentity(namespace, experiment, trial, token, replica_from_env())


def replica_from_env() -> str | None:
    """The pod's place in a multi-pod trial, where the manifest gives it (JobSet)."""
    if trial_env.REPLICATED_JOB not in os.environ:
        return None
    return trial_env.replica_name(*(os.environ.get(name, "") for name in trial_env.REPLICA_ENV))


def designated_elsewhere(identity: TrialIdentity) -> str | None:
    """The pod the trial reports from, when it is not this one (of a JobSet); else None."""
    designated = os.environ.get(trial_env.REPORTING_REPLICA)
    return designated if designated and identity.replica != designated else None


class Reporter:
    """The tail -> batch -> deliver loop; `stop` is set by SIGTERM (or a test)."""

    def __init__(self, tail: MetricsFileTail, client: IngestClient, settings: ReporterSettings):
        self.tail, self.client = tail, client
        self.batch_size = settings.batch_size
        self.interval, self.flush_timeout = settings.interval_s, settings.flush_timeout_s
        self.stop = threading.Event()
        self.pending: list[MetricReport] = []
        self.oldest_at = 0.0
        self.delivered = 0

    def run(self) -> None:
        deadline = float("inf")
        while True:
            if self.stop.is_set() and deadline == float("inf"):
                deadline = time.monotonic() + self.flush_timeout
            if time.monotonic() > deadline:
                log(f"flush timeout: {len(self.pending)} report(s) and the file's rest unsent")
                return
            read = self._collect()
            if self.pending and (self._batch_due() or self.stop.is_set()):
                self._send(deadline)
            elif self.stop.is_set() and not read:
                return  # the file is drained and everything is delivered
            elif not read:
                self.stop.wait(POLL_INTERVAL_S)

    def _collect(self) -> int:
        reports = self.tail.read_reports(self.batch_size - len(self.pending))
        if reports and not self.pending:
            self.oldest_at = time.monotonic()
        self.pending.extend(reports)
        return len(reports)

    def _batch_due(self) -> bool:
        full = len(self.pending) >= self.batch_size
        return full or time.monotonic() - self.oldest_at >= self.interval

    def _send(self, deadline: float) -> None:
        if self.client.deliver(self.pending, self.stop, deadline):
            self.delivered += len(self.pending)
        self.pending = []


def main(argv: list[str] | None = None) -> int:
    settings = parse_settings(argv)
    identity = identity_from_env()
    if not settings.metrics_file or not settings.ingest_url or identity is None:
        log("need --metrics-file/KUBETUNE_METRICS_FILE and --ingest-url/KUBETUNE_INGEST_URL")
        return 2
    client = IngestClient(settings.ingest_url, identity, Backoff())
    reporter = Reporter(MetricsFileTail(settings.metrics_file), client, settings)

    def request_stop(signum: int, frame: FrameType | None) -> None:
        reporter.stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    designated = designated_elsewhere(identity)
    if designated:
        log(f"this pod is {identity.replica}; the trial reports from {designated} alone")
        while not reporter.stop.wait(POLL_INTERVAL_S):
            pass  # short waits: the signal handler runs between them
        return 0
    reporter.run()
    log(f"delivered {reporter.delivered} report(s), skipped {reporter.tail.skipped_lines} line(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
