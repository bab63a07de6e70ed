"""Trial tokens: the credential a reporter sidecar presents to the ingest endpoint.

Each experiment has one random key (kept in a Secret owned by the experiment). A trial's
token is HMAC-SHA256(key, "namespace/experiment/trial"), so the operator can verify any
report after a restart from the key alone, without storing one token per trial, and a
token proves exactly one trial: it cannot report for a sibling or another experiment.
A multi-pod trial's token also binds the one pod that reports ("…/trial/replica", the
replica named by `reporting.env.replica_name`): its other pods' reports are refused.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

KEY_BYTES = 32  # the SHA-256 block-size guidance: a longer key adds nothing
TOKEN_HEX_CHARS = hashlib.sha256().digest_size * 2


def new_experiment_key() -> bytes:
    """A fresh random key for one experiment."""
    return secrets.token_bytes(KEY_BYTES)


def trial_subject(namespace: str, experiment: str, trial: str, replica: str | None = None) -> str:
    """What a token vouches for. Kubernetes names never contain "/", so the join is
    unambiguous: no two (namespace, experiment, trial) triples give the same subject, and
    the replica, when there is one, comes after all three."""
    subject = f"{namespace}/{experiment}/{trial}"
    return subject if replica is None else f"{subject}/{replica}"


def trial_token(
    key: bytes, namespace: str, experiment: str, trial: str, replica: str | None = None
) -> str:
    """The hex token that lets one trial's reporter (in the pod `replica`, for a
    multi-pod trial) send metrics for that trial only."""
    subject = trial_subject(namespace, experiment, trial, replica).encode()
    return hmac.new(key, subject, hashlib.sha256).hexdigest()


def verify_trial_token(
    key: bytes,
    namespace: str,
    experiment: str,
    trial: str,
    presented: str,
    *,
    replica: str | None = None,
) -> bool:
    """Constant-time comparison, so response timing leaks nothing about the right token."""
    expected = trial_token(key, namespace, experiment, trial, replica)
    return hmac.compare_digest(expected.encode(), presented.encode("utf-8", "replace"))
