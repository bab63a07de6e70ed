"""``kubetune logs TRIAL``: what a trial's trainer printed.

Locally that is the file the runner captured (stdout and stderr, every attempt of the
trial); on a cluster it is the trainer container's log of the trial's newest pod, read
through the API server the way ``kubectl logs`` reads it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from kubetune.commands.sources import connect_cluster
from kubetune.local.store import ExperimentStore, LocalSource
from kubetune.planning.jobs import trainer_index
from kubetune.planning.source import ExperimentNotFoundError

# Enough for a long training log, bounded because the log is whatever the trainer wrote.
CLUSTER_LOG_LINES = 100_000
CLUSTER_LOG_BYTES = 32 * 1024 * 1024
CLUSTER_LOG_TIMEOUT_S = 60.0


def trial_log(args: argparse.Namespace) -> str:
    return cluster_log(args.namespace, args.trial) if args.cluster else local_log(args)


def local_log(args: argparse.Namespace) -> str:
    root = Path(args.dir)
    for name in LocalSource(root).names():
        path = ExperimentStore(root, name).logs / f"{args.trial}.log"
        if path.is_file():
            return path.read_text(encoding="utf-8", errors="replace")
    raise ExperimentNotFoundError(f"no log of a trial {args.trial!r} in {root}/")


def cluster_log(namespace: str, trial: str) -> str:
    from kubetune.k8s.logs import LogBounds, read_container_log
    from kubetune.k8s.workloads import list_trial_pods

    kube = connect_cluster()
    pods = list_trial_pods(kube, namespace, trial)
    if not pods:
        raise ExperimentNotFoundError(f"no pod of a trial {trial!r} in namespace {namespace}")
    newest = max(pods, key=lambda pod: str(pod["metadata"].get("creationTimestamp", "")))
    containers = newest["spec"]["containers"]
    container = str(containers[trainer_index(containers)]["name"])
    bounds = LogBounds(CLUSTER_LOG_LINES, CLUSTER_LOG_BYTES, CLUSTER_LOG_TIMEOUT_S)
    log = read_container_log(kube, namespace, newest["metadata"]["name"], container, bounds)
    if log is None:
        raise ValueError(f"cannot read the log of pod {newest['metadata']['name']} now")
    return log.text
