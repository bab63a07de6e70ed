"""The printed figures: one table per scenario with the baseline column and ratios,
then the API requests per trial, the pass cost over time and what went wrong.

Ratios are measured / baseline, so below 1 is better for every row (all are costs).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping

from benchmarks.scale import scrape
from benchmarks.scale.analysis import Figures, completion_rates, trials_created
from benchmarks.scale.scenario import ScenarioResult

Baseline = Mapping[str, float | str]
LISTED_PROBLEMS = 10
OTHERS_SHOWN = 14  # the rest are a few hundredths of a request per trial


def cell(value: float | str | None, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, str):
        return value
    return f"{value:.1f}{unit}" if isinstance(value, float) else f"{value}{unit}"


def ratio(measured: float | str, baseline: float | str | None) -> str:
    numeric = isinstance(measured, int | float) and isinstance(baseline, int | float)
    if not numeric or not baseline or math.isnan(float(measured)):
        return "-"
    return f"{float(measured) / float(baseline):.2f}x"


def figure_rows(result: ScenarioResult, figures: Figures) -> list[tuple[str, str, float | str]]:
    """(baseline key, label, measured value) for each row of the scenario's table."""
    sent = figures.reports_sent
    phases = ", ".join(f"{count} {phase}" for phase, count in sorted(figures.phases.items()))
    return [
        ("outcome", "experiments (final phase)", phases or "none"),
        ("lost_sent", "trials Failed MissingObjectiveMetric (sent)", figures.missing_objective),
        ("lost_acked", "  ... report acknowledged (must be 0)", figures.lost_metrics),
        ("unacknowledged", f"reports never acknowledged (of {sent} sent)", figures.unacknowledged),
        ("lag_p50", "completion -> successor Job p50 (s)", figures.lag_p50),
        ("lag_p95", "completion -> successor Job p95 (s)", figures.lag_p95),
        ("lag_max", "completion -> successor Job max (s)", figures.lag_max),
        ("first_job_max", "creation -> first Job max (s)", figures.first_job_max),
        ("peak_rss_mb", f"operator peak RSS (MiB; idle {cell(figures.idle_rss_mb)})",
         figures.peak_rss_mb),
        ("cpu_s", "operator CPU (s)", figures.cpu_s),
        ("requests_per_trial", "operator API requests per trial", figures.requests_per_trial),
        ("wall_s", f"wall time (s; all finished: {result.finished})", result.wall_s),
    ]  # fmt: skip


def print_figures(result: ScenarioResult, figures: Figures, baseline: Baseline) -> None:
    scenario = result.scenario
    low, high = scenario.duration_s
    print(f"\n== {scenario.name}: {scenario.experiments} experiment(s) x {scenario.parallel} "
          f"parallel x {scenario.max_trials} trials, trials {low:g}-{high:g} s, "
          f"{trials_created(result)} trials created")  # fmt: skip
    print(f"{'figure':58s} {'measured':>14s} {'baseline':>18s} {'ratio':>8s}")
    for key, label, measured in figure_rows(result, figures):
        known = baseline.get(key)
        print(f"{label:58s} {cell(measured):>14s} {cell(known):>18s} {ratio(measured, known):>8s}")


def print_requests(result: ScenarioResult) -> None:
    """Per trial: the operator's own requests by verb and resource, and all components'."""
    trials = max(1, trials_created(result))
    ours = scrape.operator_requests(result.requests)
    everyone = sum(n for (verb, _, _), n in result.requests.items() if verb != "WATCH")
    total = scrape.operator_total(result.requests, result.writes)
    print(f"API requests per trial: operator {total / trials:.1f}, all components "
          f"{everyone / trials:.1f} (API server counters, WATCH excluded; each of the "
          "operator's writes the larger of these and its own count)")  # fmt: skip
    for (verb, resource, group), count in ours.most_common():
        print(f"    {verb:7s} {resource:28s} {group or 'core':14s} {count / trials:6.2f}")
    print("  the operator's writes where its own count differs (above -> own count):")
    differences = scrape.write_differences(result.requests, result.writes)
    for (verb, resource), (found, own) in differences.items():
        print(f"    {verb:7s} {resource:43s} {found / trials:6.2f} -> {own / trials:.2f}")
    others = result.requests - ours
    print("  the other components' (kubelet, controllers, scheduler, this driver), most first:")
    for (verb, resource, group), count in others.most_common(OTHERS_SHOWN):
        if verb != "WATCH":
            print(f"    {verb:7s} {resource:28s} {group or 'core':14s} {count / trials:6.2f}")


def print_timeline(result: ScenarioResult) -> None:
    """Pass duration between samples, against the trials finished so far."""
    print("pass cost over time (kubetune_reconcile_duration_seconds):")
    print(f"    {'t (s)':>7s} {'finished':>9s} {'passes':>7s} {'mean pass (s)':>14s} {'load1':>6s}")
    start = result.timeline[0].at if result.timeline else 0.0
    for before, after in zip(result.timeline, result.timeline[1:], strict=False):
        passes = after.passes - before.passes
        mean = (after.seconds - before.seconds) / passes if passes else math.nan
        shown = "-" if math.isnan(mean) else f"{mean:.3f}"
        print(f"    {after.at - start:7.0f} {after.finished_trials:9d} {passes:7.0f} "
              f"{shown:>14s} {after.load1:6.2f}")  # fmt: skip


def print_machine(result: ScenarioResult) -> None:
    loads = [sample.load1 for sample in result.timeline]
    mean = sum(loads) / len(loads) if loads else math.nan
    print(
        f"machine: {os.cpu_count()} cores, load1 during the run mean {mean:.2f}, "
        f"max {max(loads, default=math.nan):.2f}; this benchmark's own CPU "
        f"{result.bench_cpu_s:.1f} s"
    )
    mean, busiest = completion_rates(result)
    print(f"trial pods completed per second: {mean:.1f} over the run, {busiest:.1f} in its "
          "busiest minute")  # fmt: skip


def print_cpu(before: Mapping[str, float], after: Mapping[str, float], seconds: float) -> None:
    """Cores each control-plane process used over the scenario (the operator's CPU is in
    the table above): who the cores went to."""
    used = {name: (after[name] - before.get(name, 0.0)) / seconds for name in after}
    shares = ", ".join(f"{name} {cores:.2f}" for name, cores in used.items())
    print(f"control plane, cores used over the scenario: {shares}")


def print_job_controller(before: scrape.JobQueue, after: scrape.JobQueue, flags: str) -> None:
    """Kubernetes' own Job controller, which turns each trial's Job into its pod: a
    backlog there delays trials whatever the operator does."""
    waits, waited = after.waits - before.waits, after.waited - before.waited
    mean = waits / waited if waited else math.nan
    print(f"Kubernetes' Job controller ({flags or 'default API rate'}): {after.depth:.0f} Jobs "
          f"queued at the end, mean wait in its queue {mean:.1f} s")  # fmt: skip


def print_problems(result: ScenarioResult, figures: Figures) -> None:
    print(f"ingest answers: {dict(result.ingest) or 'none'}")
    print(
        f"largest objects: TuningExperiment {figures.largest_experiment_bytes} B, "
        f"TuningTrial {figures.largest_trial_bytes} B"
    )
    listed = figures.problems[:LISTED_PROBLEMS]
    more = len(figures.problems) - len(listed)
    print(f"exactness problems: {len(figures.problems)}" + "".join(f"\n    {p}" for p in listed)
          + (f"\n    ... {more} more" if more > 0 else ""))  # fmt: skip
    if result.errors:
        print(f"driver errors: {len(result.errors)}, first: {result.errors[0][:300]}")
