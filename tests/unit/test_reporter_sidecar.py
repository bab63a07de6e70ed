"""The reporter sidecar against a real HTTP endpoint on loopback: it follows a growing
metrics file, batches, rides out an endpoint that is down, and flushes on SIGTERM."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubetune.reporting.ingest_client import Backoff, IngestClient, TrialIdentity
from kubetune.reporting.protocol import MetricReport, format_json_line
from kubetune.reporting.sdk import append_json_line
from kubetune.reporting.sidecar import Reporter, ReporterSettings
from kubetune.reporting.tail import MetricsFileTail
from tests.unit.reporter_endpoint import RecordingEndpoint, free_port

IDENTITY = TrialIdentity("ns", "exp", "exp-0001", "t0ken")
REPO = Path(__file__).resolve().parents[2]


def write_report(path: Path, step: int, accuracy: float) -> None:
    append_json_line(str(path), format_json_line(MetricReport(step, {"acc": accuracy})))


def make_reporter(path: Path, url: str, batch_size: int = 64, interval: float = 0.2) -> Reporter:
    settings = ReporterSettings(str(path), url, batch_size, interval, flush_timeout_s=5.0)
    client = IngestClient(url, IDENTITY, Backoff(first_delay_s=0.05, max_delay_s=0.2))
    return Reporter(MetricsFileTail(str(path)), client, settings)


@pytest.fixture
def endpoint() -> Iterator[RecordingEndpoint]:
    server = RecordingEndpoint(free_port()).start()
    yield server
    server.stop()


def run_in_thread(reporter: Reporter) -> threading.Thread:
    thread = threading.Thread(target=reporter.run, daemon=True)
    thread.start()
    return thread


def stop(reporter: Reporter, thread: threading.Thread) -> None:
    reporter.stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive()


def test_follows_a_growing_file_and_batches(tmp_path: Path, endpoint: RecordingEndpoint) -> None:
    metrics = tmp_path / "metrics.jsonl"
    reporter = make_reporter(metrics, endpoint.url, batch_size=4, interval=30.0)
    thread = run_in_thread(reporter)
    for step in range(12):  # the file appears only after the reporter started
        write_report(metrics, step, step / 10)
        time.sleep(0.01)
    reports = endpoint.wait_for_reports(12)
    stop(reporter, thread)
    assert [report["step"] for report in reports] == list(range(12))
    assert reports[3] == {"step": 3, "metrics": {"acc": 0.3}}
    assert [len(body["reports"]) for body in endpoint.requests] == [4, 4, 4]
    assert {body["trial"] for body in endpoint.requests} == {"exp-0001"}
    assert endpoint.headers[0]["Authorization"] == "Bearer t0ken"


def test_a_partial_batch_leaves_after_the_interval(tmp_path: Path, endpoint: RecordingEndpoint):
    metrics = tmp_path / "metrics.jsonl"
    write_report(metrics, 1, 0.5)
    reporter = make_reporter(metrics, endpoint.url, batch_size=64, interval=0.2)
    thread = run_in_thread(reporter)
    assert len(endpoint.wait_for_reports(1, timeout_s=5)) == 1
    assert thread.is_alive()  # it went out on time, not because the reporter stopped
    stop(reporter, thread)


def test_skips_malformed_lines_and_reads_the_line_protocol(
    tmp_path: Path, endpoint: RecordingEndpoint
) -> None:
    metrics = tmp_path / "metrics.jsonl"
    metrics.write_text(
        '{"step": 1, "metrics": {"acc": "x"}}\nnot json\nkubetune metric acc=0.7 step=2\n'
        '{"step": 3, "metrics": {"acc": NaN}}\n'
    )
    reporter = make_reporter(metrics, endpoint.url)
    thread = run_in_thread(reporter)
    reports = endpoint.wait_for_reports(2)
    stop(reporter, thread)
    assert reports[0] == {"step": 2, "metrics": {"acc": 0.7}}
    assert reports[1]["step"] == 3 and math.isnan(reports[1]["metrics"]["acc"])
    assert reporter.tail.skipped_lines == 2


def test_retries_while_the_endpoint_is_down(tmp_path: Path) -> None:
    metrics = tmp_path / "metrics.jsonl"
    for step in range(3):
        write_report(metrics, step, 0.1)
    down = RecordingEndpoint(free_port())  # nothing listens on the port yet
    reporter = make_reporter(metrics, down.url)
    thread = run_in_thread(reporter)
    time.sleep(1.0)  # several refused attempts
    down.start()
    try:
        assert [report["step"] for report in down.wait_for_reports(3)] == [0, 1, 2]
        stop(reporter, thread)
    finally:
        down.stop()
    assert len(down.requests) == 1  # the same batch, delivered once it could be


def test_a_refused_batch_is_dropped_not_retried(tmp_path: Path) -> None:
    refusing = RecordingEndpoint(free_port(), status=401).start()
    metrics = tmp_path / "metrics.jsonl"
    write_report(metrics, 0, 0.1)
    reporter = make_reporter(metrics, refusing.url)
    thread = run_in_thread(reporter)
    try:
        refusing.wait_for_reports(1)
        time.sleep(0.5)
        stop(reporter, thread)
    finally:
        refusing.stop()
    assert len(refusing.requests) == 1
    assert reporter.delivered == 0


def wait_for_sigterm_handler(pid: int, timeout_s: float = 20.0) -> None:
    """Until the process catches SIGTERM (Linux shows caught signals as a bit mask)."""
    deadline = time.monotonic() + timeout_s
    bit = 1 << (signal.SIGTERM - 1)
    while time.monotonic() < deadline:
        status = Path(f"/proc/{pid}/status").read_text()
        caught = next(line for line in status.splitlines() if line.startswith("SigCgt:"))
        if int(caught.split()[1], 16) & bit:
            return
        time.sleep(0.05)
    raise AssertionError("the sidecar never installed its SIGTERM handler")


def test_the_process_flushes_on_sigterm_and_exits_zero(
    tmp_path: Path, endpoint: RecordingEndpoint
) -> None:
    metrics = tmp_path / "metrics.jsonl"
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO / "operator"),
        "KUBETUNE_METRICS_FILE": str(metrics),
        "KUBETUNE_INGEST_URL": endpoint.url,
        "KUBETUNE_REPORT_INTERVAL": "600",  # nothing would leave before the SIGTERM
        "KUBETUNE_NAMESPACE": "ns",
        "KUBETUNE_EXPERIMENT": "exp",
        "KUBETUNE_TRIAL": "exp-0001",
        "KUBETUNE_TRIAL_TOKEN": "t0ken",
    }
    command = [sys.executable, "-m", "kubetune.reporting.sidecar"]
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    try:
        for step in range(3):
            write_report(metrics, step, 0.5)
        wait_for_sigterm_handler(process.pid)  # started, not just forked: loaded hosts are slow
        time.sleep(0.3)  # and it has read the file by now
        write_report(metrics, 3, 0.9)  # the trainer's last words, just before it exits
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=15)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    assert [report["step"] for report in endpoint.reports()] == [0, 1, 2, 3]
    assert "delivered 4 report(s)" in stderr


def test_exits_2_with_a_clear_message_when_unconfigured() -> None:
    env = {"PYTHONPATH": str(REPO / "operator"), "PATH": os.environ.get("PATH", "")}
    command = [sys.executable, "-m", "kubetune.reporting.sidecar"]
    done = subprocess.run(command, check=False, env=env, capture_output=True, text=True, timeout=15)
    assert done.returncode == 2
    assert "KUBETUNE_TRIAL_TOKEN" in done.stderr


def test_a_reporter_outside_the_designated_pod_sends_nothing_and_exits_on_sigterm(
    tmp_path: Path, endpoint: RecordingEndpoint
) -> None:
    metrics = tmp_path / "metrics.jsonl"
    write_report(metrics, 1, 0.5)  # the trainer's, which this pod's token may not send
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO / "operator"),
        "KUBETUNE_METRICS_FILE": str(metrics),
        "KUBETUNE_INGEST_URL": endpoint.url,
        "KUBETUNE_REPORT_INTERVAL": "0.1",
        "KUBETUNE_NAMESPACE": "ns",
        "KUBETUNE_EXPERIMENT": "exp",
        "KUBETUNE_TRIAL": "exp-0001",
        "KUBETUNE_TRIAL_TOKEN": "t0ken",
        # what the downward API gives the second pod of the designated replicated job
        "KUBETUNE_REPLICATED_JOB": "leader",
        "KUBETUNE_JOB_INDEX": "0",
        "KUBETUNE_COMPLETION_INDEX": "1",
        "KUBETUNE_REPORTING_REPLICA": "leader/0/0",
    }
    command = [sys.executable, "-m", "kubetune.reporting.sidecar"]
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_sigterm_handler(process.pid)
        time.sleep(0.5)  # a reporter at work would have sent the report by now
        assert process.poll() is None  # a native sidecar that exits is restarted: it waits
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=15)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    assert endpoint.reports() == []
    assert "this pod is leader/0/1; the trial reports from leader/0/0 alone" in stderr
