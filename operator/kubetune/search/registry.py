"""The names under which algorithms are chosen in an experiment spec.

`make_suggester` is the one place that maps a name plus settings (the dataclass fields
of each suggester, in snake_case) to an instance, so every caller rejects an unknown
algorithm or setting with the same clear message.
"""

from __future__ import annotations

import dataclasses
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


def settings_of(name: str) -> tuple[str, ...]:
    """The setting names an algorithm accepts."""
    return tuple(f.name for f in dataclasses.fields(_algorithm(name)))


def make_suggester(name: str, **settings: Any) -> Suggester:
    unknown = sorted(set(settings) - set(settings_of(name)))
    if unknown:
        allowed = ", ".join(settings_of(name)) or "none"
        raise ValueError(f"algorithm {name!r} has no setting {unknown[0]!r} (allowed: {allowed})")
    suggester: Suggester = _algorithm(name)(**settings)
    return suggester


def _algorithm(name: str) -> type[Any]:
    if name not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {name!r}; choose one of {', '.join(ALGORITHMS)}")
    return ALGORITHMS[name]
