"""The Helm chart against the real API server: every rendered object passes server-side
validation, `helm install` succeeds, and the operator's ServiceAccount may do exactly
what the operator does (the calls in kubetune/k8s/ and kopf's watches), nothing more.

No kubelet runs the operator's pod here (no image); the chart's objects and RBAC are what
is tested. The list of needed permissions is derived from the operator's API calls.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator

import pytest
import yaml

from tests.cluster import ClusterClient
from tests.helm_chart import CHART, VALUE_SETS, find, helm, objects, render, set_flags

pytestmark = pytest.mark.integration

TRIALS, EXPERIMENTS = "tuningtrials.kubetune.dev", "tuningexperiments.kubetune.dev"
CLUSTER_SCOPED = {"ClusterRole", "ClusterRoleBinding", "ClusterKopfPeering"}
# (verb, resource, subresource): every request the operator makes in a watched namespace.
NEEDED = [
    *[(verb, EXPERIMENTS, "") for verb in ("get", "list", "watch", "patch")],
    ("patch", EXPERIMENTS, "status"),
    *[(verb, TRIALS, "") for verb in ("get", "list", "watch", "create")],
    ("patch", TRIALS, "status"),
    *[(verb, "jobs.batch", "") for verb in ("list", "watch", "create", "patch", "delete")],
    ("list", "pods", ""),
    ("watch", "pods", ""),
    ("get", "pods", "log"),
    ("get", "secrets", ""),
    ("create", "secrets", ""),
    ("create", "events", ""),
]
# Kueue's Workloads are only read. Kueue is not installed in this cluster, and
# `kubectl auth can-i VERB RESOURCE` needs the type to be discoverable, so these are
# checked in the grants `kubectl auth can-i --list` reports.
KUEUE_WORKLOADS, KUEUE_VERBS = "workloads.kueue.x-k8s.io", {"list", "watch"}
JOBSETS, JOBSET_VERBS = "jobsets.jobset.x-k8s.io", {"list", "watch", "create", "patch", "delete"}
NOT_NEEDED = [
    ("list", "secrets", ""),
    ("delete", "secrets", ""),
    ("create", "pods", ""),
    ("delete", "pods", ""),
    ("create", "pods", "exec"),
    ("delete", TRIALS, ""),
    ("update", EXPERIMENTS, ""),
    ("delete", EXPERIMENTS, ""),
    ("create", "deployments.apps", ""),
    ("create", "rolebindings.rbac.authorization.k8s.io", ""),
]


def _can(cluster: ClusterClient, account: str, verb: str, resource: str, *where: str) -> bool:
    subresource, *scope = where or ("",)
    flags = [f"--subresource={subresource}"] if subresource else []
    result = cluster.kubectl("auth", "can-i", verb, resource, *flags, *scope, f"--as={account}",
                             check=False)  # fmt: skip
    assert result.stdout.strip() in ("yes", "no"), result.stderr
    return result.stdout.strip() == "yes"


def _listed_verbs(cluster: ClusterClient, account: str, resource: str, namespace: str) -> set[str]:
    """The verbs `kubectl auth can-i --list` grants `account` on `resource` there."""
    result = cluster.kubectl("auth", "can-i", "--list", f"--as={account}", "-n", namespace)
    verbs: set[str] = set()
    for line in result.stdout.splitlines():
        if line.split() and line.split()[0] == resource:
            verbs |= set(line[line.rindex("[") + 1 : line.rindex("]")].split())
    return verbs


@contextlib.contextmanager
def _installed(cluster: ClusterClient, namespace: str, values: list[str]) -> Iterator[str]:
    """The chart installed as a fresh release (cluster-scoped names must not collide)."""
    release = f"kt{secrets.token_hex(3)}"
    kubeconfig = cluster.kubeconfig
    helm("install", release, str(CHART), "-n", namespace, *set_flags(values), kubeconfig=kubeconfig)
    try:
        yield f"system:serviceaccount:{namespace}:{release}-operator"
    finally:
        helm("uninstall", release, "-n", namespace, "--wait", kubeconfig=kubeconfig)


@contextlib.contextmanager
def _namespaces(cluster: ClusterClient, base: str, count: int) -> Iterator[list[str]]:
    names = [f"{base}-w{index}" for index in range(count)]
    for name in names:
        cluster.kubectl("create", "namespace", name)
    try:
        yield names
    finally:
        cluster.kubectl("delete", "namespace", *names, "--wait=false")


def _install_peering_crds(cluster: ClusterClient) -> None:
    cluster.kubectl("apply", "-f", str(CHART / "crds" / "kopf-peering.yaml"))
    cluster.kubectl("wait", "--for=condition=Established", "--timeout=60s",
                    "crd/kopfpeerings.kopf.dev", "crd/clusterkopfpeerings.kopf.dev")  # fmt: skip


@pytest.mark.parametrize("name", VALUE_SETS)
def test_rendered_objects_pass_server_side_validation(
    cluster: ClusterClient, namespace: str, name: str
) -> None:
    _install_peering_crds(cluster)
    with _namespaces(cluster, namespace, 2) as watched:
        values = [
            v.replace("{team-a,team-b}", "{" + ",".join(watched) + "}") for v in VALUE_SETS[name]
        ]
        rendered = objects(render(values, release=f"kt{secrets.token_hex(3)}", namespace=namespace))
        # No Prometheus operator here: its ServiceMonitor CRD is absent (unit-tested instead).
        checkable = [o for o in rendered if o["kind"] != "ServiceMonitor"]
        for document in checkable:  # helm leaves the release namespace to `helm install`
            if document["kind"] not in CLUSTER_SCOPED:
                document["metadata"].setdefault("namespace", namespace)
        manifest = yaml.safe_dump_all(checkable)
        result = cluster.kubectl("apply", "--dry-run=server", "-f", "-", stdin=manifest)
    assert result.stdout.count("(server dry run)") == len(checkable), result.stdout


def test_cluster_wide_install_grants_what_the_operator_uses_and_no_more(
    cluster: ClusterClient, namespace: str
) -> None:
    with _installed(cluster, namespace, []) as account:
        for verb, resource, subresource in NEEDED:
            assert _can(cluster, account, verb, resource, subresource, "-A"), (verb, resource)
        for verb, resource, subresource in NOT_NEEDED:
            assert not _can(cluster, account, verb, resource, subresource, "-A"), (verb, resource)
        assert _listed_verbs(cluster, account, KUEUE_WORKLOADS, namespace) == KUEUE_VERBS
        assert _listed_verbs(cluster, account, JOBSETS, namespace) == JOBSET_VERBS
        assert _can(cluster, account, "watch", "customresourcedefinitions.apiextensions.k8s.io")
        assert not _can(cluster, account, "get", "nodes")
        assert not _can(
            cluster, account, "create", "customresourcedefinitions.apiextensions.k8s.io"
        )


def test_namespaced_install_grants_only_in_the_watched_namespaces(
    cluster: ClusterClient, namespace: str
) -> None:
    with _namespaces(cluster, namespace, 2) as watched:
        values = [f"watchNamespaces={{{','.join(watched)}}}"]
        with _installed(cluster, namespace, values) as account:
            for target in watched:
                for verb, resource, subresource in NEEDED:
                    assert _can(cluster, account, verb, resource, subresource, f"-n={target}")
                for verb, resource, subresource in NOT_NEEDED:
                    assert not _can(cluster, account, verb, resource, subresource, f"-n={target}")
                assert _listed_verbs(cluster, account, KUEUE_WORKLOADS, target) == KUEUE_VERBS
                assert _listed_verbs(cluster, account, JOBSETS, target) == JOBSET_VERBS
            assert not _listed_verbs(cluster, account, KUEUE_WORKLOADS, namespace)
            assert not _listed_verbs(cluster, account, JOBSETS, namespace)
            # Nothing outside the watched namespaces: not its own, not cluster-wide.
            for verb, resource, subresource in NEEDED:
                assert not _can(cluster, account, verb, resource, subresource, "-A")
                assert not _can(cluster, account, verb, resource, subresource, f"-n={namespace}")
            assert not _can(cluster, account, "get", "nodes")


# The dashboard's own ServiceAccount reads experiments, trials and trial logs, nothing more.
DASHBOARD_READS = [
    *[(verb, resource, "") for verb in ("get", "list") for resource in (EXPERIMENTS, TRIALS)],
    ("list", "pods", ""),
    ("get", "pods", "log"),
]
DASHBOARD_MAY_NOT = [
    ("watch", EXPERIMENTS, ""),
    ("patch", EXPERIMENTS, ""),
    ("patch", EXPERIMENTS, "status"),
    ("create", TRIALS, ""),
    ("delete", "jobs.batch", ""),
    ("get", "secrets", ""),
    ("delete", "pods", ""),
    ("create", "pods", "exec"),
]


def test_the_dashboard_may_only_read_the_experiments_of_its_namespace(
    cluster: ClusterClient, namespace: str
) -> None:
    with _installed(cluster, namespace, ["dashboard.enabled=true"]) as operator:
        account = f"{operator}-dashboard"
        for verb, resource, subresource in DASHBOARD_READS:
            assert _can(cluster, account, verb, resource, subresource, f"-n={namespace}")
            assert not _can(cluster, account, verb, resource, subresource, "-A")
        for verb, resource, subresource in DASHBOARD_MAY_NOT:
            assert not _can(cluster, account, verb, resource, subresource, f"-n={namespace}")


def test_the_installed_release_creates_the_operator_objects(
    cluster: ClusterClient, namespace: str
) -> None:
    with _installed(cluster, namespace, []):
        found = cluster.kubectl("get", "deployment,service,serviceaccount", "-n", namespace,
                                "-o", "yaml").stdout  # fmt: skip
        kinds = {item["kind"] for item in yaml.safe_load(found)["items"]}
    assert {"Deployment", "Service", "ServiceAccount"} <= kinds
    assert find(objects(render([])), "Deployment")


def test_the_install_notes_say_how_to_check_the_operator_and_start(
    cluster: ClusterClient, namespace: str
) -> None:
    release = f"kt{secrets.token_hex(3)}"
    kubeconfig = cluster.kubeconfig
    flags = ["-n", namespace, "--set", f"watchNamespaces={{{namespace}}}"]
    notes = helm("install", release, str(CHART), *flags, kubeconfig=kubeconfig)
    try:
        assert f"rollout status deployment/{release}-operator" in notes, notes
        assert f"kubectl apply -n {namespace} -f examples/quickstart.yaml" in notes, notes
        assert "kubectl get tuningexperiments" in notes
    finally:
        helm("uninstall", release, "-n", namespace, "--wait", kubeconfig=kubeconfig)
