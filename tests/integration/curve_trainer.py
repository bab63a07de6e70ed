"""A tiny trainer with a known learning curve, for the metrics-flow test.

It reports ``score = quality * (1 - 0.5**step)`` at steps 1..N through the kubetune SDK
(stdout line + metrics file), so a trial's rank is the same at every step: the
early-stopping rule's decisions and the best trial are known in advance. With
``--print-only`` it only prints the protocol lines, as a trainer in any language would:
no SDK, no metrics file, nothing for the reporter sidecar to send. ``--katib`` logs
Katib-style lines instead (``INFO:root:score=1.5`` on stderr, no step), which only an
experiment's spec.trial.metricsFormat makes count.
"""

from __future__ import annotations

import argparse
import logging
import time

from kubetune.reporting import report


def quality(x: float) -> float:
    """Best at x = 0.3; always positive on [-1, 1]."""
    return 2.0 - (x - 0.3) ** 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--x", type=float, required=True)
    parser.add_argument("--steps", type=int, default=9)
    parser.add_argument("--step-seconds", type=float, default=0.3)
    parser.add_argument("--print-only", action="store_true")
    parser.add_argument("--katib", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    for step in range(1, args.steps + 1):
        time.sleep(args.step_seconds)
        score = quality(args.x) * (1 - 0.5**step)
        if args.katib:
            print(f"epoch {step}: training output a trainer prints anyway", flush=True)
            logging.info("score=%r", score)
        elif args.print_only:
            print(f"epoch {step}: training output a trainer prints anyway", flush=True)
            print(f"kubetune metric score={score!r} step={step}", flush=True)
        else:
            report(step=step, score=score)


if __name__ == "__main__":
    main()
