"""Pydantic models of the TuningExperiment and TuningTrial resources, and the CRD YAML
generated from them.

Everything other packages need is exported here; the modules behind it may move.
"""

from kubetune.api.algorithm import (
    ALGORITHM_NAMES,
    AlgorithmSpec,
    BayesianAlgorithm,
    EvolutionAlgorithm,
    GridAlgorithm,
    RandomAlgorithm,
    SobolAlgorithm,
    TpeAlgorithm,
)
from kubetune.api.base import API_GROUP, API_VERSION, GROUP_VERSION, dump_resource, rfc3339
from kubetune.api.convert import (
    parse_experiment,
    parse_trial,
    stopping_settings,
    suggester_settings,
    to_search_space,
)
from kubetune.api.errors import SpecError
from kubetune.api.experiment import TuningExperiment, TuningExperimentSpec
from kubetune.api.limits import DURATION_PATTERN, Limits, parse_duration
from kubetune.api.objectives import Constraint, Criteria, Goal, Objective
from kubetune.api.params import (
    CategoricalParameter,
    DiscreteParameter,
    FloatParameter,
    IntParameter,
    Parameter,
)
from kubetune.api.status import (
    MAX_PARETO_TRIALS,
    TERMINAL_PHASES,
    BestTrial,
    Condition,
    ExperimentPhase,
    ParetoFront,
    ParetoTrial,
    TrialCounts,
    TuningExperimentStatus,
)
from kubetune.api.stopping import (
    STOPPING_RULES,
    AshaStopping,
    EarlyStoppingSpec,
    HyperbandStopping,
    MedianStopping,
    NoStopping,
)
from kubetune.api.trial import (
    DEFAULT_STRATEGY,
    MAX_CURVE_POINTS,
    CurvePoint,
    MetricStrategy,
    TrialPhase,
    TuningTrial,
    TuningTrialSpec,
    TuningTrialStatus,
    append_curve_point,
)
from kubetune.api.trialspec import DEFAULT_GPU_RESOURCE, TrialSpec

__all__ = [
    "ALGORITHM_NAMES",
    "API_GROUP",
    "API_VERSION",
    "DEFAULT_GPU_RESOURCE",
    "DEFAULT_STRATEGY",
    "DURATION_PATTERN",
    "GROUP_VERSION",
    "MAX_CURVE_POINTS",
    "MAX_PARETO_TRIALS",
    "STOPPING_RULES",
    "TERMINAL_PHASES",
    "AlgorithmSpec",
    "AshaStopping",
    "BayesianAlgorithm",
    "BestTrial",
    "CategoricalParameter",
    "Condition",
    "Constraint",
    "Criteria",
    "CurvePoint",
    "DiscreteParameter",
    "EarlyStoppingSpec",
    "EvolutionAlgorithm",
    "ExperimentPhase",
    "FloatParameter",
    "Goal",
    "GridAlgorithm",
    "HyperbandStopping",
    "IntParameter",
    "Limits",
    "MedianStopping",
    "MetricStrategy",
    "NoStopping",
    "Objective",
    "Parameter",
    "ParetoFront",
    "ParetoTrial",
    "RandomAlgorithm",
    "SobolAlgorithm",
    "SpecError",
    "TpeAlgorithm",
    "TrialCounts",
    "TrialPhase",
    "TrialSpec",
    "TuningExperiment",
    "TuningExperimentSpec",
    "TuningExperimentStatus",
    "TuningTrial",
    "TuningTrialSpec",
    "TuningTrialStatus",
    "append_curve_point",
    "dump_resource",
    "parse_duration",
    "parse_experiment",
    "parse_trial",
    "rfc3339",
    "stopping_settings",
    "suggester_settings",
    "to_search_space",
]
