"""The project's CRDs as the API server sees them: they install and become Established,
every example experiment is accepted and reads back unchanged (nothing pruned), and every
invalid example is rejected by the API server itself (OpenAPI schema + CEL) with the
message its `# expect: <substring>` header promises, naming its `# field:`.

Every TuningExperiment shown in README.md and docs/ passes a strict dry run too.

A file headed `# rejected-by: operator` is invalid in a way only the operator can judge
(its `# expect:` message is the operator's); the API server must accept it, so the
header stays honest if the schema later learns to reject it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.cluster import ClusterClient, eventually
from tests.cluster.binaries import REPO_ROOT
from tests.docs_yaml import experiment_documents

pytestmark = pytest.mark.integration

CRD_DIR = REPO_ROOT / "crds"
EXAMPLES = sorted((REPO_ROOT / "examples").glob("*.yaml"))
INVALID_EXAMPLES = sorted((REPO_ROOT / "examples" / "invalid").glob("*.yaml"))
DOCS_EXPERIMENTS = experiment_documents()
HEADER = re.compile(r"^#\s*([a-z-]+):\s*(.+?)\s*$")


def crd_documents() -> list[dict[str, Any]]:
    documents = [doc for path in sorted(CRD_DIR.glob("*.yaml")) for doc in _load_all(path)]
    return [doc for doc in documents if doc.get("kind") == "CustomResourceDefinition"]


def _load_all(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def expectations(path: Path) -> dict[str, str]:
    """The `# key: value` lines (expect, field, rejected-by) of the leading comment block."""
    found: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        if match := HEADER.match(line):
            found[match.group(1)] = match.group(2)
    return found


class Resources:
    """Creates and reads custom objects by kind, using the plural each CRD declares."""

    def __init__(self, cluster: ClusterClient, crds: list[dict[str, Any]]) -> None:
        self.api = client.CustomObjectsApi(cluster.api_client())
        self.plurals: dict[tuple[str, str], str] = {}
        for crd in crds:
            names = crd["spec"]["names"]
            for version in crd["spec"]["versions"]:
                api_version = f"{crd['spec']['group']}/{version['name']}"
                self.plurals[(api_version, names["kind"])] = names["plural"]

    def _route(self, body: dict[str, Any]) -> tuple[str, str, str]:
        group, version = body["apiVersion"].split("/")
        return group, version, self.plurals[(body["apiVersion"], body["kind"])]

    def create(
        self, namespace: str, body: dict[str, Any], *, dry_run: bool = False
    ) -> dict[str, Any]:
        """Creates with strict field validation: an unknown field is an error, not pruned.
        A dry run validates and stores nothing."""
        group, version, plural = self._route(body)
        return dict(
            self.api.create_namespaced_custom_object(
                group,
                version,
                namespace,
                plural,
                body,
                field_validation="Strict",
                dry_run="All" if dry_run else None,
            )
        )

    def patch_status(self, namespace: str, body: dict[str, Any], status: dict[str, Any]) -> None:
        """Merges `status` into the object's status subresource, as the operator does."""
        group, version, plural = self._route(body)
        name = body["metadata"]["name"]
        patch = {"status": status}
        self.api.patch_namespaced_custom_object_status(
            group, version, namespace, plural, name, patch
        )

    def read(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        group, version, plural = self._route(body)
        name = body["metadata"]["name"]
        return dict(self.api.get_namespaced_custom_object(group, version, namespace, plural, name))


@pytest.fixture(scope="module")
def resources(cluster: ClusterClient) -> Resources:
    """Applies crds/ once for this module and waits until every CRD is Established."""
    crds = crd_documents()
    assert crds, f"no CustomResourceDefinition in {CRD_DIR}"
    cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(CRD_DIR))
    for crd in crds:
        name = crd["metadata"]["name"]
        cluster.kubectl("wait", "--for=condition=Established", f"crd/{name}", "--timeout=60s")
    return Resources(cluster, crds)


