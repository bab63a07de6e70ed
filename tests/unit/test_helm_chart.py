"""The Helm chart as rendered by helm (no cluster needed): lint-clean for every promised
values set, hardened pods, RBAC scoped as the values say, and in agreement with the
operator image (Dockerfile) and the workflows that build and install it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubetune.reconcile.settings import ALL, REPORTER_IMAGE, TRIAL_WORKLOADS
from tests.cluster.binaries import REPO_ROOT
from tests.helm_chart import CHART, VALUE_SETS, Document, find, helm, objects, render, set_flags


def _operator(documents: list[Document]) -> tuple[Document, Document]:
    deployments = find(documents, "Deployment")
    (deployment,) = [d for d in deployments if not d["metadata"]["name"].endswith("-dashboard")]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return deployment, container


@pytest.mark.parametrize("values", VALUE_SETS.values(), ids=VALUE_SETS.keys())
def test_the_chart_lints_clean_and_renders_a_hardened_operator(values: list[str]) -> None:
    lint = helm("lint", "--strict", str(CHART), *set_flags(values))
    assert "0 chart(s) failed" in lint
    deployment, container = _operator(objects(render(values)))
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert container["livenessProbe"]["httpGet"]["port"] == "health"
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert {"cpu", "memory"} <= container["resources"]["requests"].keys()
    assert "memory" in container["resources"]["limits"]
    env = {variable["name"]: variable.get("value") for variable in container["env"]}
    assert env["KUBETUNE_METRICS_PORT"] == "9090"
    assert env["KUBETUNE_PASS_THREADS"] == "4"
    assert env["KUBETUNE_REPORTER_IMAGE"] == REPORTER_IMAGE.default
    assert TRIAL_WORKLOADS.read(env) == TRIAL_WORKLOADS.default
    assert {name for name in env if name.startswith("KUBETUNE_")} <= {s.env for s in ALL}


def test_trial_workloads_reach_the_operator_and_only_known_kinds_pass_the_schema() -> None:
    _, container = _operator(objects(render(["trialWorkloads={Job}"])))
    env = {variable["name"]: variable.get("value") for variable in container["env"]}
    assert env["KUBETUNE_TRIAL_WORKLOADS"] == "Job"
    with pytest.raises(AssertionError, match="trialWorkloads"):
        render(["trialWorkloads={TrainJob}"])


def test_default_values_watch_every_namespace_with_cluster_rbac() -> None:
    documents = objects(render([]))
    _, container = _operator(documents)
    assert "--all-namespaces" in container["args"]
    assert "--standalone" in container["args"]
    assert not find(documents, "Role")
    names = {role["metadata"]["name"] for role in find(documents, "ClusterRole")}
    assert names == {"kubetune-operator", "kubetune-operator-discovery"}


def test_watched_namespaces_get_a_role_each_and_no_cluster_wide_write() -> None:
    documents = objects(render(VALUE_SETS["namespaced"]))
    _, container = _operator(documents)
    assert [arg for arg in container["args"] if arg.startswith("--namespace")] == [
        "--namespace=team-a",
        "--namespace=team-b",
    ]
    assert {role["metadata"]["namespace"] for role in find(documents, "Role")} == {
        "team-a",
        "team-b",
    }
    (discovery,) = find(documents, "ClusterRole")
    verbs = {verb for rule in discovery["rules"] for verb in rule["verbs"]}
    assert verbs == {"list", "watch"}


@pytest.mark.parametrize("namespaced", [False, True])
def test_ha_runs_two_replicas_under_kopf_peering(namespaced: bool) -> None:
    values = VALUE_SETS["ha-namespaced" if namespaced else "ha"]
    documents = objects(render(values, release="prod"))
    deployment, container = _operator(documents)
    assert deployment["spec"]["replicas"] == 2
    assert "--peering=prod" in container["args"]
    assert "--standalone" not in container["args"]
    peering_kind = "KopfPeering" if namespaced else "ClusterKopfPeering"
    assert {p["metadata"]["name"] for p in find(documents, peering_kind)} == {"prod"}
    crds = yaml.safe_load_all((CHART / "crds" / "kopf-peering.yaml").read_text())
    assert peering_kind in {crd["spec"]["names"]["kind"] for crd in crds}


def test_more_replicas_without_ha_are_refused() -> None:
    with pytest.raises(AssertionError, match=r"needs ha\.enabled"):
        render(["replicas=3"])


def test_the_service_monitor_is_rendered_only_when_enabled() -> None:
    assert not find(objects(render([])), "ServiceMonitor")
    (monitor,) = find(objects(render(VALUE_SETS["service-monitor"])), "ServiceMonitor")
    assert monitor["spec"]["endpoints"][0]["port"] == "metrics"
    (service,) = find(objects(render([])), "Service")
    assert "metrics" in {port["name"] for port in service["spec"]["ports"]}


def test_the_service_monitor_honors_the_experiments_namespace_label() -> None:
    (monitor,) = find(objects(render(VALUE_SETS["service-monitor"])), "ServiceMonitor")
    assert monitor["spec"]["endpoints"][0]["honorLabels"] is True


def test_the_service_account_is_created_annotated_or_brought_by_the_user() -> None:
    annotated = ["serviceAccount.annotations.iam\\.example\\.com/role=tuner"]
    documents = objects(render(annotated))
    (account,) = find(documents, "ServiceAccount")
    assert account["metadata"]["annotations"] == {"iam.example.com/role": "tuner"}
    assert (
        _operator(documents)[0]["spec"]["template"]["spec"]["serviceAccountName"]
        == (account["metadata"]["name"])
    )
    documents = objects(render(VALUE_SETS["own-service-account"]))
    assert not find(documents, "ServiceAccount")
    pod = _operator(documents)[0]["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "ops"
    assert pod["imagePullSecrets"] == [{"name": "regcred"}]
    bindings = find(documents, "ClusterRoleBinding")
    assert {subject["name"] for b in bindings for subject in b["subjects"]} == {"ops"}


def test_security_contexts_are_restrictive_by_default_and_can_be_changed() -> None:
    pod = _operator(objects(render([])))[0]["spec"]["template"]["spec"]
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert "imagePullSecrets" not in pod
    changed = ["podSecurityContext.runAsUser=2000", "securityContext.readOnlyRootFilesystem=false"]
    deployment, container = _operator(objects(render(changed)))
    assert deployment["spec"]["template"]["spec"]["securityContext"]["runAsUser"] == 2000
    assert container["securityContext"]["readOnlyRootFilesystem"] is False


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ("logLevel: verbose", 'logLevel must be one of the following: "debug", "info", "warning"'),
        ('replicas: "3"', "replicas: Invalid type. Expected: integer, given: string"),
        ("watchNamespaces: team-a", "watchNamespaces: Invalid type. Expected: array"),
        ("metrics: {port: 70000}", "metrics.port: Must be less than or equal to 65535"),
        ("serviceAccount: {create: yes please}", "serviceAccount.create: Invalid type"),
        ("logLevl: debug", "Additional property logLevl is not allowed"),
    ],
)
def test_a_wrong_value_fails_rendering_naming_it(tmp_path: Path, values: str, message: str) -> None:
    values_file = tmp_path / "values.yaml"
    values_file.write_text(values + "\n")
    with pytest.raises(AssertionError) as caught:
        render([], values_file=values_file)
    assert "values don't meet the specifications of the schema" in str(caught.value)
    assert message in str(caught.value)


def test_the_values_files_in_the_install_guide_render(tmp_path: Path) -> None:
    guide = (REPO_ROOT / "docs" / "install.md").read_text()
    blocks = re.findall(r"^```yaml\n(.*?)^```$", guide, re.MULTILINE | re.DOTALL)
    assert blocks, "docs/install.md shows a values file"
    for index, block in enumerate(blocks):
        values_file = tmp_path / f"values-{index}.yaml"
        values_file.write_text(block)
        lint = helm("lint", "--strict", str(CHART), "--values", str(values_file))
        assert "0 chart(s) failed" in lint
        assert find(objects(render([], values_file=values_file)), "Deployment")


def test_the_operator_image_runs_what_the_chart_runs() -> None:
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    deployment, container = _operator(objects(render([])))
    entrypoint = re.search(r'^ENTRYPOINT \["(\w+)"\]', dockerfile, re.MULTILINE)
    assert entrypoint is not None and entrypoint.group(1) == "kopf"
    module = next(arg for arg in container["args"] if arg.startswith("--module="))
    assert module in dockerfile
    user = re.search(r"^USER (\d+)", dockerfile, re.MULTILINE)
    assert user is not None
    pod_security = deployment["spec"]["template"]["spec"]["securityContext"]
    assert int(user.group(1)) == pod_security["runAsUser"]
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert container["image"] == f"kubetune/operator:{chart['appVersion']}"
    assert f"kubetune/trial:{chart['appVersion']}" == REPORTER_IMAGE.default


def _workflow(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((REPO_ROOT / ".github/workflows" / name).read_text())
    return loaded


def _run_text(workflow: dict[str, Any]) -> str:
    steps = [step for job in workflow["jobs"].values() for step in job["steps"]]
    return "\n".join(str(step.get("run", "")) + str(step.get("with", "")) for step in steps)


@pytest.mark.parametrize("name", ["e2e.yaml", "unit.yaml"])
def test_workflows_parse_and_name_files_that_exist(name: str) -> None:
    workflow = _workflow(name)
    assert workflow["jobs"], name
    text = _run_text(workflow)
    named = re.findall(r"(?<![\w./-])((?:[\w-]+/)*[\w.-]+\.(?:yaml|sh)|Dockerfile|\.ci/run)", text)
    assert named, name
    for path in named:
        assert (REPO_ROOT / path).exists(), f"{name} names {path}, which does not exist"


def test_the_e2e_workflow_builds_both_images_and_runs_the_quickstart() -> None:
    text = _run_text(_workflow("e2e.yaml"))
    for expected in ("-f Dockerfile", "-f trial-image/Dockerfile", "kind-config.yaml",
                     "kind load docker-image", "helm install", "charts/kubetune", "--wait",
                     "nvidia.com~1gpu", "examples/quickstart.yaml", "Succeeded"):  # fmt: skip
        assert expected in text, expected
    quickstart = yaml.safe_load((REPO_ROOT / "examples/quickstart.yaml").read_text())
    assert quickstart["metadata"]["name"] == "digits-svc"
    assert "EXPERIMENT: digits-svc" in (REPO_ROOT / ".github/workflows/e2e.yaml").read_text()


def test_the_dashboard_is_off_by_default() -> None:
    documents = objects(render([]))
    assert all("dashboard" not in document["metadata"]["name"] for document in documents)


def test_the_dashboard_runs_read_only_beside_the_operator() -> None:
    values = ["dashboard.enabled=true", "dashboard.namespace=team-a"]
    assert "0 chart(s) failed" in helm("lint", "--strict", str(CHART), *set_flags(values))
    documents = objects(render(values))
    deployments = {d["metadata"]["name"]: d for d in find(documents, "Deployment")}
    operator, dashboard = (
        deployments["kubetune-operator"],
        deployments["kubetune-operator-dashboard"],
    )
    selector = operator["spec"]["selector"]["matchLabels"].items()
    pod = dashboard["spec"]["template"]
    assert not selector <= pod["metadata"]["labels"].items()  # the operator's pods only
    (container,) = pod["spec"]["containers"]
    assert container["command"] == ["kubetune"]
    assert container["args"][:3] == ["dashboard", "--cluster", "--namespace=team-a"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["spec"]["serviceAccountName"] == "kubetune-operator-dashboard"
    (role,) = find(documents, "Role")
    assert role["metadata"]["namespace"] == "team-a"
    assert {verb for rule in role["rules"] for verb in rule["verbs"]} <= {"get", "list"}
    (binding,) = find(documents, "RoleBinding")
    assert binding["subjects"][0]["name"] == pod["spec"]["serviceAccountName"]
    service = next(s for s in find(documents, "Service") if "dashboard" in s["metadata"]["name"])
    assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    assert '"/src[dashboard]"' in dockerfile  # the image has what the container runs
