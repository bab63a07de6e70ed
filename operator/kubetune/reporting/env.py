"""The environment variables of a trial's containers, named once.

Both runtimes set them (the operator in each trial pod's manifest, the local runner in
each trainer process); the reporter sidecar and the trainer SDK read them. Parameters
come as KUBETUNE_PARAM_<NAME> besides (`kubetune.api.params`).
"""

from __future__ import annotations

TRIAL = "KUBETUNE_TRIAL"
EXPERIMENT = "KUBETUNE_EXPERIMENT"
NAMESPACE = "KUBETUNE_NAMESPACE"
# The trial's token for the ingest endpoint (the reporter sidecar only).
TRIAL_TOKEN = "KUBETUNE_TRIAL_TOKEN"
# Where the SDK appends reports (JSON lines) and the reporter or runner reads them.
METRICS_FILE = "KUBETUNE_METRICS_FILE"
INGEST_URL = "KUBETUNE_INGEST_URL"
# The reporter sidecar's batching, as flags' defaults.
REPORT_BATCH = "KUBETUNE_REPORT_BATCH"
REPORT_INTERVAL = "KUBETUNE_REPORT_INTERVAL"
FLUSH_TIMEOUT = "KUBETUNE_FLUSH_TIMEOUT"
# The trial's own checkpoint directory (spec.trial.checkpointDir): it outlives a
# preemption or a retry of the trial.
CHECKPOINT_DIR = "KUBETUNE_CHECKPOINT_DIR"