def is_subset(expected: Any, actual: Any) -> bool:
    """True when every field of `expected` is in `actual` (defaults may add more)."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            key in actual and is_subset(value, actual[key]) for key, value in expected.items()
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(expected) == len(actual)
            and all(map(is_subset, expected, actual))
        )
    return bool(expected == actual)


def test_crds_are_established(cluster: ClusterClient, resources: Resources) -> None:
    for crd in crd_documents():
        name = crd["metadata"]["name"]
        status = json.loads(cluster.kubectl("get", f"crd/{name}", "-o", "json").stdout)["status"]
        established = {c["type"]: c["status"] for c in status["conditions"]}.get("Established")
        assert established == "True", f"{name}: {status['conditions']}"


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_is_accepted_and_reads_back_unchanged(
    resources: Resources, namespace: str, path: Path
) -> None:
    for document in _load_all(path):
        resources.create(namespace, document)
        stored = eventually(lambda d=document: resources.read(namespace, d), "object readable")
        assert is_subset(document["spec"], stored["spec"]), (
            f"{path.name}: the API server changed or pruned the spec:\n"
            f"sent   {json.dumps(document['spec'], sort_keys=True)}\n"
            f"stored {json.dumps(stored['spec'], sort_keys=True)}"
        )


@pytest.mark.parametrize("path", INVALID_EXAMPLES, ids=[p.stem for p in INVALID_EXAMPLES])
def test_invalid_example_is_rejected_by_the_api_server(
    resources: Resources, namespace: str, path: Path
) -> None:
    expected = expectations(path)
    assert "expect" in expected, f"{path.name} lacks a '# expect: <substring>' header"
    (document,) = _load_all(path)
    if expected.get("rejected-by") == "operator":
        resources.create(namespace, document)  # the schema cannot judge this one
        return
    with pytest.raises(ApiException) as rejection:
        resources.create(namespace, document)
    message = json.loads(rejection.value.body).get("message", rejection.value.body)
    assert rejection.value.status in (400, 422), message
    assert expected["expect"] in message
    assert expected.get("field", "") in message, "the error should name the offending field"


@pytest.mark.parametrize(
    ("block", "document"), DOCS_EXPERIMENTS, ids=[name for name, _ in DOCS_EXPERIMENTS]
)
def test_docs_experiment_passes_a_strict_dry_run(
    resources: Resources, namespace: str, block: str, document: dict[str, Any]
) -> None:
    """What README.md and docs/ show is what `kubectl apply` accepts (tests/docs_yaml.py)."""
    try:
        resources.create(namespace, document, dry_run=True)
    except ApiException as rejection:
        pytest.fail(f"{block}: {rejection.status} {rejection.body}")


def test_kubectl_explain_answers_for_a_nested_field(
    cluster: ClusterClient, resources: Resources
) -> None:
    """The field docstrings reach `kubectl explain` through the published OpenAPI."""

    def explained() -> str:
        result = cluster.kubectl("explain", "tex.spec.limits.maxTrials", check=False)
        return result.stdout if "Trials created in total" in result.stdout else ""

    assert "Default: 10" in eventually(explained, "maxTrials explained", timeout=60)


def columns(cluster: ClusterClient, namespace: str, resource: str) -> dict[str, str]:
    """The printer columns `kubectl get` shows for the one object of `resource` (a title
    may hold one space, as in BEST TRIAL; columns are at least two spaces apart)."""
    lines = cluster.kubectl("get", resource, "-n", namespace, "-o", "wide").stdout.splitlines()
    header, row = (re.split(r"\s{2,}", line.strip()) for line in lines[:2])
    return dict(zip(header, row, strict=True))


def test_columns_show_finished_over_max_the_best_and_a_trials_value(
    cluster: ClusterClient, resources: Resources, namespace: str
) -> None:
    experiment = yaml.safe_load((REPO_ROOT / "examples" / "quickstart.yaml").read_text())
    created = resources.create(namespace, experiment)
    trial = {
        "apiVersion": experiment["apiVersion"],
        "kind": "TuningTrial",
        "metadata": {"name": "t-0000"},
        "spec": {"experiment": created["metadata"]["name"], "index": 0},
    }
    resources.create(namespace, trial)
    counts = {"created": 5, "running": 1, "queued": 1, "succeeded": 1, "failed": 1, "stopped": 1,
              "finished": 3}  # fmt: skip
    best = {"trial": "t-0000", "value": 0.75}
    pareto = {"size": 2, "hypervolume": 1.5}  # as with several objectives (empty otherwise)
    resources.patch_status(namespace, created, {"trials": counts, "best": best, "pareto": pareto})
    resources.patch_status(
        namespace,
        trial,
        {"phase": "EarlyStopped", "value": 0.5, "reason": "EarlyStopped", "feasible": False},
    )
    shown = columns(cluster, namespace, "tex")
    assert (shown["FINISHED"], shown["BEST"], shown["RUNNING"]) == ("3", "0.75", "1"), shown
    assert shown["QUEUED"] == "1", shown  # under Kueue (absent, and empty, otherwise)
    assert (shown["FRONT"], shown["HYPERVOLUME"]) == ("2", "1.5"), shown
    assert shown["MAX"] == str(experiment["spec"].get("limits", {}).get("maxTrials", 10))
    shown = columns(cluster, namespace, "ttr")
    assert (shown["VALUE"], shown["REASON"], shown["PHASE"]) == (
        "0.5",
        "EarlyStopped",
        "EarlyStopped",
    )
    assert shown["FEASIBLE"] == "false"
