"""A PyTorch DistributedDataParallel MLP on scikit-learn's digits, one process per pod of a
JobSet trial (examples/jobset-ddp.yaml), reporting val_accuracy every epoch from rank 0.

Each pod finds its place from what JobSet gives it: the replicated job `workers` has one
Job per replica, so the Job's index (label jobset.sigs.k8s.io/job-index, passed in as
JOB_INDEX) is the rank, WORLD_SIZE is the number of replicas, and rank 0's pod answers at
<jobset>-workers-0-0.<jobset> (JobSet's headless service; the JobSet is named after the
trial, KUBETUNE_TRIAL). NCCL on GPUs, gloo on CPUs. Every rank reports; the operator takes
the reports of the designated pod only (the workload's `reporter`, rank 0 by default). In
local mode it trains alone, a world of one.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

PORT = "29500"


def report(step: int, **metrics: float) -> None:
    """The kubetune SDK where installed, else the line protocol on stdout."""
    try:
        from kubetune.reporting import report as sdk_report
    except ImportError:
        pairs = " ".join(f"{name}={value!r}" for name, value in metrics.items())
        print(f"kubetune metric {pairs} step={step}", flush=True)
    else:
        sdk_report(step, **metrics)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=64)
    return parser.parse_args()


def join_group(torch: Any) -> tuple[int, int]:
    """Rank and world size, once every pod of the trial has joined. Without JOB_INDEX
    (local mode sets no downward-API variable: it runs a JobSet trial as one process), a
    world of one."""
    if "JOB_INDEX" not in os.environ:
        rank, world, leader = 0, 1, "127.0.0.1"
    else:
        rank, world = int(os.environ["JOB_INDEX"]), int(os.environ["WORLD_SIZE"])
        leader = "{0}-workers-0-0.{0}".format(os.environ["KUBETUNE_TRIAL"])
    os.environ.setdefault("MASTER_ADDR", leader)
    os.environ.setdefault("MASTER_PORT", PORT)
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    torch.distributed.init_process_group(backend, rank=rank, world_size=world)
    return rank, world


def main() -> int:
    try:
        import torch
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
    except ImportError as missing:
        print(f"{missing.name} is needed: pip install torch scikit-learn", file=sys.stderr)
        return 2
    args = parse_args()
    rank, world = join_group(torch)
    device = torch.device("cuda", 0) if torch.cuda.is_available() else torch.device("cpu")
    x, y = load_digits(return_X_y=True)
    x_train, x_val, y_train, y_val = train_test_split(x / 16.0, y, test_size=0.25, random_state=0)
    shard = slice(rank, None, world)  # each rank trains on its share of the data
    inputs = torch.tensor(x_train[shard], dtype=torch.float32, device=device)
    labels = torch.tensor(y_train[shard], device=device)
    model = torch.nn.Sequential(
        torch.nn.Linear(64, args.hidden), torch.nn.ReLU(), torch.nn.Linear(args.hidden, 10)
    ).to(device)
    ddp = torch.nn.parallel.DistributedDataParallel(model)
    optimizer = torch.optim.SGD(ddp.parameters(), lr=args.lr)
    val_x = torch.tensor(x_val, dtype=torch.float32, device=device)
    val_y = torch.tensor(y_val, device=device)
    for epoch in range(1, args.epochs + 1):
        for start in range(0, len(inputs), args.batch_size):
            batch = slice(start, start + args.batch_size)
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(ddp(inputs[batch]), labels[batch])
            loss.backward()  # gradients are averaged over every rank here
            optimizer.step()
        with torch.no_grad():
            accuracy = (model(val_x).argmax(1) == val_y).float().mean().item()
        report(epoch, val_accuracy=accuracy)
    torch.distributed.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
