"""Figures and correctness checks computed from a `ScenarioResult`.

Lag: within one experiment, slots free up one completion at a time, so the i-th pod
completion (in time order) is matched with the (parallel + i)-th Job created: the Job
that the freed slot allowed. Correctness: no trial failed for a missing objective when
its report was acknowledged, and every experiment's counts agree with its trials.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from dataclasses import dataclass, field

from benchmarks.scale import scrape
from benchmarks.scale.scenario import TERMINAL_PHASES, ScenarioResult, object_bytes
from benchmarks.scale.watching import Document

MISSING_OBJECTIVE = "MissingObjectiveMetric"
EXPERIMENT_LABEL = "kubetune.dev/experiment"


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def successor_lags(result: ScenarioResult) -> list[float]:
    """Seconds from each pod completion to the creation of the Job its slot allowed."""
    lags: list[float] = []
    for name in result.created_at:
        records = [r for r in result.records if r.experiment == name]
        completions = sorted(r.completed_at for r in records if r.completed_at is not None)
        successors = result.jobs_seen[name][result.scenario.parallel :]
        lags += [job - done for done, job in zip(completions, successors, strict=False)]
    return lags


def first_job_latencies(result: ScenarioResult) -> list[float]:
    """Creation -> first Job, per experiment (inf for one that got no Job at all)."""
    return [result.jobs_seen[name][0] - created if result.jobs_seen[name] else math.inf
            for name, created in result.created_at.items()]  # fmt: skip


def lost_metrics(result: ScenarioResult) -> list[str]:
    """Trials failed for a missing objective although the ingest acknowledged a report."""
    acknowledged = {r.trial for r in result.records if r.acknowledged}
    missing = [t["metadata"]["name"] for t in result.trials if _reason(t) == MISSING_OBJECTIVE]
    return [name for name in missing if name in acknowledged]


def _reason(trial: Document) -> str:
    status = trial.get("status") or {}
    return str(status.get("reason") or "")


def experiment_problems(experiment: Document, trials: list[Document], max_trials: int) -> list[str]:
    """What is inexact about one finished experiment's counts (empty when all is well)."""
    name = experiment["metadata"]["name"]
    status = experiment.get("status") or {}
    phase, counts = status.get("phase"), Counter(status.get("trials") or {})
    created = counts["created"]
    ended = counts["succeeded"] + counts["failed"] + counts["stopped"]
    succeeded = sum(1 for t in trials if (t.get("status") or {}).get("phase") == "Succeeded")
    checks = [
        (phase in TERMINAL_PHASES, f"phase {phase}"),
        (phase != "Succeeded" or created == max_trials, f"created {created} != {max_trials}"),
        (ended == created, f"succeeded+failed+stopped {ended} != created {created}"),
        (len(trials) == created, f"{len(trials)} TuningTrials but created {created}"),
        (succeeded == counts["succeeded"], f"{succeeded} Succeeded, counted {counts['succeeded']}"),
    ]
    shown = {key: counts[key] for key in ("created", "running", "succeeded", "failed", "stopped")}
    return [f"{name} ({phase}, {shown}): {problem}" for ok, problem in checks if not ok]


def all_problems(result: ScenarioResult) -> list[str]:
    by_experiment: dict[str, list[Document]] = {}
    for trial in result.trials:
        experiment = trial["metadata"].get("labels", {}).get(EXPERIMENT_LABEL, "")
        by_experiment.setdefault(experiment, []).append(trial)
    problems = []
    for experiment in result.experiments:
        trials = by_experiment.get(experiment["metadata"]["name"], [])
        problems += experiment_problems(experiment, trials, result.scenario.max_trials)
    return problems


@dataclass
class Figures:
    """One scenario's figures, named as the issue's table names them."""

    lag_p50: float
    lag_p95: float
    lag_max: float
    first_job_max: float
    peak_rss_mb: float
    idle_rss_mb: float
    cpu_s: float
    requests_per_trial: float
    lost_metrics: int
    unacknowledged: int
    reports_sent: int
    missing_objective: int
    phases: Counter[str]
    problems: list[str] = field(default_factory=list)
    largest_experiment_bytes: int = 0
    largest_trial_bytes: int = 0


def completion_rates(result: ScenarioResult, window_s: float = 60.0) -> tuple[float, float]:
    """Trial pods that completed per second: over the whole run, and in its busiest
    `window_s` (the load the scenario actually gave, which the control plane may cap)."""
    times = sorted(r.completed_at for r in result.records if r.completed_at is not None)
    busiest = max((bisect.bisect_left(times, t + window_s) - i for i, t in enumerate(times)),
                  default=0)  # fmt: skip
    return len(times) / max(result.wall_s, 1e-9), busiest / window_s


def trials_created(result: ScenarioResult) -> int:
    return sum(int(((e.get("status") or {}).get("trials") or {}).get("created", 0))
               for e in result.experiments)  # fmt: skip


def figures(result: ScenarioResult) -> Figures:
    lags = successor_lags(result)
    operator_requests = scrape.operator_total(result.requests, result.writes)
    sent = [r for r in result.records if r.report_sent_at is not None]
    samples = result.usage.samples
    return Figures(
        lag_p50=percentile(lags, 0.5), lag_p95=percentile(lags, 0.95),
        lag_max=max(lags, default=math.nan),
        first_job_max=max(first_job_latencies(result), default=math.nan),
        peak_rss_mb=result.usage.peak_rss / 2**20,
        idle_rss_mb=samples[0][1] / 2**20 if samples else math.nan,
        cpu_s=result.usage.cpu_seconds,
        requests_per_trial=operator_requests / max(1, trials_created(result)),
        lost_metrics=len(lost_metrics(result)),
        unacknowledged=sum(1 for r in sent if not r.acknowledged), reports_sent=len(sent),
        missing_objective=sum(1 for t in result.trials if _reason(t) == MISSING_OBJECTIVE),
        phases=Counter(str((e.get("status") or {}).get("phase")) for e in result.experiments),
        problems=all_problems(result),
        largest_experiment_bytes=max(map(object_bytes, result.experiments), default=0),
        largest_trial_bytes=max(map(object_bytes, result.trials), default=0),
    )  # fmt: skip


def summary(result: ScenarioResult) -> str:
    """One line on how far the scenario got, for assertion messages."""
    sent = [r for r in result.records if r.report_sent_at is not None]
    unacknowledged = sum(1 for r in sent if not r.acknowledged)
    phases = Counter(str((e.get("status") or {}).get("phase")) for e in result.experiments)
    return (
        f"after {result.wall_s:.0f} s (finished: {result.finished}): experiments {dict(phases)}, "
        f"{trials_created(result)} of {result.scenario.trials} trials created, "
        f"{len(sent)} reports sent, {unacknowledged} never acknowledged, "
        f"{len(lost_metrics(result))} lost after acknowledgement"
    )
