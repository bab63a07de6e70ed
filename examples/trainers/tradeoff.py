"""A tiny trainer with a trade-off: a wider model is more accurate but slower and larger.

It stands in for a real network so that examples/multi-objective.yaml runs in seconds
anywhere: accuracy rises with width and with epochs, latency_ms and memory_mb grow with
width, and dropout away from 0.2 costs accuracy. It reports all three metrics after every
epoch (``step=epoch``), through the kubetune SDK where installed, else as printed lines.
"""

from __future__ import annotations

import argparse
import math
import os


def param(name: str, default: str) -> str:
    return os.environ.get(f"KUBETUNE_PARAM_{name.upper()}", default)


def report(step: int, **metrics: float) -> None:
    try:
        from kubetune.reporting import report as sdk_report
    except ImportError:
        pairs = " ".join(f"{name}={value!r}" for name, value in metrics.items())
        print(f"kubetune metric {pairs} step={step}", flush=True)
    else:
        sdk_report(step, **metrics)


def accuracy(width: float, dropout: float, epoch: int, epochs: int) -> float:
    """Saturates with width; each epoch closes part of the remaining gap."""
    ceiling = 0.99 - 0.6 / math.sqrt(width) - 0.4 * (dropout - 0.2) ** 2
    return ceiling * (1 - 0.5 ** (epoch * 4 / epochs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--width", type=float, default=float(param("width", "64")))
    parser.add_argument("--dropout", type=float, default=float(param("dropout", "0.2")))
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    latency_ms = 0.5 + 0.02 * args.width
    memory_mb = 4.0 * args.width
    for epoch in range(1, args.epochs + 1):
        value = accuracy(args.width, args.dropout, epoch, args.epochs)
        report(epoch, accuracy=value, latency_ms=latency_ms, memory_mb=memory_mb)


if __name__ == "__main__":
    main()
