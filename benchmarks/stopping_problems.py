"""The learning curves the early-stopping benchmark replays: the YAHPO Gym LCBench
surrogate (realistic neural-network curves and epoch times from 34 OpenML tasks) and
real scikit-learn MLP training on the digits data set, epoch by epoch.

Every method replays the same queue of configurations; digits models are trained
lazily and cached, so an epoch is trained once however many methods ask for it.
"""

from __future__ import annotations

import contextlib
import io
import time
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from benchmarks.stopping_simulation import TabulatedProblem

LCBENCH_EPOCHS = 52


def lcbench_problem(task: str, configs: int, seed: int, data_path: str) -> TabulatedProblem:
    """Validation error (100 - val_accuracy, in %) per epoch; cost = the surrogate's
    per-epoch time (its `time` is cumulative, so consecutive differences)."""
    error, costs = _lcbench_curves(task, configs, seed, data_path)
    return TabulatedProblem(f"lcbench/{task}", error, costs)


def lcbench_time_problem(task: str, configs: int, seed: int, data_path: str) -> TabulatedProblem:
    """Two conflicting objectives: validation error as above, and the configuration's
    training time for the full budget (the surrogate's `time` at the last epoch; larger
    networks fit better and train slower). The time is a property of the configuration,
    like a model's size or latency, reported with every epoch (a trainer estimates it
    from its throughput). Not the time spent so far: that would make a trial stopped
    early look cheap, and the surrogate's first epoch, about 3x the later ones, would
    make it look expensive."""
    error, costs = _lcbench_curves(task, configs, seed, data_path)
    total = np.broadcast_to(costs.sum(axis=1)[:, None, None], (*costs.shape, 1))
    return TabulatedProblem(f"lcbench/{task}", error, costs, total.copy())


def _lcbench_curves(
    task: str, configs: int, seed: int, data_path: str
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Validation error (%) and seconds per epoch of `configs` seeded random
    configurations, every epoch."""
    bench = _lcbench(task, data_path)
    space = bench.get_opt_space(drop_fidelity_params=True, seed=seed)
    sampled = [dict(config) for config in space.sample_configuration(configs)]
    queries = [
        {**config, "epoch": epoch} for config in sampled for epoch in range(1, LCBENCH_EPOCHS + 1)
    ]
    results = bench.objective_function(queries)
    accuracy = np.array([r["val_accuracy"] for r in results]).reshape(configs, -1)
    elapsed = np.array([r["time"] for r in results]).reshape(configs, -1)
    # The surrogate's cumulative time can wobble down; running max keeps costs >= 0.
    costs = np.diff(np.maximum.accumulate(elapsed, axis=1), axis=1, prepend=0.0)
    return 100.0 - accuracy, costs


def _lcbench(task: str, data_path: str) -> Any:
    from yahpo_gym import benchmark_set, local_config

    local_config.init_config()
    local_config.set_data_path(data_path)
    with contextlib.redirect_stdout(io.StringIO()):  # a citation notice on every load
        return benchmark_set.BenchmarkSet("lcbench", instance=task)


class DigitsProblem:
    """Validation error (%) of an MLP trained with partial_fit, one pass per epoch; cost
    is the measured wall time of each epoch ("wall") or 1 per epoch ("epochs")."""

    def __init__(self, epochs: int, seed: int, cost: str) -> None:
        self.name, self.max_epochs, self.seed, self.cost_model = "digits-mlp", epochs, seed, cost
        features, labels = load_digits(return_X_y=True)
        train_x, val_x, self.train_y, self.val_y = train_test_split(
            features, labels, test_size=0.25, stratify=labels, random_state=0
        )
        scaler = StandardScaler().fit(train_x)
        self.train_x, self.val_x = scaler.transform(train_x), scaler.transform(val_x)
        self.models: dict[int, MLPClassifier] = {}
        self.values: dict[int, list[float]] = {}
        self.costs: dict[int, list[float]] = {}

    def value(self, config: int, epoch: int) -> float:
        self._train_until(config, epoch)
        return self.values[config][epoch]

    def cost(self, config: int, epoch: int) -> float:
        self._train_until(config, epoch)
        return self.costs[config][epoch]

    def objectives(self, config: int, epoch: int) -> tuple[float, ...]:
        return (self.value(config, epoch),)

    def _train_until(self, config: int, epoch: int) -> None:
        model = self.models.setdefault(
            config, _random_mlp(np.random.default_rng([self.seed, config]))
        )
        values, costs = self.values.setdefault(config, []), self.costs.setdefault(config, [])
        while len(values) <= epoch:
            start = time.perf_counter()
            model.partial_fit(self.train_x, self.train_y, classes=np.arange(10))
            costs.append(time.perf_counter() - start if self.cost_model == "wall" else 1.0)
            values.append(100.0 * (1.0 - model.score(self.val_x, self.val_y)))


def _random_mlp(rng: np.random.Generator) -> MLPClassifier:
    """Log-uniform draws over a space where bad choices (tiny or huge learning rates,
    heavy regularization) are common, as in real tuning spaces."""
    return MLPClassifier(
        hidden_layer_sizes=(int(np.exp(rng.uniform(np.log(8), np.log(256)))),),
        learning_rate_init=float(np.exp(rng.uniform(np.log(1e-5), np.log(1e-1)))),
        alpha=float(np.exp(rng.uniform(np.log(1e-6), np.log(1.0)))),
        batch_size=int(np.exp(rng.uniform(np.log(16), np.log(512)))),
        solver=str(rng.choice(["sgd", "adam"])),
        momentum=float(rng.uniform(0.0, 0.99)),
        random_state=int(rng.integers(2**31)),
    )
