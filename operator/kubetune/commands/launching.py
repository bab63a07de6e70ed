"""The commands that take an experiment file: ``run`` (locally, or ``--cluster``:
submitted to the cluster for the operator to run), ``run --dry-run`` and ``validate``.

A dry run validates the file as the real run would, then shows what the first trials
would run: the trainer command lines locally, the trial Jobs with ``--cluster``. It asks
the search for those first suggestions exactly as the run does (same seed, no
history), so what it prints is what the run starts with.
"""

from __future__ import annotations

import argparse
import json
import shlex
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from kubetune.api import TuningExperiment, TuningTrial, parse_experiment
from kubetune.commands.sources import connect_cluster
from kubetune.local.describe import describe_params
from kubetune.local.launch import trainer_container
from kubetune.local.prepare import load_document, prepare_experiment, trainer_command
from kubetune.local.trials import new_trial
from kubetune.planning.history import History
from kubetune.planning.jobs import build_trial_job
from kubetune.planning.plan import plan_next
from kubetune.planning.records import TrialRecord
from kubetune.planning.suggest import NewTrial

# The operator's own settings (its ingest URL, the reporter image) decide the sidecar, so
# a dry run from the user's machine shows the Jobs without it, and says so.
SIDECAR_NOTE = (
    "# Each Job as the operator creates it, less the metrics reporter sidecar it adds when\n"
    "# its ingest endpoint is configured (see docs/metrics.md).\n"
)
DRY_RUN_UID = "assigned-by-the-api-server"  # a stored trial's uid, which a dry run lacks


def run(args: argparse.Namespace) -> int:
    document = load_document(Path(args.experiment))
    if args.dry_run:
        return dry_run(args, document)
    return submit(args, document) if args.cluster else run_locally(args, document)


def run_locally(args: argparse.Namespace, document: dict[str, Any]) -> int:
    from kubetune.local.runner import RunOptions, run_experiment

    experiment = prepare_experiment(document)
    finish, _ = run_experiment(experiment, document, RunOptions(root=Path(args.dir)))
    return 0 if finish.succeeded else 1


def validate(args: argparse.Namespace) -> int:
    document = load_document(Path(args.experiment))
    experiment = checked(args, document)
    spec = experiment.spec
    parameters = (
        "1 parameter" if len(spec.parameters) == 1 else f"{len(spec.parameters)} parameters"
    )
    print(
        f"{args.experiment}: valid TuningExperiment {experiment.metadata.get('name')} "
        f"({parameters}, {spec.algorithm.name} search, "
        f"{spec.limits.max_trials} trials, {spec.limits.parallel_trials} at a time)"
    )
    return 0


def checked(args: argparse.Namespace, document: dict[str, Any]) -> TuningExperiment:
    """Locally the runner's checks; on a cluster the API server's too (a dry-run create)."""
    experiment = checked_here(args, document)
    if args.cluster:
        submit_to_cluster(args, document, dry_run=True)
    return experiment


def checked_here(args: argparse.Namespace, document: dict[str, Any]) -> TuningExperiment:
    """What this machine can check: the API's models, and locally the runner's needs too
    (a trainer command: a cluster has the image's entrypoint instead)."""
    return parse_experiment(document) if args.cluster else prepare_experiment(document)


def submit(args: argparse.Namespace, document: dict[str, Any]) -> int:
    checked_here(args, document)
    stored = submit_to_cluster(args, document, dry_run=False)
    name, namespace = stored["metadata"]["name"], stored["metadata"]["namespace"]
    print(f"tuningexperiment {name} created in namespace {namespace}; the operator runs it")
    print(f"follow it with: kubetune status {name} --cluster -n {namespace}")
    return 0


def submit_to_cluster(
    args: argparse.Namespace, document: dict[str, Any], dry_run: bool
) -> dict[str, Any]:
    from kubernetes.client.exceptions import ApiException

    from kubetune.k8s.custom import create_experiment

    try:
        return create_experiment(connect_cluster(), namespace_of(args, document), document,
                                 dry_run=dry_run)  # fmt: skip
    except ApiException as error:  # the server's reason, e.g. a CEL rule naming the field
        raise ValueError(f"the API server refused it: {server_message(error)}") from None


def server_message(error: Any) -> str:
    try:
        return str(json.loads(error.body)["message"])
    except (TypeError, ValueError, KeyError):
        return f"{error.status} {error.reason}"


def namespace_of(args: argparse.Namespace, document: dict[str, Any]) -> str:
    metadata = document.get("metadata") or {}
    return str(metadata.get("namespace") or args.namespace)


def first_trials(experiment: TuningExperiment) -> tuple[NewTrial, ...]:
    """What the run starts with: the planner's steps on an empty history, the next one at
    once while a step launches a full step (as both runtimes do)."""
    name = str(experiment.metadata["name"])
    started: tuple[NewTrial, ...] = ()
    while True:
        pending = tuple(TrialRecord(t.name, t.index, t.params, "Pending") for t in started)
        plan = plan_next(name, experiment.spec, History(pending), timedelta(0))
        started += plan.create
        if not plan.full_step:
            return started


def dry_run(args: argparse.Namespace, document: dict[str, Any]) -> int:
    experiment = checked_here(args, document)
    trials = [as_trial(experiment, planned, args, document) for planned in first_trials(experiment)]
    shown = (
        rendered_jobs(experiment, trials) if args.cluster else rendered_commands(experiment, trials)
    )
    print(shown, end="")
    return 0


def as_trial(
    experiment: TuningExperiment,
    planned: NewTrial,
    args: argparse.Namespace,
    document: dict[str, Any],
) -> TuningTrial:
    trial = new_trial(str(experiment.metadata["name"]), planned, experiment.spec)
    trial.metadata.update(namespace=namespace_of(args, document), uid=DRY_RUN_UID)
    return trial


def rendered_commands(experiment: TuningExperiment, trials: list[TuningTrial]) -> str:
    lines = []
    for trial in trials:
        command = trainer_command(trainer_container(experiment.spec, trial))
        lines.append(f"# {trial.metadata['name']}: {describe_params(trial.spec.parameters, True)}")
        lines.append(shlex.join(command))
    return "\n".join(lines) + "\n"


def rendered_jobs(experiment: TuningExperiment, trials: list[TuningTrial]) -> str:
    """The Jobs as the operator builds them; it adds the metrics reporter sidecar when
    its ingest endpoint is configured."""
    jobs = [build_trial_job(experiment, trial) for trial in trials]
    return SIDECAR_NOTE + yaml.safe_dump_all(jobs, sort_keys=False)
