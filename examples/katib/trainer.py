"""A stand-in trainer for the Katib examples: takes any `--name=value` arguments, and for
each epoch prints `kubetune metric loss=... accuracy=... step=N`, the line kubetune reads
where Katib's StdOut collector read `loss=...`.

The loss is a smooth, deterministic function of the arguments, so a search has something
to find and every run of a test sees the same numbers; it takes milliseconds.
"""

from __future__ import annotations

import math
import sys


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


def main(argv: list[str]) -> None:
    params = arguments(argv)
    epochs = int(params.pop("epochs", "4"))
    final = 0.05 + sum(distance(value) for value in params.values())
    for epoch in range(1, epochs + 1):
        loss = final * (1 + 2 / epoch)
        print(f"kubetune metric loss={loss:.6f} accuracy={1 / (1 + loss):.6f} step={epoch}")
    sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
