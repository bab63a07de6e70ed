"""Every field of the committed CRDs has a description, so `kubectl explain` answers for
each one (`kubectl explain tex.spec.limits.maxTrials`). Opaque blobs the API server keeps
as written (a pod template's other fields, metadata) declare no fields to describe."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

CRDS = sorted((Path(__file__).resolve().parents[2] / "crds").glob("*.yaml"))
Schema = dict[str, Any]


def fields(schema: Schema, path: str) -> Iterator[tuple[str, Schema]]:
    """(path, schema) of every declared property and every object an array holds."""
    for name, child in schema.get("properties", {}).items():
        yield f"{path}.{name}", child
        yield from fields(child, f"{path}.{name}")
    items = schema.get("items")
    if isinstance(items, dict):
        if items.get("type") == "object":
            yield f"{path}[]", items
        yield from fields(items, f"{path}[]")


def is_opaque(path: str, schema: Schema) -> bool:
    """metadata (the server's ObjectMeta, which refuses even a description in a CRD) and
    kept-as-written values without fields."""
    declared = "properties" in schema
    return path == ".metadata" or (
        bool(schema.get("x-kubernetes-preserve-unknown-fields")) and not declared
    )


def undescribed(crd: Schema) -> list[str]:
    root = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return [
        path
        for path, schema in fields(root, "")
        if not schema.get("description") and not is_opaque(path, schema)
    ]


@pytest.mark.parametrize("path", CRDS, ids=lambda path: path.name)
def test_every_field_has_a_description(path: Path) -> None:
    missing = undescribed(yaml.safe_load(path.read_text()))
    assert not missing, f"{path.name}: fields without a description: {', '.join(missing)}"


def test_both_resources_are_checked() -> None:
    assert [path.name for path in CRDS] == ["tuningexperiments.yaml", "tuningtrials.yaml"]


def test_a_nested_field_and_an_object_in_a_list_are_reported() -> None:
    crd = {
        "spec": {
            "versions": [
                {
                    "schema": {
                        "openAPIV3Schema": {
                            "properties": {
                                "metadata": {"type": "object"},
                                "spec": {
                                    "description": "described",
                                    "properties": {
                                        "blob": {"x-kubernetes-preserve-unknown-fields": True},
                                        "a": {"type": "array", "items": {"type": "object"}},
                                        "b": {"type": "array", "items": {"type": "string"}},
                                    },
                                },
                            }
                        }
                    }
                }
            ],
        }
    }
    assert undescribed(crd) == [".spec.a", ".spec.a[]", ".spec.b"]
