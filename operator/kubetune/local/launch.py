"""Start one trial's process: the trainer container's command with the trial's
parameters filled in, run from the current directory, with the environment a trial pod
would see (template env, KUBETUNE_PARAM_*, KUBETUNE_TRIAL, KUBETUNE_METRICS_FILE) and
CUDA_VISIBLE_DEVICES naming the GPUs this trial holds.

Every start of a trial (a retry too) gets a metrics file of its own, and a record in
``processes/`` while it runs, so a later run can end it if this runner is killed.
"""

from __future__ import annotations

import os
from itertools import count
from pathlib import Path
from typing import Any

from kubetune.api import TuningExperimentSpec, TuningTrial
from kubetune.local.prepare import trainer_command
from kubetune.local.process import TrialProcess
from kubetune.planning.jobs import trainer_index
from kubetune.planning.placeholders import param_env, substitute_container
from kubetune.planning.printed_metrics import line_reader
from kubetune.reporting import env as trial_env


def trainer_container(spec: TuningExperimentSpec, trial: TuningTrial) -> dict[str, Any]:
    containers = spec.trial.template["spec"]["containers"]
    position = trainer_index(containers)
    return substitute_container(containers[position], trial.spec.parameters, position)


def trainer_environment(
    container: dict[str, Any], trial: TuningTrial, metrics_file: Path, devices: list[int] | None
) -> dict[str, str]:
    """`devices` None: this machine has no GPUs, so CUDA_VISIBLE_DEVICES is left alone."""
    env = dict(os.environ)
    for variable in container.get("env") or []:
        if isinstance(variable, dict) and "value" in variable:  # valueFrom needs a cluster
            env[str(variable["name"])] = str(variable["value"])
    env.update(param_env(trial.spec.parameters))
    env.update(
        {
            trial_env.TRIAL: str(trial.metadata["name"]),
            trial_env.EXPERIMENT: trial.spec.experiment,
            trial_env.METRICS_FILE: str(metrics_file.resolve()),
            "PYTHONUNBUFFERED": "1",  # reports arrive as printed, not when a buffer fills
        }
    )
    if devices is not None:  # a trial sees only its own GPUs, none if it asked for none
        env["CUDA_VISIBLE_DEVICES"] = ",".join(str(device) for device in devices)
    return env


def fresh_metrics_file(directory: Path, name: str, attempt: str) -> Path:
    """A file no earlier start wrote: a retry must not re-read the failed start's reports
    (its steps would be judged again), nor an orphan write into a re-run's file."""
    stem = directory / "metrics" / f"{name}.{attempt}"
    candidates = (Path(f"{stem}.{n}.jsonl" if n else f"{stem}.jsonl") for n in count())
    return next(path for path in candidates if not path.exists())


def start_trial(
    spec: TuningExperimentSpec,
    trial: TuningTrial,
    directory: Path,
    attempt: str,
    devices: list[int] | None,
) -> TrialProcess:
    """The running trial; `attempt` names this runner (see fresh_metrics_file)."""
    name = str(trial.metadata["name"])
    metrics_file = fresh_metrics_file(directory, name, attempt)
    metrics_file.parent.mkdir(parents=True, exist_ok=True)
    metrics_file.touch()  # claimed now, before a retry looks for a fresh name
    container = trainer_container(spec, trial)
    env = trainer_environment(container, trial, metrics_file, devices)
    if spec.trial.checkpoint_dir is not None:  # a cluster path means nothing here
        env[trial_env.CHECKPOINT_DIR] = str((directory / "checkpoints" / name).resolve())
    log_file = directory / "logs" / f"{name}.log"
    record = directory / "processes" / f"{name}.json"
    command, reader = trainer_command(container), line_reader(spec)
    return TrialProcess(command, env, log_file, metrics_file, record, line_reader=reader)
