"""A PyTorch MLP on scikit-learn's bundled digits, reporting val_accuracy every epoch.

It runs on the GPU a trial is given (CUDA when available, else CPU), so the same
experiment works on a GPU node and on a laptop. torch is imported lazily: without it
the script exits with a message saying how to get it, instead of a bare ImportError.
Parameters come as options (``--lr=${lr}``) or KUBETUNE_PARAM_<NAME> variables.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any


def param(name: str, default: str) -> str:
    return os.environ.get(f"KUBETUNE_PARAM_{name.upper()}", default)


def report(step: int, **metrics: float) -> None:
    """The kubetune SDK where installed (it also writes the metrics file the reporter
    sidecar reads), else the line protocol on stdout."""
    try:
        from kubetune.reporting import report as sdk_report
    except ImportError:
        pairs = " ".join(f"{name}={value!r}" for name, value in metrics.items())
        print(f"kubetune metric {pairs} step={step}", flush=True)
    else:
        sdk_report(step, **metrics)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=int(param("epochs", "20")))
    parser.add_argument("--lr", type=float, default=float(param("lr", "0.01")))
    parser.add_argument("--hidden", type=int, default=int(param("hidden", "64")))
    parser.add_argument("--dropout", type=float, default=float(param("dropout", "0.1")))
    parser.add_argument("--batch-size", type=int, default=int(param("batch_size", "64")))
    parser.add_argument("--seed", type=int, default=int(param("seed", "0")))
    return parser.parse_args()


def import_torch() -> Any:
    try:
        import torch
    except ImportError:
        sys.exit(
            "torch_mlp.py needs PyTorch: pip install torch "
            "(or build the trial image with --build-arg WITH_TORCH=1)"
        )
    return torch


def load_digits_tensors(torch: Any, device: Any) -> tuple[Any, Any, Any, Any]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    features, labels = load_digits(return_X_y=True)
    split = train_test_split(
        features / 16.0, labels, test_size=0.3, stratify=labels, random_state=0
    )
    kinds = (torch.float32, torch.float32, torch.long, torch.long)
    train_x, val_x, train_y, val_y = (
        torch.as_tensor(array, dtype=kind, device=device)
        for array, kind in zip(split, kinds, strict=True)
    )
    return train_x, val_x, train_y, val_y


def build_model(torch: Any, hidden: int, dropout: float) -> Any:
    nn = torch.nn
    return nn.Sequential(
        nn.Linear(64, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, 10)
    )


def train_epoch(torch: Any, model: Any, optimizer: Any, data: tuple[Any, Any], batch: int) -> None:
    features, labels = data
    model.train()
    order = torch.randperm(len(features), device=features.device)
    for start in range(0, len(features), batch):
        chosen = order[start : start + batch]
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(features[chosen]), labels[chosen])
        loss.backward()
        optimizer.step()


def accuracy(torch: Any, model: Any, features: Any, labels: Any) -> float:
    model.eval()
    with torch.no_grad():
        return float((model(features).argmax(dim=1) == labels).float().mean().item())


def main() -> None:
    args = parse_args()
    torch = import_torch()
    torch.manual_seed(args.seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    print(f"training on {device}", file=sys.stderr, flush=True)
    train_x, val_x, train_y, val_y = load_digits_tensors(torch, device)
    model = build_model(torch, args.hidden, args.dropout).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    saved = checkpoint_file()
    done = resume(torch, saved, model, optimizer)
    for epoch in range(done + 1, args.epochs + 1):
        train_epoch(torch, model, optimizer, (train_x, train_y), args.batch_size)
        report(step=epoch, val_accuracy=accuracy(torch, model, val_x, val_y))
        if saved is not None:
            state = {
                "epoch": epoch,
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
            }
            torch.save(state, saved)


def checkpoint_file() -> str | None:
    """Where this trial keeps its checkpoint (KUBETUNE_CHECKPOINT_DIR, set when the
    experiment has spec.trial.checkpointDir), so a preempted trial continues."""
    directory = os.environ.get("KUBETUNE_CHECKPOINT_DIR")
    if not directory:
        return None
    os.makedirs(directory, exist_ok=True)
    return os.path.join(directory, "checkpoint.pt")


def resume(torch: Any, saved: str | None, model: Any, optimizer: Any) -> int:
    """The last epoch a checkpoint holds (0 without one), its state loaded."""
    if saved is None or not os.path.exists(saved):
        return 0
    state = torch.load(saved, map_location="cpu")
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    print(f"resumed after epoch {state['epoch']}", file=sys.stderr, flush=True)
    return int(state["epoch"])


if __name__ == "__main__":
    main()
