"""Single-objective `bayesian` suggestions, frozen: changes made for several objectives
must leave them as they were.

Two short seeded runs (unconstrained, and with a constraint) plus a batch with a pending
trial cover the initial design, the model, the axis moves and the kriging believer. The
digest was taken at commit 3a14d58, before the multi-objective reference-point change;
values are rounded to 10 significant digits so that a last-bit difference of another
BLAS does not count, while any change to the algorithm does. A deliberate change to the
single-objective search updates the digest (print `snapshot_text()`'s digest) and says
so in its commit.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

from kubetune.search.base import Observation
from kubetune.search.registry import make_suggester
from kubetune.search.space import (
    Assignment,
    CategoricalParam,
    FloatParam,
    IntParam,
    SearchSpace,
)

SPACE = SearchSpace(
    (
        FloatParam("lr", 1e-4, 1e-1, log=True),
        IntParam("layers", 1, 6),
        FloatParam("x", -2.0, 2.0),
        CategoricalParam("act", ("relu", "gelu", "tanh")),
    )
)
DIGEST = "a6ef9089e0dd27f7590aeb78a6f2ab6a4e29f25a69259b882fb09479b76639a1"


def loss(params: Assignment) -> float:
    lr, layers, x = float(params["lr"]), float(params["layers"]), float(params["x"])
    penalty = 0.2 if params["act"] == "tanh" else 0.0
    return (np.log10(lr) + 2.5) ** 2 + 0.1 * (layers - 3) ** 2 + (x - 0.3) ** 2 + penalty


def run(constrained: bool, trials: int = 16) -> list[Assignment]:
    suggester, history = make_suggester("bayesian"), []
    for _ in range(trials):
        params = suggester.suggest(SPACE, history, [], 1, seed=7).assignments[0]
        violations = (float(params["x"]) - 1.0,) if constrained else ()
        history.append(Observation(params, loss(params), (), violations))
    batch = suggester.suggest(SPACE, history, [history[-1].params], 3, seed=7).assignments
    return [o.params for o in history] + batch


def snapshot_text() -> str:
    def rounded(value: object) -> object:
        return float(f"{value:.10g}") if isinstance(value, float) else value

    runs = [[{k: rounded(v) for k, v in a.items()} for a in run(c)] for c in (False, True)]
    return json.dumps(runs, sort_keys=True)


def test_single_objective_suggestions_are_unchanged() -> None:
    assert hashlib.sha256(snapshot_text().encode()).hexdigest() == DIGEST
