"""The operator at cluster scale (issue 13), against the local control plane.

N experiments x 20 parallel trials x 40 trials each, with 5 s trials finishing in waves
(`--burst`) or 60-180 s trials spread out (`--spread`); one experiment of 2000 trials,
50 parallel (`--large`); one of 10,000 trials (`--huge`), for the pass cost over time.
The operator runs as its own process (`kopf run`); trial pods are played by
`benchmarks.scale.driver`: each delivers one report through the real `IngestClient`,
then is written Succeeded. Every figure is printed next to the issue's baseline,
measured at commit 0e8c480 on 2 shared cores.

    .venv/bin/python -m benchmarks.operator_scale --quick          # N = 10, 5 s: minutes
    .venv/bin/python -m benchmarks.operator_scale --burst 50,100 --spread 100
    .venv/bin/python -m benchmarks.operator_scale --large --huge

The machine's cores are shared: run one control plane at a time (e.g. under
`flock /tmp/kt-cluster.lock`) and read the load printed with each table.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

from tests.cluster import ControlPlane, find_bin_dir
from tests.integration.operator_harness import install_crds

from benchmarks.scale import analysis, scrape, tables
from benchmarks.scale.operator_process import read_usage
from benchmarks.scale.scenario import Scenario, ScenarioResult, run_scenario

BASELINE_COMMIT = "0e8c480"
BURST_S, SPREAD_S = (5.0, 5.0), (60.0, 180.0)
# The table. "lost_sent" counts trials Failed MissingObjectiveMetric although
# their report was sent; at N = 10 every report was acknowledged, so those 14 were also
# lost after acknowledgement ("lost_acked"). Figures the issue does not give stay absent.
BASELINE: Mapping[str, Mapping[str, float | str]] = {
    "burst-10": {"outcome": "10 Succeeded", "lost_sent": 14, "lost_acked": 14,
                 "unacknowledged": 0, "lag_p95": 7.1, "first_job_max": 4.5,
                 "peak_rss_mb": 239},
    "burst-50": {"outcome": "31 Failed", "lost_sent": 1862, "unacknowledged": 2000,
                 "lag_p95": 56, "first_job_max": 55, "peak_rss_mb": 915},
    "burst-100": {"outcome": "first wave > 7 min", "lost_sent": 2034, "unacknowledged": 3327,
                  "lag_p95": 297, "first_job_max": 163, "peak_rss_mb": 1446},
    "spread-100": {"lost_sent": 3421, "lag_p95": 184, "peak_rss_mb": 1360},
    "large-2000": {"lost_sent": "5-9 %", "peak_rss_mb": 435},
}  # fmt: skip


def burst(n: int) -> Scenario:
    return Scenario(f"burst-{n}", experiments=n, parallel=20, max_trials=40, duration_s=BURST_S)


def spread(n: int) -> Scenario:
    return Scenario(f"spread-{n}", experiments=n, parallel=20, max_trials=40,
                    duration_s=SPREAD_S, deadline_s=3600)  # fmt: skip


def large() -> Scenario:
    return Scenario("large-2000", experiments=1, parallel=50, max_trials=2000,
                    duration_s=BURST_S, deadline_s=3600)  # fmt: skip


def huge() -> Scenario:
    return Scenario("huge-10000", experiments=1, parallel=50, max_trials=10_000,
                    duration_s=BURST_S, deadline_s=4 * 3600, timeline_interval_s=30)  # fmt: skip


def numbers(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part]


def chosen_scenarios(args: argparse.Namespace) -> list[Scenario]:
    chosen = [burst(10)] if args.quick else []
    chosen += [burst(n) for n in numbers(args.burst)] + [spread(n) for n in numbers(args.spread)]
    chosen += ([large()] if args.large else []) + ([huge()] if args.huge else [])
    if args.deadline:  # a cap for a shared machine: figures then cover what got done
        chosen = [dataclasses.replace(s, deadline_s=args.deadline) for s in chosen]
    return chosen


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N = 10 x 20 parallel, 5 s trials")
    parser.add_argument("--burst", default="", help="experiment counts, e.g. 10,50,100")
    parser.add_argument("--spread", default="", help="experiment counts, 60-180 s trials")
    parser.add_argument("--large", action="store_true", help="one experiment, 2000 trials")
    parser.add_argument("--huge", action="store_true", help="one experiment, 10,000 trials")
    parser.add_argument("--deadline", type=float, help="seconds to wait per scenario at most")
    parser.add_argument("--work-dir", type=Path, help="where operator logs go (default: temp)")
    parser.add_argument("--controller-qps", type=int, help=(
        "kube-controller-manager's API rate (Kubernetes' default, 20, lets its Job controller "
        "start about 3 Jobs a second, fewer than spread-100 completes)"))  # fmt: skip
    args = parser.parse_args()
    if not chosen_scenarios(args):
        parser.error("choose a scenario: --quick, --burst, --spread, --large or --huge")
    return args


def report(result: ScenarioResult) -> None:
    figures = analysis.figures(result)
    tables.print_figures(result, figures, BASELINE.get(result.scenario.name, {}))
    tables.print_machine(result)
    tables.print_requests(result)
    tables.print_timeline(result)
    tables.print_problems(result, figures)


def main() -> None:
    args = parse_args()
    work_dir = args.work_dir or Path(tempfile.mkdtemp(prefix="kt-scale-"))
    work_dir.mkdir(parents=True, exist_ok=True)
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"operator_scale: baseline measured at {BASELINE_COMMIT}; {os.cpu_count()} cores, "
          f"load average at start {load}; operator logs in {work_dir}", flush=True)  # fmt: skip
    flags = controller_flags(args.controller_qps)
    plane = ControlPlane(find_bin_dir(), controller_flags=flags)
    with plane as cluster:
        install_crds(cluster)
        for scenario in chosen_scenarios(args):
            queue, cpu, started = scrape.job_queue(plane), component_cpu(plane), time.monotonic()
            report(run_scenario(cluster, scenario, work_dir))
            tables.print_cpu(cpu, component_cpu(plane), time.monotonic() - started)
            tables.print_job_controller(queue, scrape.job_queue(plane), " ".join(flags))


def component_cpu(plane: ControlPlane) -> dict[str, float]:
    """CPU seconds each control-plane process has used so far."""
    return {name: read_usage(part.pid)[1] for name, part in plane.components.items()}


def controller_flags(qps: int | None) -> list[str]:
    """A Job costs the Job controller about 7 requests (its pod, status updates, Events),
    so its rate, and how many Jobs it syncs at once, bound how fast trials start."""
    if qps is None:
        return []
    return [f"--kube-api-qps={qps}", f"--kube-api-burst={2 * qps}", "--concurrent-job-syncs=20"]


if __name__ == "__main__":
    main()
