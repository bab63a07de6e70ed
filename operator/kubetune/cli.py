"""``kubetune``: run an experiment locally, and inspect experiments.

``run`` is the embedded local mode. ``status``, ``trials``, ``best``, ``logs``, ``list``,
``plot`` and ``dashboard`` read experiments from the local runner's directory, or with
``--cluster`` from the TuningExperiments of a namespace through kubeconfig.
User mistakes (bad YAML, an invalid spec, an unknown experiment) exit with status 2 and
one message naming the field, never a traceback. So does a directory that another
``kubetune run`` holds. A suspended experiment exits 3; an interrupted run (Ctrl-C,
SIGTERM, a closed stdout) exits 128 + the signal's number, after saving everything, and
so does any command whose reader closed the pipe (``kubetune trials x | head -1``).

This module only parses arguments: the table `SUBCOMMANDS` names each command, its
arguments and the function in `kubetune.commands` that does the work. That function's
module is imported when the command runs, so ``kubetune --help`` never loads numpy,
scikit-learn or the Kubernetes client. A new command is one more row.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kubetune import __version__
from kubetune.local import DEFAULT_ROOT

USAGE_ERROR = 2
SUSPENDED = 3
INTERRUPTED_BY_SIGINT = 128 + signal.SIGINT
READER_GONE = 128 + signal.SIGPIPE
OUTPUT_FORMATS = ("table", "json", "yaml", "csv")

Arguments = Callable[[argparse.ArgumentParser], None]


def experiment_name(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="experiment name (metadata.name)")


def experiment_file(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("experiment", help="TuningExperiment YAML file")


def output_format(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", choices=OUTPUT_FORMATS, default="table")


def dry_run(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="validate, print what the first trials would run (commands, or Jobs with "
        "--cluster), and run nothing",
    )


def plot_directory(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", help="directory for the PNGs (default: DIR/NAME/plots)")


def conversion(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("tool", choices=["katib"], help="the experiment's format")
    parser.add_argument("experiment", help="Katib v1beta1 Experiment YAML file")
    parser.add_argument("-o", "--output", help="write the TuningExperiment here, not stdout")


def dashboard_address(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8080, help="port (0: any free one)")
    parser.add_argument(
        "--refresh", type=float, default=3.0, help="seconds between reads of the experiments"
    )


def trial_name(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("trial", help="trial name, e.g. digits-svc-0003")


@dataclass(frozen=True)
class Subcommand:
    name: str
    summary: str
    handler: str  # "module:function" in kubetune.commands, imported when it runs
    arguments: tuple[Arguments, ...] = ()
    local_or_cluster: bool = True  # takes --dir, --cluster and --namespace


SUBCOMMANDS = (
    Subcommand(
        "run",
        "run (or resume) an experiment on this machine",
        "launching:run",
        (experiment_file, dry_run),
    ),
    Subcommand(
        "convert",
        "a Katib Experiment as a TuningExperiment",
        "converting:convert",
        (conversion,),
        local_or_cluster=False,
    ),
    Subcommand("validate", "check an experiment file", "launching:validate", (experiment_file,)),
    Subcommand("list", "the experiments known", "reading:list_experiments", (output_format,)),
    Subcommand(
        "status",
        "phase, trial counts and best trial",
        "reading:status",
        (experiment_name, output_format),
    ),
    Subcommand(
        "trials",
        "every trial with its phase, metrics and parameters",
        "reading:trials",
        (experiment_name, output_format),
    ),
    Subcommand(
        "best",
        "the best trial, its metrics and parameters",
        "reading:best",
        (experiment_name, output_format),
    ),
    Subcommand("logs", "a trial's output (the trainer's log)", "reading:logs", (trial_name,)),
    Subcommand(
        "plot",
        "write PNG plots of the search",
        "reading:plot",
        (experiment_name, plot_directory),
    ),
    Subcommand(
        "dashboard",
        "serve a live web page of the experiments (needs kubetune[dashboard])",
        "dashboard:dashboard",
        (dashboard_address,),
    ),
)


def common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dir", default=DEFAULT_ROOT, help="local results directory")
    parser.add_argument(
        "--cluster",
        action="store_true",
        help="use the cluster ($KUBECONFIG or in-cluster) instead of this machine",
    )
    parser.add_argument("-n", "--namespace", default="default", help="with --cluster")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kubetune", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"kubetune {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    for subcommand in SUBCOMMANDS:
        sub = commands.add_parser(subcommand.name, help=subcommand.summary)
        for add_arguments in subcommand.arguments:
            add_arguments(sub)
        if subcommand.local_or_cluster:
            common_arguments(sub)
        sub.set_defaults(handler=subcommand.handler)
    return parser


def handler_of(reference: str) -> Callable[[argparse.Namespace], int]:
    module, function = reference.split(":")
    found: Callable[[argparse.Namespace], int] = getattr(
        importlib.import_module(f"kubetune.commands.{module}"), function
    )
    return found


def complain(text: str) -> None:
    """On stderr, which may be a closed pipe too: then there is no one left to tell."""
    with contextlib.suppress(OSError):
        print(text, file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from kubetune.commands.errors import USER_ERRORS, ExperimentSuspendedError, Interrupted

    try:
        code = handler_of(args.handler)(args)
        sys.stdout.flush()  # a closed pipe shows here, not at the interpreter's exit
    except USER_ERRORS as error:
        complain(f"kubetune: error: {error}")
        return USAGE_ERROR
    except ExperimentSuspendedError as suspended:
        complain(f"kubetune: {suspended}")
        return SUSPENDED
    except BrokenPipeError:
        return reader_gone()
    except KeyboardInterrupt as interrupt:
        complain("\nkubetune: interrupted; run the same command again to resume")
        return interrupt.exit_code if isinstance(interrupt, Interrupted) else INTERRUPTED_BY_SIGINT
    return code


def reader_gone() -> int:
    """The reader of stdout left (``| head``): stop quietly, as a shell pipeline expects."""
    from kubetune.local.console import silence

    silence(sys.stdout)
    return READER_GONE


if __name__ == "__main__":
    sys.exit(main())
