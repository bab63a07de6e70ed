"""A support vector classifier on scikit-learn's bundled digits: the quickstart trainer.

It reports one number, val_accuracy (accuracy on a fixed 30% holdout), in kubetune's line
protocol. Each run takes well under two seconds, so a 20-trial search finishes quickly on
a laptop. Parameters come as command-line options (``--C=${C}`` in the experiment YAML)
or, when an option is left out, from KUBETUNE_PARAM_<NAME> environment variables.
"""

from __future__ import annotations

import argparse
import os


def param(name: str, default: str) -> str:
    return os.environ.get(f"KUBETUNE_PARAM_{name.upper()}", default)


def report(step: int | None = None, **metrics: float) -> None:
    """Use the kubetune SDK where installed (it also writes the metrics file); the plain
    print keeps this script runnable anywhere, since the line protocol is just text."""
    try:
        from kubetune.reporting import report as sdk_report
    except ImportError:
        pairs = " ".join(f"{name}={value!r}" for name, value in metrics.items())
        suffix = "" if step is None else f" step={step}"
        print(f"kubetune metric {pairs}{suffix}", flush=True)
    else:
        sdk_report(step, **metrics)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--C", type=float, default=param("C", "1.0"))
    parser.add_argument("--gamma", type=float, default=param("gamma", "0.001"))
    parser.add_argument("--kernel", default=param("kernel", "rbf"), choices=["rbf", "poly"])
    args = parser.parse_args()

    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.svm import SVC

    features, labels = load_digits(return_X_y=True)
    # A fixed, stratified holdout: every trial is scored on the same images, so the
    # comparison between trials is fair; pixel values scaled to [0, 1].
    train_x, val_x, train_y, val_y = train_test_split(
        features / 16.0, labels, test_size=0.3, stratify=labels, random_state=0
    )
    model = SVC(C=args.C, gamma=args.gamma, kernel=args.kernel).fit(train_x, train_y)
    report(val_accuracy=float(model.score(val_x, val_y)))


if __name__ == "__main__":
    main()
