"""The metrics path wired into the operator: kopf hooks that run the ingest endpoint
beside the handlers, and the step that gives each trial Job its reporter and token.

Importing this module registers the hooks with kopf's default registry, so the handlers
module needs one import line. Configuration comes from the environment the Helm chart
sets: KUBETUNE_INGEST_PORT (where to listen), KUBETUNE_INGEST_URL (what sidecars call),
KUBETUNE_REPORTER_IMAGE (the image with ``kubetune-reporter``).
"""

from __future__ import annotations

import os
from typing import Any

import kopf
from aiohttp import web

from kubetune.k8s.metrics_io import ensure_experiment_key
from kubetune.k8s.rest import Document, Kube, connect
from kubetune.planning.jobs import TRIAL_LABEL
from kubetune.planning.sidecar import add_reporter
from kubetune.planning.tokens import trial_token
from kubetune.reconcile.early_stop_trigger import EarlyStopTrigger, ReconcileSoon
from kubetune.reconcile.ingest import start_ingest
from kubetune.reconcile.metrics_sink import KubeKeySource, TrialStatusWriter

DEFAULT_INGEST_PORT = 8443
DEFAULT_REPORTER_IMAGE = "kubetune/trial:0.1.0"
RUNNER_MEMO_KEY = "kubetune_ingest_runner"


async def start_metrics_ingest(
    kube: Kube, port: int, reconcile_soon: ReconcileSoon | None = None, host: str = "0.0.0.0"
) -> web.AppRunner:
    """The endpoint, recording into trial statuses and waking passes for early stops."""
    sink = TrialStatusWriter(kube, after_recorded=EarlyStopTrigger(kube, reconcile_soon))
    return await start_ingest(port, KubeKeySource(kube), sink, host=host)


@kopf.on.startup()
async def ingest_startup(memo: kopf.Memo, logger: Any, **_: Any) -> None:
    """Starts the endpoint with the operator. Uses `memo.kube` and `memo.reconcile_soon`
    when the handlers' own startup hook (registered earlier) put them there."""
    port = int(os.environ.get("KUBETUNE_INGEST_PORT", DEFAULT_INGEST_PORT))
    kube = memo.get("kube") or connect()
    runner = await start_metrics_ingest(kube, port, memo.get("reconcile_soon"))
    memo[RUNNER_MEMO_KEY] = runner
    logger.info(f"metrics ingest listening on port {port}")


@kopf.on.cleanup()
async def ingest_cleanup(memo: kopf.Memo, **_: Any) -> None:
    runner = memo.get(RUNNER_MEMO_KEY)
    if runner is not None:
        await runner.cleanup()


def attach_reporter(kube: Kube, experiment: Document, job: Document) -> Document:
    """The trial Job with the reporter sidecar and the trial's token (blocking: it may
    create the experiment's key Secret). Unchanged when no ingest URL is configured,
    e.g. an operator run without the endpoint: trials then report only final metrics."""
    ingest_url = os.environ.get("KUBETUNE_INGEST_URL")
    if not ingest_url:
        return job
    metadata = experiment["metadata"]
    trial = job["metadata"]["labels"][TRIAL_LABEL]
    key = ensure_experiment_key(kube, experiment)
    return add_reporter(
        job,
        image=os.environ.get("KUBETUNE_REPORTER_IMAGE", DEFAULT_REPORTER_IMAGE),
        ingest_url=ingest_url,
        experiment=metadata["name"],
        trial=trial,
        token=trial_token(key, metadata["namespace"], metadata["name"], trial),
    )
