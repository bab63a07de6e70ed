"""The API calls of the metrics path: experiment keys in Secrets, and single trials.

Each experiment's token key lives in a Secret `<experiment>-kubetune-key`, owned by the
experiment so that deleting the experiment deletes the key. The key is created lazily
and idempotently (409 means another attempt created it first: read that one), so any
operator replica, before or after a restart, derives the same trial tokens.
"""

from __future__ import annotations

import base64

from kubetune.k8s.custom import TRIALS, resource_path
from kubetune.k8s.rest import (
    Document,
    ForeignObjectError,
    Kube,
    create_owned,
    get_stored,
)
from kubetune.k8s.secrets import experiment_secret, secrets_path
from kubetune.planning.jobs import controller_uid
from kubetune.planning.tokens import new_experiment_key

KEY_SECRET_SUFFIX = "-kubetune-key"
KEY_DATA_FIELD = "key"


def key_secret_name(experiment: str) -> str:
    return f"{experiment}{KEY_SECRET_SUFFIX}"


def read_experiment_key(kube: Kube, namespace: str, experiment: str) -> bytes | None:
    """The experiment's key, or None when its Secret does not exist (yet)."""
    secret = get_stored(kube, secrets_path(namespace, key_secret_name(experiment)))
    if secret is None:
        return None
    encoded = (secret.get("data") or {}).get(KEY_DATA_FIELD)
    return base64.b64decode(encoded) if encoded else None


def ensure_experiment_key(kube: Kube, experiment: Document) -> bytes:
    """The key of a stored experiment (metadata has namespace, name and uid), created
    with the experiment as owner when it is missing. A key Secret of an earlier experiment
    of the same name raises ForeignObjectError until the garbage collector removes it."""
    metadata = experiment["metadata"]
    path = secrets_path(metadata["namespace"], key_secret_name(metadata["name"]))
    secret = get_stored(kube, path)
    if secret is None:
        secret = create_owned(kube, secrets_path(metadata["namespace"]), _key_secret(experiment))
    if controller_uid(secret) != metadata["uid"]:
        raise ForeignObjectError(f"Secret {path} belongs to an earlier experiment")
    encoded = (secret.get("data") or {}).get(KEY_DATA_FIELD)
    if not encoded:
        raise RuntimeError(f"Secret {path} has no {KEY_DATA_FIELD!r} field")
    return base64.b64decode(encoded)


def _key_secret(experiment: Document) -> Document:
    name = key_secret_name(experiment["metadata"]["name"])
    key = base64.b64encode(new_experiment_key()).decode()
    return experiment_secret(experiment, name, {KEY_DATA_FIELD: key})


def get_trial(kube: Kube, namespace: str, name: str) -> Document | None:
    """One TuningTrial as stored now, or None when it does not exist."""
    return get_stored(kube, resource_path(namespace, TRIALS, name))
