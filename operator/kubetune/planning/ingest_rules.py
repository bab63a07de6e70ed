"""What the ingest endpoint accepts: the pure checks on one report request.

Anyone who can reach the operator's Service can send a request, so the body is parsed
with hard caps before anything else (size, number of points, the metric protocol's own
rules) and the token is checked against the experiment's key before anything is
recorded. Every refusal carries an HTTP status and a short reason, which the endpoint
returns and counts, so an operator can tell a misconfigured sidecar from an attack.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from kubetune.planning.tokens import verify_trial_token
from kubetune.reporting.protocol import MetricReport, parse_json_line

MAX_BODY_BYTES = 64 * 1024
MAX_POINTS_PER_REQUEST = 256  # the reporter never batches more than this
# A DNS-1123 subdomain, what Kubernetes allows for namespace and object names.
_OBJECT_NAME = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")
_REPLICA = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?/[0-9]{1,9}/[0-9]{0,9}")


@dataclass(frozen=True)
class TrialRef:
    namespace: str
    experiment: str
    trial: str
    # The reporting pod's place in a multi-pod trial (`reporting.env.replica_name`).
    replica: str | None = None


@dataclass(frozen=True)
class ReportBatch:
    trial: TrialRef
    reports: tuple[MetricReport, ...]


@dataclass(frozen=True)
class Rejection:
    status: int
    reason: str  # a short label, also the `reason` of the rejected-reports counter
    message: str


def bearer_token(authorization: str | None) -> str | None:
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def parse_report_request(body: bytes) -> ReportBatch | Rejection:
    """The batch in a request body, or why it is refused (before any token check)."""
    if len(body) > MAX_BODY_BYTES:
        return Rejection(413, "too_large", f"body over {MAX_BODY_BYTES} bytes")
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return Rejection(400, "malformed", "body is not JSON")
    if not isinstance(document, dict):
        return Rejection(400, "malformed", "body is not a JSON object")
    trial = _trial_ref(document)
    if isinstance(trial, Rejection):
        return trial
    reports = _reports(document.get("reports"))
    return reports if isinstance(reports, Rejection) else ReportBatch(trial, reports)


def _trial_ref(document: dict[str, object]) -> TrialRef | Rejection:
    names = [document.get(field) for field in ("namespace", "experiment", "trial")]
    for field, name in zip(("namespace", "experiment", "trial"), names, strict=True):
        if not isinstance(name, str) or not _OBJECT_NAME.fullmatch(name):
            return Rejection(400, "malformed", f"{field} is not a Kubernetes object name")
    namespace, experiment, trial = (str(name) for name in names)
    replica = document.get("replica")
    if replica is not None and not (isinstance(replica, str) and _REPLICA.fullmatch(replica)):
        return Rejection(400, "malformed", "replica is not replicatedJob/jobIndex/completionIndex")
    return TrialRef(namespace, experiment, trial, replica)


def _reports(raw: object) -> tuple[MetricReport, ...] | Rejection:
    if not isinstance(raw, list) or not raw:
        return Rejection(400, "malformed", "reports must be a non-empty list")
    if len(raw) > MAX_POINTS_PER_REQUEST:
        return Rejection(413, "too_many_points", f"over {MAX_POINTS_PER_REQUEST} reports")
    reports = []
    for position, item in enumerate(raw):
        # One protocol, one parser: a point is valid here exactly when it is valid as a
        # line of the metrics file.
        parsed = parse_json_line(json.dumps(item))
        if not isinstance(parsed, MetricReport):
            reason = parsed.reason if parsed else "empty report"
            return Rejection(400, "malformed", f"reports[{position}]: {reason}")
        reports.append(parsed)
    return tuple(reports)


def check_token(key: bytes | None, trial: TrialRef, token: str | None) -> Rejection | None:
    """None when `token` proves `trial`; the same 401 whatever is wrong, so a prober
    learns nothing about which experiments exist."""
    if token is None:
        return Rejection(401, "missing_token", "Authorization: Bearer <trial token> required")
    if key is None:
        return Rejection(401, "unknown_experiment", "invalid token")
    if not verify_trial_token(
        key, trial.namespace, trial.experiment, trial.trial, token, replica=trial.replica
    ):
        return Rejection(401, "bad_token", "invalid token")
    return None
