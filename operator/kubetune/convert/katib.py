"""A Katib v1beta1 Experiment (kubeflow.org/v1beta1) as a kubetune TuningExperiment.

`convert_katib` returns the converted document and a note for everything it could not
carry over; where no faithful conversion exists (a TFJob trial, neural architecture
search) it raises a `ConversionError` naming each such field, and produces nothing. The
result is checked as `kubetune run` checks a file, so it always validates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubetune.api import GROUP_VERSION, SpecError, parse_experiment
from kubetune.api.yamltext import dump_yaml
from kubetune.convert.findings import Findings
from kubetune.convert.katib_metrics import convert_metrics_collector
from kubetune.convert.katib_search import (
    convert_algorithm,
    convert_early_stopping,
    convert_hyperband,
    convert_limits,
)
from kubetune.convert.katib_space import convert_objective, convert_parameters
from kubetune.convert.katib_trial import convert_trial
from kubetune.planning.placeholders import PlaceholderError, check_template

Document = dict[str, Any]
KATIB_API_VERSION = "kubeflow.org/v1beta1"
KATIB_KIND = "Experiment"
_CONVERTED_FIELDS = {
    "objective",
    "parameters",
    "algorithm",
    "earlyStopping",
    "trialTemplate",
    "maxTrialCount",
    "parallelTrialCount",
    "maxFailedTrialCount",
    "metricsCollectorSpec",
}
_REFUSED_FIELDS = {"nasConfig": "neural architecture search has no kubetune equivalent"}
_DROPPED_FIELDS = {"resumePolicy": "kubetune experiments always resume after a restart"}


@dataclass(frozen=True)
class Conversion:
    """The TuningExperiment, and what was not carried over (`field: why`)."""

    document: Document
    dropped: list[str]

    def to_yaml(self, source: str) -> str:
        """The experiment as YAML, the dropped fields listed in comments at the top."""
        header = [f"# Converted from the Katib Experiment {source} by `kubetune convert katib`."]
        if self.dropped:
            header.append("# Not carried over (review before applying):")
            header += [f"#   - {entry}" for entry in self.dropped]
        return "\n".join(header) + "\n" + dump_yaml(self.document)


def convert_katib(document: Document) -> Conversion:
    """The TuningExperiment for a Katib Experiment; ConversionError lists what cannot be."""
    findings = Findings()
    _check_kind(document, findings)
    findings.raise_if_refused()
    converted = _experiment(document, findings)
    findings.raise_if_refused()
    _validate(converted, findings)
    findings.raise_if_refused()
    return Conversion(converted, findings.dropped)


def _check_kind(document: Document, findings: Findings) -> None:
    given = (document.get("apiVersion"), document.get("kind"))
    if given != (KATIB_API_VERSION, KATIB_KIND):
        expected = f"apiVersion {KATIB_API_VERSION}, kind {KATIB_KIND}"
        findings.refuse("apiVersion/kind", f"expected {expected}, got {given[0]}, {given[1]}")


def _experiment(document: Document, findings: Findings) -> Document:
    spec = document.get("spec") or {}
    metadata = document.get("metadata") or {}
    _check_fields(spec, findings)
    return {
        "apiVersion": GROUP_VERSION,
        "kind": "TuningExperiment",
        "metadata": {key: metadata[key] for key in ("name", "namespace") if key in metadata},
        "spec": _spec(spec, findings),
    }


def _spec(spec: Document, findings: Findings) -> Document:
    objective = convert_objective(spec.get("objective") or {}, findings)
    parameters, names = convert_parameters(spec.get("parameters") or [], findings)
    stopping, fixed = _stopping(spec, findings)
    trial, job_limits = convert_trial(spec.get("trialTemplate") or {}, names, fixed, findings)
    if formats := convert_metrics_collector(spec, str(objective.get("metric")), findings):
        trial["metricsFormat"] = formats
    untuned = {names.get(name) for name in fixed}
    converted = {
        "objective": objective,
        "parameters": [p for p in parameters if p["name"] not in untuned],
        "algorithm": convert_algorithm(spec.get("algorithm") or {}, findings),
        "earlyStopping": stopping,
        "limits": {**convert_limits(spec), **job_limits},
        "trial": trial,
    }
    return {key: value for key, value in converted.items() if value}


def _stopping(spec: Document, findings: Findings) -> tuple[Document, dict[str, str]]:
    """(kubetune's earlyStopping, Katib parameter -> the value it is fixed at): from
    Katib's hyperband algorithm, or from its earlyStopping section."""
    stopping, fixed = _halving(spec.get("algorithm") or {}, findings)
    if not spec.get("earlyStopping"):
        return stopping, fixed
    if stopping:
        findings.refuse("spec.earlyStopping", "hyperband already stops trials early")
    return convert_early_stopping(spec["earlyStopping"], findings), fixed


def _halving(algorithm: Document, findings: Findings) -> tuple[Document, dict[str, str]]:
    """Katib's hyperband as kubetune's stopping rule. Its resource parameter (epochs, say)
    is no longer tuned: trials run to maxResource and report `step`, and the template's
    references to it become that number."""
    if algorithm.get("algorithmName") != "hyperband":
        return {}, {}
    rule, resource = convert_hyperband(algorithm, findings)
    if resource is None:
        return rule, {}
    findings.drop(
        f"spec.parameters[{resource}]",
        f"hyperband's resource, fixed at {rule['maxResource']}: the trainer reports `step`",
    )
    return rule, {resource: str(rule["maxResource"])}


def _check_fields(spec: Document, findings: Findings) -> None:
    for field in spec:
        if field in _REFUSED_FIELDS:
            findings.refuse(f"spec.{field}", _REFUSED_FIELDS[field])
        elif field in _DROPPED_FIELDS:
            findings.drop(f"spec.{field}", _DROPPED_FIELDS[field])
        elif field not in _CONVERTED_FIELDS:
            findings.drop(f"spec.{field}", "not a Katib v1beta1 field kubetune knows")


def _validate(converted: Document, findings: Findings) -> None:
    """The checks the operator makes before any trial (schema, rules, placeholders), so a
    converted experiment is never one that kubetune refuses."""
    try:
        experiment = parse_experiment(converted)
        names = [parameter.name for parameter in experiment.spec.parameters]
        check_template(experiment.spec.trial.template, names)
    except (SpecError, PlaceholderError) as error:
        findings.refuse("the converted experiment", str(error))
