"""The parameter types a search space is made of.

Suggesters never branch on these types: the shared transform (see `transform`) maps
every assignment into the unit cube and back. This module only names the types, so that
the API layer can build a space without knowing any algorithm.
"""

from __future__ import annotations

from dataclasses import dataclass

Value = float | int | str
Assignment = dict[str, Value]


@dataclass(frozen=True)
class FloatParam:
    name: str
    low: float
    high: float
    log: bool = False


@dataclass(frozen=True)
class IntParam:
    name: str
    low: int
    high: int
    log: bool = False
    step: int = 1


@dataclass(frozen=True)
class CategoricalParam:
    name: str
    choices: tuple[str, ...]


@dataclass(frozen=True)
class DiscreteParam:
    """An explicit, sorted list of numbers (e.g. batch sizes 16, 32, 64)."""

    name: str
    values: tuple[float, ...]


Param = FloatParam | IntParam | CategoricalParam | DiscreteParam


@dataclass(frozen=True)
class SearchSpace:
    params: tuple[Param, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)
