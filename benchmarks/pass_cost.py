"""What one reconcile decision costs as an experiment's history grows (issue 13).

The pass's pure part (`planning.pass_decision.decide_pass`) over one experiment with 50
running trials and 100 to 10,000 finished ones, as the operator's informers hand them
over (finished trials unchanged between passes). Two columns: every finished trial parsed
on every pass (as before the finished-record memo), and parsed once (now). The reads are
not in it: since the informers, a pass reads only the experiment from the API server.

    .venv/bin/python -m benchmarks.pass_cost            # about a minute on 2 cores
    .venv/bin/python -m benchmarks.pass_cost --histories 100,1000
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
import tracemalloc
from datetime import UTC, datetime
from typing import Any

from tests.integration.operator_harness import experiment

from kubetune.planning import pass_decision
from kubetune.planning.jobs import build_trial_resource
from kubetune.planning.pass_decision import Snapshot, decide_pass
from kubetune.planning.records import FinishedRecords
from kubetune.planning.spec_changes import accepted_part, encode_spec

Document = dict[str, Any]
ACTIVE = 50
NOW = datetime(2030, 1, 1, tzinfo=UTC)


def _trial(body: Document, index: int, phase: str, chance: random.Random) -> Document:
    params = {"x": chance.uniform(-1, 1), "y": chance.uniform(-1, 1)}
    name = f"big-{index:05d}"
    document = build_trial_resource(body, index, name, params)
    document["metadata"] |= {"uid": f"uid-{index}", "resourceVersion": str(index + 10)}
    curve = [{"step": step, "values": {"score": chance.random()}} for step in range(1, 11)]
    status = {"phase": phase, "jobName": name, "startTime": "2030-01-01T00:00:00Z"}
    if phase == "Succeeded":
        status |= {"metrics": {"score": curve[-1]["values"]["score"]}, "curve": curve}
    document["status"] = status
    return document


def snapshot(history: int, algorithm: str) -> Snapshot:
    """One experiment with `history` finished trials and ACTIVE running ones."""
    body = experiment("big", max_trials=history + 10 * ACTIVE, parallel=ACTIVE)
    body["spec"]["algorithm"] = {"name": algorithm, "seed": 1}
    body["metadata"] |= {"namespace": "team", "uid": "uid-big"}
    total = history + ACTIVE
    body["status"] = {"phase": "Running", "startTime": "2030-01-01T00:00:00Z",
                      "trials": {"created": total}}  # fmt: skip
    chance = random.Random(history)
    trials = tuple(
        _trial(body, index, "Succeeded" if index < history else "Running", chance)
        for index in range(total)
    )
    accepted = encode_spec(accepted_part(body["spec"]))
    return Snapshot(body, trials, accepted_spec=accepted, accepted_recorded=True)


def seconds_per_pass(seen: Snapshot, memo: bool, passes: int) -> float:
    timings = []
    for _ in range(passes):
        if not memo:
            pass_decision._FINISHED_RECORDS = FinishedRecords()  # every trial parsed again
        began = time.perf_counter()
        decide_pass(seen, NOW)
        timings.append(time.perf_counter() - began)
    return statistics.median(timings[1:])  # the first pass fills the memo


def memo_size(seen: Snapshot) -> float:
    """MiB the finished-record memo holds for this experiment."""
    tracemalloc.start()
    pass_decision._FINISHED_RECORDS = FinishedRecords()
    decide_pass(seen, NOW)
    retained = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return retained / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--histories", default="100,1000,10000")
    parser.add_argument("--algorithms", default="random,bayesian")
    parser.add_argument("--passes", type=int, default=5)
    args = parser.parse_args()
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"pass_cost: {os.cpu_count()} cores, load average {load}; {ACTIVE} running trials")
    print(f"{'algorithm':<10} {'finished':>8} {'parse every pass':>17} {'parsed once':>12} "
          f"{'ratio':>6} {'memo MiB':>9}")  # fmt: skip
    for algorithm in args.algorithms.split(","):
        for history in (int(h) for h in args.histories.split(",")):
            seen = snapshot(history, algorithm)
            before = seconds_per_pass(seen, memo=False, passes=args.passes)
            now = seconds_per_pass(seen, memo=True, passes=args.passes)
            memo_mib = memo_size(seen)
            print(f"{algorithm:<10} {history:>8} {before * 1000:>14.1f} ms {now * 1000:>9.1f} ms "
                  f"{before / now:>5.1f}x {memo_mib:>9.1f}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
