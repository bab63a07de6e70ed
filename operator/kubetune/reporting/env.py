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
# Which pod of a multi-pod trial (a JobSet's) the reporter runs in, from the downward
# API: its replicated job, job index and completion index. Its token binds them, so
# only the designated pod's reports are taken (see docs/workloads.md).
REPLICATED_JOB = "KUBETUNE_REPLICATED_JOB"
JOB_INDEX = "KUBETUNE_JOB_INDEX"
COMPLETION_INDEX = "KUBETUNE_COMPLETION_INDEX"
REPLICA_ENV = (REPLICATED_JOB, JOB_INDEX, COMPLETION_INDEX)
# The designated pod's place: a reporter elsewhere has nothing the ingest would take.
REPORTING_REPLICA = "KUBETUNE_REPORTING_REPLICA"


def replica_name(replicated_job: str, job_index: object, completion_index: object) -> str:
    """One pod's place in a JobSet, as reports and tokens name it."""
    return f"{replicated_job}/{job_index}/{completion_index}"


# The reporter sidecar's batching, as flags' defaults.
REPORT_BATCH = "KUBETUNE_REPORT_BATCH"
REPORT_INTERVAL = "KUBETUNE_REPORT_INTERVAL"
FLUSH_TIMEOUT = "KUBETUNE_FLUSH_TIMEOUT"
# The trial's own checkpoint directory (spec.trial.checkpointDir): it outlives a
# preemption or a retry of the trial.
CHECKPOINT_DIR = "KUBETUNE_CHECKPOINT_DIR"
