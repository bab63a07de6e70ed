"""Discrete parameters: random and Sobol draws pick every listed value equally often.

Each space pairs the discrete column with a float, so the suggesters can hand out
thousands of distinct points and the counts reflect their draws, not deduplication.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import chisquare

from kubetune.search.registry import make_suggester
from kubetune.search.space import DiscreteParam, FloatParam, SearchSpace
from kubetune.search.transform import SpaceTransform

BATCHES = (32, 64, 128)
POWERS_OF_TWO = tuple(2**k for k in range(4, 10))  # 16, 32, ..., 512
DRAWS = {"random": 4000, "sobol": 4096}
# A true uniform draw fails this with probability 1e-3; the old gap-proportional axis
# gave chi-square p-values below 1e-50 for both lists.
SIGNIFICANCE = 1e-3


def value_counts(values: tuple[int, ...], algorithm: str) -> list[int]:
    space = SearchSpace((DiscreteParam("batch", values), FloatParam("x", 0.0, 1.0)))
    suggestion = make_suggester(algorithm).suggest(space, [], [], DRAWS[algorithm], seed=11)
    drawn = [params["batch"] for params in suggestion.assignments]
    assert len(drawn) == DRAWS[algorithm] and set(drawn) == set(values)
    return [drawn.count(v) for v in values]


@pytest.mark.parametrize("algorithm", sorted(DRAWS))
@pytest.mark.parametrize("values", [BATCHES, POWERS_OF_TWO, (512, 16, 128, 32, 256, 64)])
def test_every_value_gets_an_equal_share(values: tuple[int, ...], algorithm: str) -> None:
    counts = value_counts(values, algorithm)
    share = np.array(counts) / sum(counts)
    assert chisquare(counts).pvalue > SIGNIFICANCE, share
    assert np.all(np.abs(share - 1 / len(values)) < 0.03), share


def test_sobol_shares_are_balanced_to_within_a_draw_or_two() -> None:
    counts = value_counts(POWERS_OF_TWO, "sobol")
    assert max(counts) - min(counts) <= 2 * len(POWERS_OF_TWO), counts


def test_values_sit_at_evenly_spaced_ranks_whatever_their_spacing() -> None:
    transform = SpaceTransform(SearchSpace((DiscreteParam("batch", (512, 16, 64)),)))
    column = transform.encode([{"batch": v} for v in (16, 64, 512)])[:, 0]
    assert column.tolist() == pytest.approx([1 / 6, 3 / 6, 5 / 6])
    assert [a["batch"] for a in transform.decode(column[:, None])] == [16, 64, 512]


def test_an_unlisted_number_lands_between_its_listed_neighbours() -> None:
    transform = SpaceTransform(SearchSpace((DiscreteParam("batch", (16, 32, 64)),)))
    column = transform.encode([{"batch": 48}, {"batch": 1000}])[:, 0]
    assert column.tolist() == pytest.approx([2 / 3, 5 / 6])
