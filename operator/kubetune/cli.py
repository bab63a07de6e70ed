"""``kubetune``: run an experiment locally, and inspect experiments.

``run`` is the embedded local mode. ``status``, ``trials``, ``best`` and ``plot`` read an
experiment through an `ExperimentSource`: the local runner's directory, or with
``--cluster`` the TuningExperiments of a namespace through kubeconfig.
User mistakes (bad YAML, an invalid spec, an unknown experiment) exit with status 2 and
one message naming the field, never a traceback. So does a directory that another
``kubetune run`` holds. A suspended experiment exits 3; an interrupted run (Ctrl-C,
SIGTERM, a closed stdout) exits 128 + the signal's number, after saving everything.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from kubetune.api import SpecError
from kubetune.local.conditions import shown_phase
from kubetune.local.console import describe_params, describe_value
from kubetune.local.interrupts import Interrupted
from kubetune.local.lock import DirectoryInUseError
from kubetune.local.prepare import load_document, prepare_experiment
from kubetune.local.runner import (
    ExperimentSuspendedError,
    ResumeConflictError,
    RunOptions,
    run_experiment,
)
from kubetune.local.store import DEFAULT_ROOT, LocalSource
from kubetune.planning.source import ExperimentNotFoundError, ExperimentSnapshot, ExperimentSource

USAGE_ERROR = 2
SUSPENDED = 3
INTERRUPTED_BY_SIGINT = 130


def open_source(args: argparse.Namespace) -> ExperimentSource:
    """Where experiments are read from: the cluster with --cluster, else the local runs."""
    if not args.cluster:
        return LocalSource(Path(args.dir))
    from kubetune.k8s.rest import connect  # the Kubernetes client only when asked for
    from kubetune.k8s.source import ClusterSource

    try:
        kube = connect()
    except Exception as error:  # no kubeconfig and no in-cluster service account
        raise ValueError(f"--cluster: no Kubernetes configuration: {error}") from None
    return ClusterSource(kube, args.namespace)


def command_run(args: argparse.Namespace) -> int:
    document = load_document(Path(args.experiment))
    experiment = prepare_experiment(document)
    finish, _ = run_experiment(experiment, document, RunOptions(root=Path(args.dir)))
    return 0 if finish.succeeded else 1


def command_status(args: argparse.Namespace) -> int:
    snapshot = open_source(args).load(args.name)
    status = snapshot.experiment.status
    counts = status.trials
    print(f"experiment: {snapshot.name}\nphase:      {shown_phase(status)}")
    print(
        f"trials:     {counts.created} created, {counts.running} running, "
        f"{counts.succeeded} succeeded, {counts.failed} failed, {counts.stopped} stopped"
    )
    metric = snapshot.experiment.spec.objective.metric
    if status.best is not None:
        print(f"best:       {status.best.trial} {describe_value(metric, status.best.value)}")
    for condition in (c for c in status.conditions if c.status == "True"):
        print(f"reason:     {condition.reason}: {condition.message}")
    return 0


def command_trials(args: argparse.Namespace) -> int:
    snapshot = open_source(args).load(args.name)
    metric = snapshot.experiment.spec.objective.metric
    print(f"{'TRIAL':<24} {'PHASE':<13} {metric:<14} PARAMETERS")
    for trial in snapshot.trials:
        value = trial.status.metrics.get(metric)
        shown = f"{value:.6g}" if value is not None else "-"
        name, phase = str(trial.metadata.get("name")), trial.status.phase
        print(f"{name:<24} {phase:<13} {shown:<14} {describe_params(trial.spec.parameters)}")
        if trial.status.phase in ("Failed", "EarlyStopped") and trial.status.message:
            print(f"{'':<24} {trial.status.message.splitlines()[0]}")
    return 0


def command_best(args: argparse.Namespace) -> int:
    snapshot = open_source(args).load(args.name)
    best = snapshot.experiment.status.best
    if best is None:
        print(f"{snapshot.name}: no trial has succeeded yet", file=sys.stderr)
        return 1
    metric = snapshot.experiment.spec.objective.metric
    print(f"{best.trial} {describe_value(metric, best.value)}")
    for name, value in best.parameters.items():
        print(f"  {name}: {value}")
    return 0


def command_plot(args: argparse.Namespace) -> int:
    from kubetune.plots import write_plots  # matplotlib is slow to import: only here

    snapshot: ExperimentSnapshot = open_source(args).load(args.name)
    out = Path(args.out) if args.out else Path(args.dir) / args.name / "plots"
    for path in write_plots(snapshot, out):
        print(path)
    return 0


def command_convert(args: argparse.Namespace) -> int:
    """A Katib Experiment as a TuningExperiment; what is not carried over goes to stderr too."""
    from kubetune.convert import convert_katib

    conversion = convert_katib(load_document(Path(args.experiment)))
    for entry in conversion.dropped:
        complain(f"kubetune: not carried over: {entry}")
    text = conversion.to_yaml(args.experiment)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        print(text, end="")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kubetune", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run (or resume) an experiment on this machine")
    run.add_argument("experiment", help="TuningExperiment YAML file")
    run.set_defaults(handler=command_run)
    convert = commands.add_parser("convert", help="a Katib Experiment as a TuningExperiment")
    convert.add_argument("tool", choices=["katib"], help="the experiment's format")
    convert.add_argument("experiment", help="Katib v1beta1 Experiment YAML file")
    convert.add_argument("-o", "--output", help="write the TuningExperiment here, not stdout")
    convert.set_defaults(handler=command_convert)
    readers: list[tuple[str, str, Callable[[argparse.Namespace], int]]] = [
        ("status", "phase, trial counts and best trial", command_status),
        ("trials", "every trial with its phase, objective and parameters", command_trials),
        ("best", "the best trial and its parameters", command_best),
        ("plot", "write PNG plots of the search", command_plot),
    ]
    for name, summary, handler in readers:
        reader = commands.add_parser(name, help=summary)
        reader.add_argument("name", help="experiment name (metadata.name)")
        reader.set_defaults(handler=handler)
        if name == "plot":
            reader.add_argument("--out", help="directory for the PNGs (default: DIR/NAME/plots)")
        reader.add_argument(
            "--cluster",
            action="store_true",
            help="read the TuningExperiment from the cluster ($KUBECONFIG or in-cluster)",
        )
        reader.add_argument("-n", "--namespace", default="default", help="with --cluster")
    for sub in commands.choices.values():
        sub.add_argument("--dir", default=DEFAULT_ROOT, help="local results directory")
    return parser


def complain(text: str) -> None:
    """On stderr, which may be a closed pipe too: then there is no one left to tell."""
    with contextlib.suppress(OSError):
        print(text, file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args)
    except (
        SpecError,
        ResumeConflictError,
        ExperimentNotFoundError,
        DirectoryInUseError,
        ValueError,
    ) as error:
        complain(f"kubetune: error: {error}")
        return USAGE_ERROR
    except ExperimentSuspendedError as suspended:
        complain(f"kubetune: {suspended}")
        return SUSPENDED
    except KeyboardInterrupt as interrupt:
        complain("\nkubetune: interrupted; run the same command again to resume")
        return interrupt.exit_code if isinstance(interrupt, Interrupted) else INTERRUPTED_BY_SIGINT
    return code


if __name__ == "__main__":
    sys.exit(main())
