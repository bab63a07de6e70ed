"""The committed CRDs match the models, are structural, and carry the CEL messages the
Python validators use."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubetune.api import rules
from kubetune.api.crd import API_DOC, OUTPUT_DIRS, api_reference, generated_files
from kubetune.api.unions import is_unknown
from kubetune.api.yamltext import dump_yaml
from kubetune.reporting.protocol import METRIC_NAME_PATTERN

ROOT = Path(__file__).resolve().parents[2]
GENERATED = generated_files()


@pytest.mark.parametrize("directory", OUTPUT_DIRS)
@pytest.mark.parametrize("name", sorted(GENERATED))
def test_committed_crd_is_up_to_date(directory: str, name: str) -> None:
    committed = (ROOT / directory / name).read_text()
    assert committed == GENERATED[name], "stale CRD: run python -m kubetune.api.crd"


def test_committed_api_reference_is_up_to_date() -> None:
    committed = (ROOT / API_DOC).read_text()
    assert committed == api_reference(ROOT), "stale docs/api.md: run python -m kubetune.api.crd"


def load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(GENERATED[name])
    return document


def nodes(schema: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    yield path, schema
    for key, child in schema.get("properties", {}).items():
        yield from nodes(child, f"{path}.{key}")
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            yield from nodes(schema[key], f"{path}[{key}]")


def schema_of(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = load(name)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_schema_is_structural(name: str) -> None:
    forbidden = {"$ref", "$defs", "anyOf", "oneOf", "allOf", "discriminator", "const", "title"}
    for path, node in nodes(schema_of(name)):
        assert not forbidden & node.keys(), path
        assert "type" in node or node.get("x-kubernetes-preserve-unknown-fields"), path
        if node.get("type") == "object" and path != ".metadata":  # the server owns metadata
            typed = {"properties", "additionalProperties", "x-kubernetes-preserve-unknown-fields"}
            assert typed & node.keys(), f"{path}: object without fields"


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_lists_and_cel_strings_are_bounded(name: str) -> None:
    for path, node in nodes(schema_of(name)):
        if node.get("type") == "array" and path.startswith(".spec"):
            assert "maxItems" in node, f"{path}: unbounded list makes CEL cost unbounded"


def test_rules_carry_the_python_messages() -> None:
    text = GENERATED["tuningexperiments.yaml"]
    for message in (
        rules.MAX_GREATER_THAN_MIN,
        rules.LOG_SCALE_NEEDS_POSITIVE_MIN,
        rules.PARAMETER_NAMES_UNIQUE,
        rules.PARALLEL_WITHIN_MAX_TRIALS,
        rules.MAX_RESOURCE_GREATER_THAN_MIN,
        rules.TOURNAMENT_WITHIN_POPULATION,
        rules.TEMPLATE_NEEDS_CONTAINER,
        rules.REPORTABLE_METRIC,
        rules.DURATION_POSITIVE,
        rules.BOUND_TOO_LARGE,
    ):
        assert f'"{message}"' in text


def test_the_metric_rule_uses_the_protocols_own_pattern() -> None:
    assert f"matches('^{METRIC_NAME_PATTERN}$')" in GENERATED["tuningexperiments.yaml"]


def test_a_container_argv_is_typed_as_a_list_of_strings() -> None:
    template = schema_of("tuningexperiments.yaml")["properties"]["spec"]["properties"]["trial"]
    pod_spec = template["properties"]["template"]["properties"]["spec"]
    container = pod_spec["properties"]["containers"]["items"]
    for argv in ("command", "args"):
        assert container["properties"][argv]["type"] == "array"
        assert container["properties"][argv]["items"] == {"type": "string"}


def test_crd_names_columns_and_status_subresource() -> None:
    crd = load("tuningexperiments.yaml")
    version = crd["spec"]["versions"][0]
    assert crd["spec"]["names"]["shortNames"] == ["tex"]
    assert crd["spec"]["names"]["categories"] == ["kubetune"]
    assert version["subresources"] == {"status": {}}
    columns = {c["name"]: c["jsonPath"] for c in version["additionalPrinterColumns"]}
    assert columns["Best"] == ".status.best.value"
    assert columns["Max"] == ".spec.limits.maxTrials"
    assert load("tuningtrials.yaml")["spec"]["names"]["shortNames"] == ["ttr"]


def columns_of(name: str) -> dict[str, str]:
    version = load(name)["spec"]["versions"][0]
    return {column["name"]: column["jsonPath"] for column in version["additionalPrinterColumns"]}


def declared(schema: dict[str, Any], json_path: str) -> bool:
    """Whether the schema declares the field a printer column reads (an undeclared status
    field is pruned by the API server, and the column stays empty)."""
    for key in json_path.strip(".").split("."):
        schema = schema.get("properties", {}).get(key, {})
    return bool(schema)


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_every_printer_column_reads_a_declared_field(name: str) -> None:
    for column, path in columns_of(name).items():
        if not path.startswith(".metadata"):
            assert declared(schema_of(name), path), f"{column}: {path} is not in the schema"


def test_columns_count_every_finished_trial_and_show_a_trials_value() -> None:
    experiment, trial = columns_of("tuningexperiments.yaml"), columns_of("tuningtrials.yaml")
    assert experiment["Finished"] == ".status.trials.finished"
    assert (trial["Value"], trial["Reason"]) == (".status.value", ".status.reason")
    assert not declared(schema_of("tuningtrials.yaml"), ".status.nothing")


def test_union_fields_are_restricted_to_their_tag() -> None:
    algorithm = schema_of("tuningexperiments.yaml")["properties"]["spec"]["properties"]["algorithm"]
    assert algorithm["properties"]["name"]["default"] == "bayesian"
    assert "default" not in algorithm["properties"]["resolution"]
    resolution_rules = [
        r for r in algorithm["x-kubernetes-validations"] if r["fieldPath"] == ".resolution"
    ]
    assert (
        resolution_rules[0]["rule"]
        == "!has(self.resolution) || (has(self.name) && self.name in ['grid'])"
    )


def test_cel_never_reads_a_field_the_api_server_hides() -> None:
    parameter = schema_of("tuningexperiments.yaml")["properties"]["spec"]["properties"][
        "parameters"
    ]["items"]
    assert is_unknown(parameter["properties"]["values"])
    assert all("self.values" not in r["rule"] for r in parameter["x-kubernetes-validations"])


def test_yaml_writer_reads_back_unchanged() -> None:
    document = {
        "rule": "!has(self.x) || self.y in ['a']",
        "true": "${C}: yes",
        "items": [{"a": [1, 2.5e-05, None]}, [], {}, "", "- not a list"],
        "nested": {"deep": [{"k": True, "v": '"quoted"\n'}]},
    }
    assert yaml.safe_load(dump_yaml(document)) == document
