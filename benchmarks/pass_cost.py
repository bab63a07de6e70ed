"""What one reconcile decision costs as an experiment's history grows (issue 13).

The pass's pure part (`planning.pass_decision.decide_pass`) over one experiment with 50
running trials and 100 to 10,000 finished ones, between two passes of which one more
trial finished (as the operator's trial cache hands them over). Two columns: every trial
handed over as a record (what a pass did before the settled log: parsed once, but
counted, ranked and scanned on every pass), and the finished ones folded into the
experiment's summary (now). The previous figures, measured at the earlier commit with
the first column's way, are printed beside them. The reads are not in it: since the
informers, a pass reads only the experiment from the API server.

With `--early-stopping`, the experiment uses ASHA: the rule judges each running trial
against every other trial's curve, so that part still grows with the history.

    .venv/bin/python -m benchmarks.pass_cost            # about a minute on 2 cores
    .venv/bin/python -m benchmarks.pass_cost --histories 100,1000 --early-stopping
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from datetime import UTC, datetime
from functools import partial
from typing import Any

from tests.integration.operator_harness import experiment

from kubetune.planning.history import SettledLog
from kubetune.planning.jobs import build_trial_resource
from kubetune.planning.pass_decision import Snapshot, decide_pass
from kubetune.planning.spec_changes import accepted_part, encode_spec

Document = dict[str, Any]
ACTIVE = 50
NOW = datetime(2030, 1, 1, tzinfo=UTC)
# ms per pass at commit 9b74b58 (finished records parsed once, scanned every pass), load 1.7
PREVIOUS_MS = {("random", 100): 5.6, ("random", 1000): 11.6, ("random", 10000): 200.0,
               ("bayesian", 1000): 24.2, ("bayesian", 10000): 180.0}  # fmt: skip
ASHA = {"rule": "asha", "minResource": 1, "maxResource": 10, "reductionFactor": 3}


def _trial(body: Document, index: int, phase: str, chance: random.Random) -> Document:
    params = {"x": chance.uniform(-1, 1), "y": chance.uniform(-1, 1)}
    name = f"big-{index:05d}"
    document = build_trial_resource(body, index, name, params)
    document["metadata"] |= {"uid": f"uid-{index}", "resourceVersion": str(index + 10)}
    steps = range(1, 11) if phase == "Succeeded" else range(1, 4)
    curve = [
        {
            "step": step,
            "values": {"score": chance.random()},
            "at": f"2030-01-01T00:{index % 60:02d}:{step:02d}.000000Z",
        }
        for step in steps
    ]
    status = {"phase": phase, "jobName": name, "startTime": "2030-01-01T00:00:00Z",
              "metrics": {"score": curve[-1]["values"]["score"]}, "curve": curve}  # fmt: skip
    document["status"] = status
    return document


def _running_job(trial: Document) -> tuple[Document, Document]:
    """A trial's Job and its running Pod, as the cache keeps them."""
    name, uid = trial["metadata"]["name"], trial["metadata"]["uid"]
    owner = [{"controller": True, "uid": uid, "name": name}]
    job = {"metadata": {"name": name, "uid": f"job-{uid}", "ownerReferences": owner,
                        "creationTimestamp": "2030-01-01T00:00:00Z"},
           "spec": {"template": {"spec": {"containers": [{"name": "trainer"}]}}},
           "status": {"active": 1}}  # fmt: skip
    pod = {"metadata": {"name": f"{name}-pod", "ownerReferences": [{"controller": True,
           "uid": f"job-{uid}"}]}, "status": {"phase": "Running"}}  # fmt: skip
    return job, pod


def experiment_body(history: int, algorithm: str, early_stopping: bool) -> Document:
    body = experiment("big", max_trials=history + 10 * ACTIVE, parallel=ACTIVE)
    body["spec"]["algorithm"] = {"name": algorithm, "seed": 1}
    if early_stopping:
        body["spec"]["earlyStopping"] = ASHA
    body["metadata"] |= {"namespace": "team", "uid": "uid-big"}
    body["status"] = {"phase": "Running", "startTime": "2030-01-01T00:00:00Z",
                      "trials": {"created": history + ACTIVE}}  # fmt: skip
    return body


def trials(body: Document, history: int) -> list[Document]:
    """`history` finished trials, then ACTIVE running ones."""
    chance = random.Random(history)
    return [
        _trial(body, index, "Succeeded" if index < history else "Running", chance)
        for index in range(history + ACTIVE)
    ]


def passes(history: int, algorithm: str, early_stopping: bool, folded: bool) -> list[Snapshot]:
    """Two passes' snapshots: before and after one more trial finished."""
    body = experiment_body(history, algorithm, early_stopping)
    documents = trials(body, history + 1)
    finished, running = documents[:history], documents[history + 1 :]
    late = documents[history]  # running at the first pass, finished at the second
    late_running = {**late, "status": {**late["status"], "phase": "Running"}}
    accepted = encode_spec(accepted_part(body["spec"]))
    workloads = {t["metadata"]["name"]: _running_job(t) for t in (late_running, *running)}
    jobs = {name: job for name, (job, _) in workloads.items()}
    pods = {name: [pod] for name, (_, pod) in workloads.items()}
    seen = partial(Snapshot, accepted_spec=accepted, accepted_recorded=True, jobs=jobs, pods=pods)
    if not folded:
        first = (*finished, late_running, *running)
        second = (*finished, late, *running)
        return [seen(body, both) for both in (first, second)]
    log = SettledLog(finished)
    first_view = log.view()
    log.append(late)
    return [
        seen(body, (late_running, *running), settled=first_view),
        seen(body, tuple(running), settled=log.view()),
    ]


def ms_per_pass(history: int, algorithm: str, early_stopping: bool, folded: bool) -> float:
    """The second pass of each of `ROUNDS` fresh experiments (the first fills the memos)."""
    timings = []
    for _ in range(ROUNDS):
        first, second = passes(history, algorithm, early_stopping, folded)
        decide_pass(first, NOW)
        began = time.perf_counter()
        decide_pass(second, NOW)
        timings.append(time.perf_counter() - began)
    return statistics.median(timings) * 1000


ROUNDS = 5


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--histories", default="100,1000,10000")
    parser.add_argument("--algorithms", default="random,bayesian")
    parser.add_argument("--early-stopping", action="store_true", help="ASHA on")
    args = parser.parse_args()
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    rule = "ASHA" if args.early_stopping else "no early stopping"
    print(f"pass_cost: {os.cpu_count()} cores, load average {load}; {ACTIVE} running, {rule}")
    print(f"{'algorithm':<10} {'finished':>8} {'as records':>11} {'folded':>9} {'ratio':>6}")
    for algorithm in args.algorithms.split(","):
        for history in (int(h) for h in args.histories.split(",")):
            before = ms_per_pass(history, algorithm, args.early_stopping, folded=False)
            now = ms_per_pass(history, algorithm, args.early_stopping, folded=True)
            print(f"{algorithm:<10} {history:>8} {before:>8.1f} ms {now:>6.1f} ms "
                  f"{before / now:>5.1f}x", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
