"""Katib's `spec.algorithm`, `spec.earlyStopping` and trial counts as kubetune's
algorithm, earlyStopping and limits.

Katib has more algorithms than kubetune; each becomes the nearest of kubetune's, with a
note where the nearest differs. Katib's hyperband is a search that halves trials, which
in kubetune is random search plus the hyperband stopping rule.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from kubetune.api import (
    BayesianAlgorithm,
    EvolutionAlgorithm,
    GridAlgorithm,
    RandomAlgorithm,
    SobolAlgorithm,
    TpeAlgorithm,
)
from kubetune.convert.findings import Findings
from kubetune.convert.katib_space import number

Document = dict[str, Any]
NEAREST_ALGORITHM = {
    "random": "random",
    "grid": "grid",
    "sobol": "sobol",
    "bayesianoptimization": "bayesian",
    "tpe": "tpe",
    "multivariate-tpe": "tpe",
    "cmaes": "evolution",
    "pbt": "evolution",
    "hyperband": "random",
}
_HOW_THE_NEAREST_DIFFERS = {
    "multivariate-tpe": "kubetune's tpe models each parameter on its own",
    "cmaes": "kubetune's evolution is a tournament of mutations, not CMA-ES",
    "pbt": "kubetune's evolution starts each trial afresh: no weights are inherited",
    "hyperband": "trials sampled at random, halved by earlyStopping rule hyperband",
}
_MODELS: dict[str, type[BaseModel]] = {
    "grid": GridAlgorithm,
    "random": RandomAlgorithm,
    "sobol": SobolAlgorithm,
    "bayesian": BayesianAlgorithm,
    "tpe": TpeAlgorithm,
    "evolution": EvolutionAlgorithm,
}
# Katib's setting names (its Optuna, skopt and goptuna suggestions) -> kubetune's fields.
_SETTINGS = {
    "random_state": "seed",
    "n_initial_points": "initialTrials",
    "n_startup_trials": "initialTrials",
    "n_ei_candidates": "candidates",
    "n_population": "populationSize",
}
_MEDIAN_SETTINGS = {"min_trials_required": "minTrials", "start_step": "warmupSteps"}
_LIMITS = {
    "maxTrialCount": "maxTrials",
    "parallelTrialCount": "parallelTrials",
    "maxFailedTrialCount": "maxFailedTrials",
}


def settings_of(section: Document) -> dict[str, str]:
    """Katib's `[{name, value}]` settings list as a mapping."""
    return {
        str(item.get("name")): item.get("value") for item in section.get("algorithmSettings") or []
    }


def convert_algorithm(algorithm: Document, findings: Findings) -> Document:
    """kubetune's `spec.algorithm` for Katib's, with the settings kubetune has."""
    katib_name = algorithm.get("algorithmName")
    if katib_name not in NEAREST_ALGORITHM:
        known = ", ".join(NEAREST_ALGORITHM)
        findings.refuse("spec.algorithm.algorithmName", f"{katib_name!r}; supported: {known}")
        return {}
    name = NEAREST_ALGORITHM[katib_name]
    if katib_name in _HOW_THE_NEAREST_DIFFERS:
        findings.drop(
            "spec.algorithm.algorithmName",
            f"{katib_name} -> {name}: {_HOW_THE_NEAREST_DIFFERS[katib_name]}",
        )
    converted: Document = {"name": name}
    if katib_name != "hyperband":  # its settings belong to the stopping rule
        converted.update(_settings(algorithm, name, findings))
    return converted


def _settings(algorithm: Document, name: str, findings: Findings) -> Document:
    """The Katib settings that have a kubetune field in algorithm `name`."""
    accepted = {field.alias for field in _MODELS[name].model_fields.values()}
    converted = {}
    for key, value in settings_of(algorithm).items():
        where = f"spec.algorithm.algorithmSettings[{key}]"
        if _SETTINGS.get(key) in accepted:
            converted[_SETTINGS[key]] = number(value, where, findings)
        else:
            findings.drop(where, f"kubetune's {name} has no such setting")
    return converted


def convert_hyperband(algorithm: Document, findings: Findings) -> tuple[Document, str | None]:
    """(the hyperband stopping rule, the name of Katib's resource parameter, if any)."""
    settings = settings_of(algorithm)
    where = "spec.algorithm.algorithmSettings"
    if "r_l" not in settings:
        findings.refuse(f"{where}[r_l]", "required: it becomes earlyStopping.maxResource")
        return {}, None
    rule: Document = {
        "rule": "hyperband",
        "maxResource": number(settings.get("r_l"), f"{where}[r_l]", findings),
    }
    if "eta" in settings:
        rule["reductionFactor"] = number(settings["eta"], f"{where}[eta]", findings)
    return rule, settings.get("resource_name")


def convert_early_stopping(stopping: Document, findings: Findings) -> Document:
    """Katib's medianstop as kubetune's median rule."""
    if stopping.get("algorithmName") != "medianstop":
        name = stopping.get("algorithmName")
        findings.refuse("spec.earlyStopping.algorithmName", f"{name!r}; supported: medianstop")
        return {}
    rule: Document = {"rule": "median"}
    for key, value in settings_of(stopping).items():
        where = f"spec.earlyStopping.algorithmSettings[{key}]"
        if key in _MEDIAN_SETTINGS:
            rule[_MEDIAN_SETTINGS[key]] = number(value, where, findings)
        else:
            findings.drop(where, "no such setting in kubetune's median rule")
    return rule


def convert_limits(spec: Document) -> Document:
    """maxTrialCount, parallelTrialCount, maxFailedTrialCount, where given."""
    return {ours: spec[katib] for katib, ours in _LIMITS.items() if spec.get(katib) is not None}
