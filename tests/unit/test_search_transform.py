"""The shared unit-cube transform: every algorithm's validity rests on it."""

from __future__ import annotations

import numpy as np
import pytest

from kubetune.search.space import (
    CategoricalParam,
    DiscreteParam,
    FloatParam,
    IntParam,
    SearchSpace,
)
from kubetune.search.transform import SpaceTransform

SPACE = SearchSpace(
    (
        FloatParam("lr", 1e-4, 1.0, log=True),
        IntParam("epochs", 10, 50, step=10),
        IntParam("width", 1, 1000, log=True),
        CategoricalParam("act", ("relu", "tanh", "gelu")),
        DiscreteParam("batch", (64.0, 16.0, 32.0)),
    )
)


def test_encode_then_decode_returns_the_assignment() -> None:
    transform = SpaceTransform(SPACE)
    original = {"lr": 0.01, "epochs": 30, "width": 17, "act": "gelu", "batch": 16.0}
    (decoded,) = transform.decode(transform.encode([original]))
    assert decoded == pytest.approx(original) and decoded["act"] == "gelu"
    assert 0.49 < transform.encode([original])[0, 0] < 0.51  # log axis: 1e-2 is mid-way


def test_uniform_points_give_each_int_value_an_equal_share() -> None:
    transform = SpaceTransform(SearchSpace((IntParam("k", 0, 20, step=10),)))
    values = [a["k"] for a in transform.decode(np.random.default_rng(0).random((3000, 1)))]
    counts = np.array([values.count(v) for v in (0, 10, 20)])
    assert counts.min() > 900 and set(values) == {0, 10, 20}


def test_snapping_moves_points_onto_allowed_values() -> None:
    transform = SpaceTransform(SPACE)
    rows = transform.sample(np.random.default_rng(1), 200)
    assert np.allclose(transform.snap(rows), rows)
    for params in transform.decode(rows):
        assert params["epochs"] in (10, 20, 30, 40, 50) and type(params["width"]) is int
        assert params["batch"] in (16.0, 32.0, 64.0) and 1e-4 <= params["lr"] <= 1.0


def test_one_hot_expands_only_categorical_columns() -> None:
    transform = SpaceTransform(SPACE)
    rows = transform.encode([{"lr": 1.0, "epochs": 10, "width": 1, "act": "tanh", "batch": 64.0}])
    features = transform.one_hot(rows)
    assert features.shape == (1, 4 + 3)
    assert features[0, 3:6].tolist() == [0.0, 1.0, 0.0]


def test_cardinality_and_grid_axes() -> None:
    transform = SpaceTransform(SPACE)
    assert transform.cardinality is None
    assert SpaceTransform(SearchSpace(SPACE.params[1:2] + SPACE.params[3:])).cardinality == 45
    assert len(transform.axis(0, 4)) == 4 and len(transform.axis(3, 2)) == 3


def test_unknown_category_is_named_in_the_error() -> None:
    with pytest.raises(ValueError, match="'swish'"):
        SpaceTransform(SPACE).encode(
            [{"lr": 0.1, "epochs": 10, "width": 3, "act": "swish", "batch": 16.0}]
        )
