"""Give each trial Job (or JobSet) its reporter sidecar and the token that lets it report.

The token is derived from the experiment's key (its Secret is created on first use), so
it is the same on every attempt to create the Job, before or after an operator restart.
The key is read once per experiment uid and kept (`ExperimentKeys`): it never changes
for a given uid, and a pass launching 20 trials would otherwise read its Secret 20 times.
Configuration comes from the environment the Helm chart sets: KUBETUNE_INGEST_URL (what
sidecars call) and KUBETUNE_REPORTER_IMAGE (an image with ``kubetune-reporter``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from kubetune.api import TuningExperiment
from kubetune.k8s.metrics_io import ensure_experiment_key
from kubetune.k8s.rest import Document, Kube
from kubetune.planning.jobs import TRIAL_LABEL
from kubetune.planning.sidecar import add_reporter, designated_replica
from kubetune.planning.tokens import trial_token
from kubetune.reconcile import settings

# Keys of this many experiments are kept; a deleted experiment's is dropped at once.
KEYS_KEPT = 4096


class ExperimentKeys:
    """Experiment keys by experiment uid, least recently used dropped beyond `capacity`.
    Passes of different experiments share it from several threads, hence the lock; the
    Secret is read outside it (two first reads of one key just read it twice)."""

    def __init__(self, capacity: int = KEYS_KEPT) -> None:
        self.capacity = capacity
        self._keys: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def key_of(self, kube: Kube, experiment_metadata: Mapping[str, Any]) -> bytes:
        uid = experiment_metadata["uid"]
        with self._lock:
            if uid in self._keys:
                self._keys.move_to_end(uid)
                return self._keys[uid]
        key = ensure_experiment_key(kube, {"metadata": dict(experiment_metadata)})
        self._keep(uid, key)
        return key

    def __contains__(self, uid: object) -> bool:
        return uid in self._keys

    def forget(self, uid: str) -> None:
        with self._lock:
            self._keys.pop(uid, None)

    def _keep(self, uid: str, key: bytes) -> None:
        with self._lock:
            self._keys[uid] = key
            while len(self._keys) > self.capacity:
                self._keys.popitem(last=False)


experiment_keys = ExperimentKeys()  # the operator's, for every pass of this process


def attach_reporter(kube: Kube, experiment: TuningExperiment, job: Document) -> Document:
    """The trial Job (or JobSet) with the reporter sidecar, in the pod that reports (see
    `sidecar.designated_replica`). Blocking: it may read or create the key Secret (once
    per experiment uid, see `ExperimentKeys`). The Job is unchanged when no ingest URL is
    configured: trials then report final metrics only (through the termination
    message)."""
    ingest_url = settings.INGEST_URL.read()
    if not ingest_url:
        return job
    metadata = experiment.metadata
    namespace, name = metadata["namespace"], metadata["name"]
    trial = job["metadata"]["labels"][TRIAL_LABEL]
    key = experiment_keys.key_of(kube, metadata)
    replicated_job, replica = designated_replica(experiment.spec.trial.workload) or (None, None)
    return add_reporter(
        job,
        image=settings.REPORTER_IMAGE.read(),
        ingest_url=ingest_url,
        experiment=name,
        trial=trial,
        token=trial_token(key, namespace, name, trial, replica),
        replicated_job=replicated_job,
        replica=replica,
    )
