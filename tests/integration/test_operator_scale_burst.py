"""A burst of 50 experiments x 10 parallel trials x 16 trials loses no metric and ends
with exact counts (issue 13). Each experiment runs a full wave and then a part one, so
successors are launched as slots free and the last ones end the experiment; 16 rather
than 20 trials keeps `.ci/run` within its budget.

Correctness only: the timings are what `benchmarks/operator_scale.py` prints (there with
20 parallel x 40 trials). This test runs that benchmark's scenario with its driver (each
trial pod delivers one report through the real `IngestClient`, then is written
Succeeded), with 1 s trials, all fifty experiments created at once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from benchmarks.scale import analysis
from benchmarks.scale.scenario import Scenario, run_scenario

from tests.cluster import ClusterClient, ControlPlane
from tests.integration.operator_harness import install_crds

pytestmark = pytest.mark.integration

BURST = Scenario("ci-burst-50", experiments=50, parallel=10, max_trials=16,
                 duration_s=(1.0, 1.0), deadline_s=420)  # fmt: skip


@pytest.fixture(scope="module")
def scale_cluster(bin_dir: Path) -> Iterator[ClusterClient]:
    """A control plane of its own: the burst adds kwok nodes with hundreds of GPUs, which
    would change what the session cluster's 8-GPU tests see."""
    with ControlPlane(bin_dir) as cluster:
        install_crds(cluster)
        yield cluster


# The scenario's own deadline, not the suite's default timeout, ends a slow run: it then
# reports what did not finish instead of a stack trace.
@pytest.mark.timeout(BURST.deadline_s + 120)
def test_fifty_experiment_burst_loses_no_acknowledged_metric_and_counts_exactly(
    scale_cluster: ClusterClient, tmp_path: Path
) -> None:
    result = run_scenario(scale_cluster, BURST, tmp_path)
    seen = analysis.summary(result)
    lost = analysis.lost_metrics(result)
    assert not lost, (
        f"trials failed MissingObjectiveMetric after an acknowledged report: {lost[:5]}; {seen}"
    )
    assert result.finished, f"not every experiment finished within {BURST.deadline_s:.0f} s: {seen}"
    problems = analysis.all_problems(result)
    assert not problems, f"{len(problems)} inexact: {problems[:10]}; {seen}"
    phases = Counter(str((e.get("status") or {}).get("phase")) for e in result.experiments)
    assert phases == {"Succeeded": BURST.experiments}, seen
    assert not result.errors, result.errors[:3]
