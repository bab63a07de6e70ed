"""The API calls of the metrics path: experiment keys in Secrets, and single trials.

Each experiment's token key lives in a Secret `<experiment>-kubetune-key`, owned by the
experiment so that deleting the experiment deletes the key. The key is created lazily
and idempotently (409 means another attempt created it first: read that one), so any
operator replica, before or after a restart, derives the same trial tokens.
"""

from __future__ import annotations

import base64

from kubernetes.client.exceptions import ApiException

from kubetune.k8s.custom import TRIALS, resource_path
from kubetune.k8s.rest import Document, ForeignObjectError, Kube, create_owned, is_status
from kubetune.k8s.secrets import experiment_secret, secrets_path
from kubetune.planning.jobs import controller_uid
from kubetune.planning.tokens import new_experiment_key

KEY_SECRET_SUFFIX = "-kubetune-key"
KEY_DATA_FIELD = "key"


def key_secret_name(experiment: str) -> str:
    return f"{experiment}{KEY_SECRET_SUFFIX}"


def read_experiment_key(kube: Kube, namespace: str, experiment: str) -> bytes | None:
    """The experiment's key, or None when its Secret does not exist (yet)."""
    try:
        secret = kube.request("GET", secrets_path(namespace, key_secret_name(experiment)))
    except ApiException as error:
        if is_status(error, 404):
            return None
        raise
    encoded = (secret.get("data") or {}).get(KEY_DATA_FIELD)
    return base64.b64decode(encoded) if encoded else None


def ensure_experiment_key(kube: Kube, experiment: Document) -> bytes:
    """The key of a stored experiment (metadata has namespace, name and uid), created
    with the experiment as owner when it is missing. A key Secret of an earlier experiment
    of the same name raises ForeignObjectError until the garbage collector removes it."""
    metadata = experiment["metadata"]
    path = secrets_path(metadata["namespace"], key_secret_name(metadata["name"]))
    try:
        secret = kube.request("GET", path)
    except ApiException as error:
        if not is_status(error, 404):
            raise
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
    path = resource_path(namespace, TRIALS, name)
    try:
        return kube.request("GET", path)
    except ApiException as error:
        if is_status(error, 404):
            return None
        raise
