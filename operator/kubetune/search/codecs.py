"""Per-type encoders behind the shared transform: one small class per parameter type.

Each codec maps one parameter's values to positions in [0, 1] and back, and knows how
many distinct values it has. Keeping them apart from `transform` keeps that module about
whole points, and these about single columns.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from kubetune.search.space import (
    CategoricalParam,
    DiscreteParam,
    FloatParam,
    IntParam,
    Param,
    Value,
)

Column = NDArray[np.float64]


class Codec(Protocol):
    name: str
    levels: int  # distinct values; 0 when continuous
    categorical: bool

    def encode(self, values: Sequence[Value]) -> Column: ...
    def decode(self, unit: Column) -> list[Value]: ...
    def snap(self, unit: Column) -> Column: ...
    def positions(self) -> Column: ...


class _Scale:
    """A linear or log axis between two bounds, mapped onto [0, 1]."""

    def __init__(self, low: float, high: float, log: bool) -> None:
        self.log = log
        self.low, self.high = (math.log(low), math.log(high)) if log else (low, high)
        self.width = (self.high - self.low) or 1.0

    def to_unit(self, value: Column) -> Column:
        scaled = np.log(value) if self.log else value
        return np.asarray((scaled - self.low) / self.width, dtype=np.float64)

    def from_unit(self, unit: Column) -> Column:
        scaled = self.low + np.clip(unit, 0.0, 1.0) * self.width
        return np.exp(scaled) if self.log else scaled


def _encode_numbers(scale: _Scale, values: Sequence[Value]) -> Column:
    numbers = np.array(values, dtype=np.float64)
    return np.clip(scale.to_unit(numbers), 0.0, 1.0)


class FloatCodec:
    levels = 0
    categorical = False

    def __init__(self, param: FloatParam) -> None:
        self.name, self.param = param.name, param
        self.scale = _Scale(param.low, param.high, param.log)

    def encode(self, values: Sequence[Value]) -> Column:
        return _encode_numbers(self.scale, values)

    def decode(self, unit: Column) -> list[Value]:
        values = np.clip(self.scale.from_unit(unit), self.param.low, self.param.high)
        return [float(v) for v in values]

    def snap(self, unit: Column) -> Column:
        return np.clip(unit, 0.0, 1.0)

    def positions(self) -> Column:
        return np.linspace(0.0, 1.0, 2)


class IntCodec:
    """Bounds are padded by half a step so that every allowed value is equally likely
    under uniform sampling, on both linear and log scales."""

    categorical = False

    def __init__(self, param: IntParam) -> None:
        self.name, self.param = param.name, param
        self.levels = (param.high - param.low) // param.step + 1
        top = param.low + (self.levels - 1) * param.step
        padded_low = param.low - param.step / 2
        if param.log:  # a log axis needs a positive lower edge
            padded_low = max(padded_low, param.low / 2)
        self.scale = _Scale(padded_low, top + param.step / 2, param.log)

    def _index(self, unit: Column) -> NDArray[np.int64]:
        values = self.scale.from_unit(unit)
        index = np.round((values - self.param.low) / self.param.step)
        return np.asarray(np.clip(index, 0, self.levels - 1), dtype=np.int64)

    def encode(self, values: Sequence[Value]) -> Column:
        return _encode_numbers(self.scale, values)

    def decode(self, unit: Column) -> list[Value]:
        return [int(self.param.low + i * self.param.step) for i in self._index(unit)]

    def snap(self, unit: Column) -> Column:
        values = self.param.low + self._index(unit).astype(np.float64) * self.param.step
        return self.scale.to_unit(values)

    def positions(self) -> Column:
        return self.snap(np.linspace(0.0, 1.0, self.levels))


class _Slices:
    """A column of `levels` values in a fixed order, value i owning the slice
    [i/levels, (i+1)/levels): uniform draws pick every value equally often."""

    levels: int
    ordered: tuple[Value, ...]

    def _slot(self, unit: Column) -> NDArray[np.int64]:
        return np.clip((unit * self.levels).astype(np.int64), 0, self.levels - 1)

    def _centres(self, slot: NDArray[np.int64]) -> Column:
        return (slot.astype(np.float64) + 0.5) / self.levels

    def decode(self, unit: Column) -> list[Value]:
        return [self.ordered[i] for i in self._slot(unit)]

    def snap(self, unit: Column) -> Column:
        return self._centres(self._slot(unit))

    def positions(self) -> Column:
        return self._centres(np.arange(self.levels))


class DiscreteCodec(_Slices):
    """Listed numbers by rank, smallest first: the axis keeps their order for models
    that measure distance (neighbouring values are neighbouring slices), without letting
    wide gaps between values claim a larger share of uniform draws."""

    categorical = False

    def __init__(self, param: DiscreteParam) -> None:
        self.name, self.levels = param.name, len(param.values)
        numbers = np.array(param.values, dtype=np.float64)
        order = np.argsort(numbers, kind="stable")
        self.sorted, self.ordered = numbers[order], tuple(param.values[i] for i in order)

    def encode(self, values: Sequence[Value]) -> Column:
        # Interpolating between ranks also places a number that is no longer listed
        # (a spec edited mid-experiment) between its listed neighbours.
        numbers = np.array(values, dtype=np.float64)
        return np.asarray(np.interp(numbers, self.sorted, self.positions()), dtype=np.float64)


class CategoricalCodec(_Slices):
    """Choices in their written order; `categorical` tells models the order means nothing."""

    categorical = True

    def __init__(self, param: CategoricalParam) -> None:
        self.name, self.levels, self.ordered = param.name, len(param.choices), param.choices
        self.index: dict[Value, int] = {choice: i for i, choice in enumerate(param.choices)}

    def encode(self, values: Sequence[Value]) -> Column:
        unknown = [v for v in values if v not in self.index]
        if unknown:
            raise ValueError(f"{self.name}: {unknown[0]!r} is not one of {list(self.ordered)}")
        return self._centres(np.array([self.index[v] for v in values], dtype=np.int64))


def make_codec(param: Param) -> Codec:
    if isinstance(param, FloatParam):
        return FloatCodec(param)
    if isinstance(param, IntParam):
        return IntCodec(param)
    if isinstance(param, DiscreteParam):
        return DiscreteCodec(param)
    return CategoricalCodec(param)
