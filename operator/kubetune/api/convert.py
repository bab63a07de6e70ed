"""Entry points from YAML documents into the models, and from the models into the
search package: the search space and the keyword settings of the factories.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from kubetune.api.algorithm import AlgorithmSpec
from kubetune.api.errors import SpecError, format_errors
from kubetune.api.experiment import TuningExperiment, TuningExperimentSpec
from kubetune.api.params import (
    CategoricalParameter,
    DiscreteParameter,
    FloatParameter,
    IntParameter,
    Parameter,
)
from kubetune.api.stopping import EarlyStoppingSpec
from kubetune.api.trial import TuningTrial
from kubetune.search.space import (
    CategoricalParam,
    DiscreteParam,
    FloatParam,
    IntParam,
    Param,
    SearchSpace,
)

# The API server decodes a JSON number as an int64 whenever it is a whole number in range.
_INT64_LIMIT = 2**63


def as_sent_by_kubectl(value: Any) -> Any:
    """`value` with whole floats turned into ints, as they reach the API server.

    kubectl sends YAML's `maxTrials: 20.0` as the JSON number 20, which an integer field
    accepts, and a cluster's operator reads it back as 20. Local mode sees the same number,
    so the strict models accept and reject alike in both runtimes.
    """
    if isinstance(value, dict):
        return {key: as_sent_by_kubectl(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_sent_by_kubectl(item) for item in value]
    if isinstance(value, float) and value.is_integer() and abs(value) < _INT64_LIMIT:
        return int(value)
    return value


def parse_experiment(doc: dict[str, Any]) -> TuningExperiment:
    """Validate a TuningExperiment document; SpecError names every bad field.

    The one entry point for user input (local mode) and stored objects (the operator):
    both get the API server's strict validation of the spec.
    """
    if not isinstance(doc, dict):
        raise SpecError([f"document must be a mapping, got {type(doc).__name__}"])
    try:
        return TuningExperiment.model_validate(as_sent_by_kubectl(doc))
    except ValidationError as error:
        raise SpecError(format_errors(error)) from None


def parse_trial(doc: dict[str, Any]) -> TuningTrial:
    """Validate a TuningTrial document; SpecError names every bad field."""
    try:
        return TuningTrial.model_validate(doc)
    except ValidationError as error:
        raise SpecError(format_errors(error)) from None


def _to_param(parameter: Parameter) -> Param:
    log = getattr(parameter, "scale", "linear") == "log"
    match parameter:
        case FloatParameter():
            return FloatParam(parameter.name, parameter.min, parameter.max, log)
        case IntParameter():
            return IntParam(parameter.name, parameter.min, parameter.max, log, parameter.step)
        case CategoricalParameter():
            return CategoricalParam(parameter.name, tuple(parameter.values))
        case DiscreteParameter():
            return DiscreteParam(parameter.name, tuple(sorted(parameter.values)))


def to_search_space(spec: TuningExperimentSpec) -> SearchSpace:
    """The search package's view of `spec.parameters`, in the order they are written."""
    return SearchSpace(tuple(_to_param(parameter) for parameter in spec.parameters))


def _settings(model: BaseModel, tag: str) -> tuple[str, dict[str, Any]]:
    """(tag value, snake_case settings) of a tagged spec model, without the tag itself."""
    settings = model.model_dump(by_alias=False)
    return settings.pop(tag), settings


def suggester_settings(algorithm: AlgorithmSpec) -> tuple[str, dict[str, Any]]:
    """(name, kwargs) for `make_suggester`; the seed is passed per call, not here."""
    name, settings = _settings(algorithm, "name")
    settings.pop("seed")
    return name, settings


def stopping_settings(early_stopping: EarlyStoppingSpec) -> tuple[str, dict[str, Any]]:
    """(rule, kwargs) for `make_stopping_rule`."""
    return _settings(early_stopping, "rule")
