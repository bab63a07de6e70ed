"""The operator against the real control plane with two objectives and a constraint: the
experiment runs to Succeeded, infeasible trials are marked, and the status carries the
Pareto front and its hypervolume (docs/multi-objective.md)."""

from __future__ import annotations

import numpy as np
import pytest

from kubetune.search.pareto import hypervolume, nondominated_ranks
from tests.cluster import ClusterClient
from tests.integration.operator_harness import (
    Cluster,
    TrialPodDriver,
    experiment,
    operator_running,
)

pytestmark = pytest.mark.integration
REFERENCE = [-2.0, 2.0]  # score (maximized) no worse than -2, cost no worse than 2


def cost_of(params: dict[str, float]) -> float:
    """Trades off against the harness's score, best at x=0.3: cheaper towards x=-1."""
    return params["x"] + 1.0


def two_metric_trainer(params: dict[str, str]) -> tuple[int, str]:
    x, y = float(params["x"]), float(params["y"])
    score, cost = -((x - 0.3) ** 2) - (y + 0.2) ** 2, cost_of({"x": x})
    return 0, f'{{"metrics": {{"score": {score!r}, "cost": {cost!r}}}}}'


def test_two_objectives_and_a_constraint_run_to_a_front(
    cluster: ClusterClient, namespace: str, kube: Cluster
) -> None:
    body = experiment("pareto", max_trials=5, parallel=2)
    spec = body["spec"]
    del spec["objective"]
    spec["objectives"] = [{"metric": "score", "goal": "maximize"},
                          {"metric": "cost", "goal": "minimize"}]  # fmt: skip
    spec["constraints"] = [{"metric": "cost", "max": 1.8}]
    spec["referencePoint"] = REFERENCE
    with TrialPodDriver(cluster, namespace, two_metric_trainer), operator_running(namespace):
        kube.create(body)
        done = kube.wait_for_phase("pareto", "Succeeded", "Failed")

    status, trials = done["status"], kube.trials()
    assert status["phase"] == "Succeeded", status
    assert [t["status"]["phase"] for t in trials] == ["Succeeded"] * 5
    for trial in trials:
        assert trial["spec"]["objectiveMetrics"] == ["score", "cost"]
        assert trial["status"]["feasible"] == (trial["status"]["metrics"]["cost"] <= 1.8)
    feasible = [t for t in trials if t["status"]["feasible"]]
    points = np.array([[-t["status"]["metrics"]["score"], t["status"]["metrics"]["cost"]]
                       for t in feasible])  # fmt: skip
    ranks = nondominated_ranks(points)
    pareto = status["pareto"]
    expected = {t["metadata"]["name"]: int(rank) for t, rank in zip(feasible, ranks, strict=True)}
    assert {listed["trial"]: listed["rank"] for listed in pareto["trials"]} == expected
    assert pareto["size"] == int(np.sum(ranks == 0))
    assert pareto["referencePoint"] == REFERENCE
    assert pareto["hypervolume"] == pytest.approx(hypervolume(points, np.array([2.0, 2.0])))
    best = max(feasible, key=lambda t: t["status"]["metrics"]["score"])
    assert status["best"]["trial"] == best["metadata"]["name"]
