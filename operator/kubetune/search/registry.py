"""The names under which algorithms are chosen in an experiment spec.

`make_suggester` is the one place that maps a name plus settings (the dataclass fields
of each suggester, in snake_case) to an instance, so every caller rejects an unknown
algorithm or setting with the same clear message. The experiment's reference point is
not a setting: it comes from the spec's objectives, and reaches only the algorithms that
search by hypervolume (those with a `reference_point` field).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from kubetune.search.base import Suggester
from kubetune.search.bayesian import BayesianSuggester
from kubetune.search.evolution import EvolutionSuggester
from kubetune.search.grid import GridSuggester
from kubetune.search.random_search import RandomSuggester
from kubetune.search.sobol import SobolSuggester
from kubetune.search.tpe import TpeSuggester

DEFAULT_ALGORITHM = "bayesian"
ALGORITHMS: dict[str, type[Any]] = {
    "grid": GridSuggester,
    "random": RandomSuggester,
    "sobol": SobolSuggester,
    "bayesian": BayesianSuggester,
    "tpe": TpeSuggester,
    "evolution": EvolutionSuggester,
}


REFERENCE = "reference_point"


def settings_of(name: str) -> tuple[str, ...]:
    """The setting names an algorithm accepts."""
    return tuple(f.name for f in dataclasses.fields(_algorithm(name)) if f.name != REFERENCE)


def make_suggester(
    name: str, reference_point: Sequence[float] | None = None, **settings: Any
) -> Suggester:
    """`reference_point`: minimized, one value per objective; None where the spec has none."""
    unknown = sorted(set(settings) - set(settings_of(name)))
    if unknown:
        allowed = ", ".join(settings_of(name)) or "none"
        raise ValueError(f"algorithm {name!r} has no setting {unknown[0]!r} (allowed: {allowed})")
    if reference_point is not None and _uses_reference(name):
        settings[REFERENCE] = tuple(float(value) for value in reference_point)
    suggester: Suggester = _algorithm(name)(**settings)
    return suggester


def _uses_reference(name: str) -> bool:
    return any(f.name == REFERENCE for f in dataclasses.fields(_algorithm(name)))


def _algorithm(name: str) -> type[Any]:
    if name not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {name!r}; choose one of {', '.join(ALGORITHMS)}")
    return ALGORITHMS[name]
