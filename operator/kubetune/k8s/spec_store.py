"""The last accepted spec of an experiment, kept in a Secret beside it.

The operator compares each submitted spec with the one it accepted (see
`planning.spec_changes`). Kept on the experiment itself, as an annotation, that copy
doubled the object's size and broke at the 256 KB limit on annotations, while a spec may
be up to the API server's 1.5 MB object limit. So the experiment carries only a digest
(an annotation of a few dozen bytes) and the accepted spec, gzip-compressed, lives in a
Secret owned by the experiment (a Secret: env values may hold credentials). The Secret
is written once, when the spec is first accepted: only the immutable part of a spec is
kept, and that part never changes while the experiment runs.
"""

from __future__ import annotations

import base64
import gzip

from kubetune.k8s.rest import Document, ForeignObjectError, Kube, create_owned, get_stored
from kubetune.k8s.secrets import experiment_secret, secrets_path
from kubetune.planning.jobs import controller_uid

SPEC_SECRET_SUFFIX = "-kubetune-spec"
SPEC_DATA_FIELD = "accepted-spec.json.gz"


def spec_secret_name(experiment: str) -> str:
    return f"{experiment}{SPEC_SECRET_SUFFIX}"


def read_accepted_spec(kube: Kube, experiment: Document) -> str | None:
    """The accepted spec (JSON) of this experiment, None when none was stored yet.
    Raises ForeignObjectError while an earlier experiment's Secret still has the name."""
    metadata = experiment["metadata"]
    path = secrets_path(metadata["namespace"], spec_secret_name(metadata["name"]))
    secret = get_stored(kube, path)
    return None if secret is None else _decoded(secret, metadata["uid"])


def store_accepted_spec(kube: Kube, experiment: Document, encoded: str) -> str:
    """Store `encoded` as the accepted spec; returns what is stored (a copy stored by an
    earlier, interrupted pass wins: it was accepted first)."""
    metadata = experiment["metadata"]
    stored = create_owned(
        kube, secrets_path(metadata["namespace"]), _spec_secret(experiment, encoded)
    )
    return _decoded(stored, metadata["uid"])


def _decoded(secret: Document, owner_uid: str) -> str:
    if controller_uid(secret) != owner_uid:
        raise ForeignObjectError(f"Secret {secret['metadata']['name']} belongs to another owner")
    data = (secret.get("data") or {}).get(SPEC_DATA_FIELD) or ""
    return gzip.decompress(base64.b64decode(data)).decode("utf-8")


def _spec_secret(experiment: Document, encoded: str) -> Document:
    name = spec_secret_name(experiment["metadata"]["name"])
    compressed = gzip.compress(encoded.encode("utf-8"), mtime=0)
    data = {SPEC_DATA_FIELD: base64.b64encode(compressed).decode("ascii")}
    return experiment_secret(experiment, name, data)
