"""Trial tokens: the credential a reporter sidecar presents to the ingest endpoint.

Each experiment has one random key (kept in a Secret owned by the experiment). A trial's
token is HMAC-SHA256(key, "namespace/experiment/trial"), so the operator can verify any
report after a restart from the key alone, without storing one token per trial, and a
token proves exactly one trial: it cannot report for a sibling or another experiment.
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


def trial_subject(namespace: str, experiment: str, trial: str) -> str:
    """What a token vouches for. Kubernetes names never contain "/", so the join is
    unambiguous: no two (namespace, experiment, trial) triples give the same subject."""
    return f"{namespace}/{experiment}/{trial}"


def trial_token(key: bytes, namespace: str, experiment: str, trial: str) -> str:
    """The hex token that lets one trial's reporter send metrics for that trial only."""
    subject = trial_subject(namespace, experiment, trial).encode()
    return hmac.new(key, subject, hashlib.sha256).hexdigest()


def verify_trial_token(
    key: bytes, namespace: str, experiment: str, trial: str, presented: str
) -> bool:
    """Constant-time comparison, so response timing leaks nothing about the right token."""
    expected = trial_token(key, namespace, experiment, trial)
    return hmac.compare_digest(expected.encode(), presented.encode("utf-8", "replace"))
