"""The trainer of the parity suite: one script whose behaviour each scenario picks with
the MODE environment variable, run unchanged by local mode and by trial pods.

It reports ``score = quality(x) * (1 - 0.5**step)`` at steps 1..N, so every decision
(the best trial, which trials early stopping ends, when a target is reached) is known in
advance and cannot depend on which runtime ran it. With ``--overfit`` the last step
falls, most for the best x, so only a `max` strategy still finds the best trial. With
``--cost`` it also reports ``cost = x + 1``, a second objective that trades off against
the score left of x = 0.3. MODE
``katib`` logs Katib-style lines (``INFO:root:score=1.5`` on stderr, no step).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time

from kubetune.reporting import report


def quality(x: float) -> float:
    """Best at x = 0.3; always positive on [-1, 1]."""
    return 2.0 - (x - 0.3) ** 2


def overfit_drop(x: float) -> float:
    """How much the last step loses: 2 at the best x, less the farther x is from it."""
    return 2.0 * (1 - abs(x - 0.3))


def score_at(x: float, step: int, overfit: bool) -> float:
    """The learning curve; overfitting, every step after the second falls below it."""
    if overfit and step > 2:
        return quality(x) * 0.75 - overfit_drop(x)
    return quality(x) * (1 - 0.5**step)


def emit(mode: str, step: int, score: float, extra: dict[str, float]) -> None:
    if mode == "print":  # the line protocol only: no SDK, no metrics file
        print(f"kubetune metric score={score!r} step={step}", flush=True)
    elif mode == "katib":  # read through spec.trial.metricsFormat
        logging.info("score=%r", score)
    else:
        report(step=step, score=score, **extra)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--x", type=float, required=True)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--step-seconds", type=float, default=0.2)
    parser.add_argument("--overfit", action="store_true")
    parser.add_argument("--cost", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    mode = os.environ.get("MODE", "sdk")
    if mode == "silent":
        print("training... done, but forgot to report", flush=True)
        return
    if mode == "crash":
        print("RuntimeError: CUDA out of memory (pretend)", file=sys.stderr)
        sys.exit(3)
    for step in range(1, args.steps + 1):
        time.sleep(args.step_seconds)
        diverged = mode == "nan" and step > 1
        score = float("nan") if diverged else score_at(args.x, step, args.overfit)
        emit(mode, step, score, {"cost": args.x + 1.0} if args.cost else {})
    time.sleep(args.step_seconds)


if __name__ == "__main__":
    main()
