"""The Secrets an experiment owns (its reporting key, its accepted spec): one path
builder and one shape, so both carry the experiment label and its controller reference,
and the garbage collector removes them with the experiment."""

from __future__ import annotations

from kubetune.api.base import GROUP_VERSION
from kubetune.k8s.rest import CORE_API, Document, namespaced_path
from kubetune.planning.jobs import EXPERIMENT_LABEL, owner_reference


def secrets_path(namespace: str, name: str = "") -> str:
    return namespaced_path(CORE_API, namespace, "secrets", name)


def experiment_secret(experiment: Document, name: str, data: dict[str, str]) -> Document:
    """An Opaque Secret `name` holding `data` (base64 values), owned by the stored
    `experiment` (its metadata has namespace, name and uid)."""
    metadata = experiment["metadata"]
    owner = {"apiVersion": GROUP_VERSION, "kind": "TuningExperiment", "metadata": metadata}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {
            "name": name,
            "namespace": metadata["namespace"],
            "labels": {EXPERIMENT_LABEL: metadata["name"]},
            "ownerReferences": [owner_reference(owner)],
        },
        "data": data,
    }
