"""A small neural network on scikit-learn's bundled digits, trained one epoch at a time.

It reports val_accuracy after every epoch (``step=epoch``), which is what early-stopping
rules (median, ASHA) need to stop a losing trial before it has used its whole budget.
Parameters come as command-line options (``--alpha=${alpha}`` in the experiment YAML) or,
when an option is left out, from KUBETUNE_PARAM_<NAME> environment variables.
"""

from __future__ import annotations

import argparse
import os
import warnings


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


def whole_number(text: str) -> int:
    """Discrete parameters may arrive as "64.0": accept any integral number."""
    return int(float(text))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=whole_number, default=param("epochs", "20"))
    parser.add_argument(
        "--learning-rate-init", type=float, default=param("learning_rate_init", "0.001")
    )
    parser.add_argument("--alpha", type=float, default=param("alpha", "0.0001"))
    parser.add_argument(
        "--hidden", default=param("hidden", "64"), help="layer sizes, e.g. 64 or 128,64"
    )
    parser.add_argument("--batch-size", type=whole_number, default=param("batch_size", "64"))
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier

    features, labels = load_digits(return_X_y=True)
    train_x, val_x, train_y, val_y = train_test_split(
        features / 16.0, labels, test_size=0.3, stratify=labels, random_state=0
    )
    model = MLPClassifier(
        hidden_layer_sizes=tuple(int(size) for size in str(args.hidden).split(",")),
        learning_rate_init=args.learning_rate_init,
        alpha=args.alpha,
        batch_size=args.batch_size,
        random_state=0,
    )
    classes = np.unique(labels)
    for epoch in range(1, args.epochs + 1):
        with warnings.catch_warnings():  # huge learning rates overflow: that is the point
            warnings.simplefilter("ignore")
            model.partial_fit(train_x, train_y, classes=classes)
        report(step=epoch, val_accuracy=float(model.score(val_x, val_y)))


if __name__ == "__main__":
    main()
