"""The operator as a child process, as in a cluster, so that its memory and CPU are its own.

It runs `kopf run --standalone -m kubetune.reconcile.handlers --namespace NS` with the
environment the Helm chart sets (ingest and metrics ports, OPENBLAS_NUM_THREADS=1), logs
to a file, and a sampler thread reads its RSS and CPU time from /proc twice a second.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tests.cluster.processes import free_loopback_ports

SAMPLE_INTERVAL_S = 0.5
READY_TIMEOUT_S = 60.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


@dataclass
class Usage:
    """Samples of (seconds since start, RSS bytes, CPU seconds) of one process."""

    samples: list[tuple[float, int, float]] = field(default_factory=list)

    @property
    def peak_rss(self) -> int:
        return max((rss for _, rss, _ in self.samples), default=0)

    @property
    def cpu_seconds(self) -> float:
        return self.samples[-1][2] - self.samples[0][2] if self.samples else 0.0


def read_usage(pid: int) -> tuple[int, float]:
    """(RSS bytes, user + system CPU seconds) from /proc (psutil is no dependency here)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime
    rss_pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return rss_pages * PAGE_BYTES, cpu


def operator_environment(kubeconfig: Path, ingest_port: int, metrics_port: int) -> dict[str, str]:
    """What the chart sets, on loopback; the resync interval stays the operator's default."""
    url = f"http://127.0.0.1:{ingest_port}"
    return {**os.environ, "KUBECONFIG": str(kubeconfig), "OPENBLAS_NUM_THREADS": "1",
            "KUBETUNE_INGEST_HOST": "127.0.0.1", "KUBETUNE_INGEST_PORT": str(ingest_port),
            "KUBETUNE_INGEST_URL": url, "KUBETUNE_METRICS_HOST": "127.0.0.1",
            "KUBETUNE_METRICS_PORT": str(metrics_port)}  # fmt: skip


class OperatorProcess:
    """`kopf run` in its own process group, its usage sampled until `stop`."""

    def __init__(self, kubeconfig: Path, namespace: str, log_path: Path) -> None:
        self.ingest_port, self.metrics_port = free_loopback_ports(2)
        self.log_path = log_path
        argv = [sys.executable, "-m", "kopf", "run", "--standalone",
                "-m", "kubetune.reconcile.handlers", "--namespace", namespace]  # fmt: skip
        env = operator_environment(kubeconfig, self.ingest_port, self.metrics_port)
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                                            stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)  # fmt: skip
        self.usage = Usage()
        self._started = time.monotonic()
        self._halt = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    def wait_ready(self) -> None:
        """Ready once its /metrics answers (started with the ingest, after the handlers)."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not _answers(self.metrics_url):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the operator did not start; see {self.log_path}")
            time.sleep(0.2)
        self._sampler.start()

    def _sample(self) -> None:
        while not self._halt.wait(SAMPLE_INTERVAL_S) and self.process.poll() is None:
            with contextlib.suppress(OSError):  # it exited between poll and read
                rss, cpu = read_usage(self.process.pid)
                self.usage.samples.append((time.monotonic() - self._started, rss, cpu))

    def stop(self) -> None:
        self._halt.set()
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False
