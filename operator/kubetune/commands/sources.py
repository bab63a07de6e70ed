"""Where a command finds experiments: the local runner's directory, or with ``--cluster``
the namespace a kubeconfig (or the pod's service account) points at."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from kubetune.local.store import LocalSource
from kubetune.planning.source import ExperimentSource

if TYPE_CHECKING:
    from kubetune.k8s.rest import Kube


def open_source(args: argparse.Namespace) -> ExperimentSource:
    """Where experiments are read from: the cluster with --cluster, else the local runs."""
    if not args.cluster:
        return LocalSource(Path(args.dir))
    from kubetune.k8s.source import ClusterSource

    return ClusterSource(connect_cluster(), args.namespace)


def connect_cluster() -> Kube:
    from kubetune.k8s.rest import connect  # the Kubernetes client only when asked for

    try:
        return connect()
    except Exception as error:  # no kubeconfig and no in-cluster service account
        raise ValueError(f"--cluster: no Kubernetes configuration: {error}") from None
