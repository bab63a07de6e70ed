"""A stand-in trainer for the Katib examples: takes any `--name=value` arguments, and for
each epoch prints `epoch N: loss=... accuracy=...`, the `name=value` metrics that Katib's
StdOut collector reads and that a converted experiment's `metricsFormat` reads too.
`--format=kubetune` prints kubetune's own lines instead (`kubetune metric ... step=N`),
as a trainer does once its Katib collector has no kubetune counterpart.

The loss is a smooth, deterministic function of the arguments, so a search has something
to find and every run of a test sees the same numbers; it takes milliseconds. It falls
each epoch and rises in the last one, as an overfitting model's validation loss does, so
the value a trial records (Katib's best by default) is not its last.
"""

from __future__ import annotations

import math
import sys

OVERFITTING = 1.2  # the last epoch's loss, relative to the curve it would have followed
LINE_FORMATS = {
    "katib": "epoch {step}: loss={loss:.6f} accuracy={accuracy:.6f}",
    "kubetune": "kubetune metric loss={loss:.6f} accuracy={accuracy:.6f} step={step}",
}


def arguments(argv: list[str]) -> dict[str, str]:
    """`--lr=0.01 --num-layers=3` -> {"lr": "0.01", "num-layers": "3"}."""
    pairs = (arg.removeprefix("--").partition("=") for arg in argv if arg.startswith("--"))
    return {name: value for name, _, value in pairs}


def distance(value: str) -> float:
    """How far one argument is from its best: log-distance for numbers, a fixed penalty
    for all categories but the first letters of the alphabet."""
    try:
        number = abs(float(value))
    except ValueError:
        return 0.05 * (ord(value[0].lower()) % 3) if value else 0.1
    return 0.02 * (math.log10(number + 1e-9) + 1.5) ** 2


def loss_at(epoch: int, epochs: int, final: float) -> float:
    """Falls towards `final`, and rises in the last of several epochs."""
    loss = final * (1 + 2 / epoch)
    return loss * OVERFITTING if epoch == epochs > 1 else loss


def main(argv: list[str]) -> None:
    params = arguments(argv)
    epochs = int(params.pop("epochs", "4"))
    line = LINE_FORMATS[params.pop("format", "katib")]
    final = 0.05 + sum(distance(value) for value in params.values())
    for epoch in range(1, epochs + 1):
        loss = loss_at(epoch, epochs, final)
        print(line.format(step=epoch, loss=loss, accuracy=1 / (1 + loss)))
    sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
