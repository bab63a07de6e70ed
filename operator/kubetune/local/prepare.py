"""Read and check an experiment file before anything runs locally.

Every mistake a user can make in the YAML is reported here, with the field it concerns,
before the first trial starts: invalid YAML, a spec the API rejects, a missing name,
a placeholder that names no parameter, a container without a command (local mode runs
the command itself; an image's entrypoint is unknown outside a cluster).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import yaml

from kubetune.api import SpecError, TuningExperiment, parse_experiment
from kubetune.local.kubectl_yaml import load_yaml
from kubetune.planning.jobs import trainer_index
from kubetune.planning.placeholders import CONTAINERS_PATH, PlaceholderError, check_template
from kubetune.planning.workload_support import LOCAL_SUPPORT, workload_problem

NAME_PATTERN = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")  # a DNS label, as in a cluster
PYTHON_NAMES = ("python", "python3")


def load_document(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise SpecError([f"{path}: {error.strerror}"]) from None
    try:
        document = load_yaml(text)
    except yaml.YAMLError as error:
        raise SpecError([f"{path}: invalid YAML: {error}"]) from None
    if not isinstance(document, dict):
        raise SpecError([f"{path}: expected a TuningExperiment mapping"])
    return document


def prepare_experiment(document: dict[str, Any]) -> TuningExperiment:
    """The validated experiment; SpecError names the offending field otherwise."""
    experiment = parse_experiment(document)
    name = experiment.metadata.get("name")
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        detail = "Required value" if name is None else f"invalid name {name!r}"
        raise SpecError([f"metadata.name: {detail} (lowercase letters, digits and '-')"])
    if problem := workload_problem(experiment.spec.trial.workload, LOCAL_SUPPORT):
        raise SpecError([problem])
    template = experiment.spec.trial.template
    position = trainer_index(template["spec"]["containers"])
    if not trainer_command(template["spec"]["containers"][position]):
        where = f"{CONTAINERS_PATH}[{position}].command"
        raise SpecError([f"{where}: Required value: local mode runs this command itself"])
    try:
        check_template(template, [parameter.name for parameter in experiment.spec.parameters])
    except PlaceholderError as error:
        raise SpecError([str(error)]) from None
    return _without_queue(experiment)


def _without_queue(experiment: TuningExperiment) -> TuningExperiment:
    """Kueue admits Jobs on a cluster; local trials are processes that start at once, so
    the same YAML runs here as if spec.trial.queue were unset."""
    spec = experiment.spec
    if spec.trial.queue is None:
        return experiment
    trial = spec.trial.model_copy(update={"queue": None})
    return experiment.model_copy(update={"spec": spec.model_copy(update={"trial": trial})})


def trainer_command(container: dict[str, Any]) -> list[str]:
    """command + args. A bare `python` means the interpreter running kubetune, so a
    virtual environment works without being activated."""
    command = [
        str(part) for part in [*(container.get("command") or []), *(container.get("args") or [])]
    ]
    if command and command[0] in PYTHON_NAMES:
        command[0] = sys.executable
    return command
