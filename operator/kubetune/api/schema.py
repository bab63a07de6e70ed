"""Turns pydantic's JSON Schema into a Kubernetes structural schema.

The API server only accepts structural schemas: every node typed, no `$ref`, no type
inside `anyOf`/`oneOf`. So references are inlined, `X | None` becomes `nullable`, and a
tagged union (parameters, algorithm, earlyStopping) becomes one flat object holding every
member's fields, with CEL rules (see `unions`) saying which fields belong to which tag.
"""

from __future__ import annotations

import json
from typing import Any

from kubetune.api.unions import flatten_union

Schema = dict[str, Any]

_KEPT_KEYWORDS = (
    "description",
    "type",
    "format",
    "enum",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "minItems",
    "maxItems",
    "maxProperties",
    "required",
    "x-kubernetes-validations",
)
UNKNOWN: Schema = {"x-kubernetes-preserve-unknown-fields": True}


def structural(schema: Schema) -> Schema:
    """The structural form of a pydantic `model_json_schema(by_alias=True)`."""
    return _convert(schema, schema.get("$defs", {}))


def _resolve(node: Schema, defs: Schema) -> Schema:
    """`node` with a `$ref` replaced by its definition (node's own keys win)."""
    if "$ref" not in node:
        return node
    target = defs[node["$ref"].rsplit("/", 1)[-1]]
    return {**target, **{k: v for k, v in node.items() if k != "$ref"}}


def _convert(node: Schema, defs: Schema) -> Schema:
    node = _resolve(node, defs)
    members = node.get("oneOf") or node.get("anyOf")
    if members:
        return _convert_union(node, [_resolve(m, defs) for m in members], defs)
    result = _copy_keywords(node)
    if node.get("type") == "object":
        result.update(_object_parts(node, defs))
    elif node.get("type") == "array" and "items" in node:
        result["items"] = _convert(node["items"], defs)
    return result


def _copy_keywords(node: Schema) -> Schema:
    result = {key: node[key] for key in _KEPT_KEYWORDS if key in node}
    if "description" in node:
        result["description"] = _described(node["description"], node.get("default"))
    if "const" in node:
        result["enum"] = [node["const"]]
    if "exclusiveMinimum" in node:  # JSON Schema's number form, OpenAPI v3.0's flag form
        result.update(minimum=node["exclusiveMinimum"], exclusiveMinimum=True)
    if "exclusiveMaximum" in node:
        result.update(maximum=node["exclusiveMaximum"], exclusiveMaximum=True)
    if node.get("default") is not None:
        result["default"] = node["default"]
    return result


def _described(text: str, default: Any) -> str:
    """A docstring as one paragraph (its line breaks are not the reader's), with the
    default spelled out: `kubectl explain` shows the description, not the schema's default,
    and a tagged union's merged field keeps no default (it would apply to every tag)."""
    paragraph = " ".join(text.split())
    if default in (None, "", [], {}):
        return paragraph
    shown = default if isinstance(default, str) else json.dumps(default)
    return f"{paragraph} Default: {shown}."


def _object_parts(node: Schema, defs: Schema) -> Schema:
    parts: Schema = {}
    if "properties" in node:
        parts["properties"] = {k: _convert(v, defs) for k, v in node["properties"].items()}
    extra = node.get("additionalProperties", False)
    if extra is True:
        parts["x-kubernetes-preserve-unknown-fields"] = True
    elif isinstance(extra, dict):
        values = _convert(extra, defs)
        if values == UNKNOWN:  # CEL and the API server accept any value under this key
            parts["x-kubernetes-preserve-unknown-fields"] = True
        else:
            parts["additionalProperties"] = values
    return parts


def _convert_union(node: Schema, members: list[Schema], defs: Schema) -> Schema:
    outer = _copy_keywords({k: v for k, v in node.items() if k not in ("oneOf", "anyOf")})
    present = [m for m in members if m.get("type") != "null"]
    nullable = len(present) < len(members)
    if len(present) == 1:
        inner = _convert({**present[0], **outer}, defs)
    elif all(m.get("type") == "object" for m in present):
        inner = {**flatten_union([_convert(m, defs) for m in present]), **outer}
    elif all(m.get("type") in ("integer", "number") for m in present):
        inner = {"type": "number", **outer}
    else:
        inner = {**UNKNOWN, **{k: v for k, v in outer.items() if k == "description"}}
    return {**inner, "nullable": True} if nullable and "type" in inner else inner
