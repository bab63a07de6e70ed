"""Give each trial Job its reporter sidecar and the token that lets it report.

The token is derived from the experiment's key (its Secret is created on first use), so
it is the same on every attempt to create the Job, before or after an operator restart.
Configuration comes from the environment the Helm chart sets: KUBETUNE_INGEST_URL (what
sidecars call) and KUBETUNE_REPORTER_IMAGE (an image with ``kubetune-reporter``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from kubetune.k8s.metrics_io import ensure_experiment_key
from kubetune.k8s.rest import Document, Kube
from kubetune.planning.jobs import TRIAL_LABEL
from kubetune.planning.sidecar import add_reporter
from kubetune.planning.tokens import trial_token

DEFAULT_REPORTER_IMAGE = "kubetune/trial:0.1.0"


def attach_reporter(kube: Kube, experiment_metadata: Mapping[str, Any], job: Document) -> Document:
    """The trial Job with the reporter sidecar; `experiment_metadata` is the stored
    experiment's (name, namespace, uid). Blocking: it may create the key Secret. The Job
    is unchanged when no ingest URL is configured: trials then report final metrics only
    (through the termination message)."""
    ingest_url = os.environ.get("KUBETUNE_INGEST_URL")
    if not ingest_url:
        return job
    namespace, experiment = experiment_metadata["namespace"], experiment_metadata["name"]
    trial = job["metadata"]["labels"][TRIAL_LABEL]
    key = ensure_experiment_key(kube, {"metadata": dict(experiment_metadata)})
    return add_reporter(
        job,
        image=os.environ.get("KUBETUNE_REPORTER_IMAGE", DEFAULT_REPORTER_IMAGE),
        ingest_url=ingest_url,
        experiment=experiment,
        trial=trial,
        token=trial_token(key, namespace, experiment, trial),
    )
