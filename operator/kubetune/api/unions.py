"""Flattens a tagged union into one structural object plus CEL rules.

Structural schemas cannot say "if name is grid then resolution is allowed": the flat
object lists every member's fields, and CEL rules, one per field, restore what the
separate pydantic models say: which tag a field belongs to, which fields a tag requires,
and each member's own rules, guarded by its tag.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]
_UNKNOWN: Schema = {"x-kubernetes-preserve-unknown-fields": True}


def is_unknown(schema: Schema) -> bool:
    """Whether CEL cannot see this field: untyped, or a list or map of untyped values."""
    if "type" not in schema:
        return bool(schema.get("x-kubernetes-preserve-unknown-fields"))
    if schema["type"] == "array":
        return is_unknown(schema.get("items", {}))
    extra = schema.get("additionalProperties")
    return schema["type"] == "object" and isinstance(extra, dict) and is_unknown(extra)


def flatten_union(members: list[Schema]) -> Schema:
    """One object schema accepting any member; rules keep each member's constraints."""
    tag = _tag_property(members)
    tags = [m["properties"][tag]["enum"][0] for m in members]
    names = list(dict.fromkeys(p for m in members for p in m["properties"]))
    properties = {name: _merge_property(name, members) for name in names}
    properties[tag] = _tag_schema(members, tag, tags)
    flat: Schema = {"type": "object", "properties": properties}
    required = [p for p in names if all(p in m.get("required", ()) for m in members)]
    if required:
        flat["required"] = required
    rules = _membership_rules(members, tag, tags, properties)
    rules += _member_rules(members, tag, tags)
    if rules:
        flat["x-kubernetes-validations"] = rules
    return flat


def _tag_property(members: list[Schema]) -> str:
    first: dict[str, Schema] = members[0]["properties"]
    for name in first:
        if all(len(m["properties"].get(name, {}).get("enum", ())) == 1 for m in members):
            return name
    raise ValueError("union members share no single-valued tag property")


def _tag_schema(members: list[Schema], tag: str, tags: list[str]) -> Schema:
    own = [m["properties"][tag] for m in members]
    schema: Schema = {"type": "string", "enum": tags}
    defaults = [p["default"] for p in own if "default" in p]
    undefaulted = [p for p in own if "default" not in p]  # words without a "Default:" note
    words = undefaulted[0].get("description", tag) if undefaulted else tag
    schema["description"] = f"{words} {_choices(members, tags)}."
    if defaults:
        schema["default"] = defaults[0]
        schema["description"] += f" Default: {defaults[0]}."
    return schema


def _choices(members: list[Schema], tags: list[str]) -> str:
    """What each tag selects, from its member's docstring: `kubectl explain` on the tag
    then lists the choices."""
    return "; ".join(
        f"{tag}: {member.get('description', '').rstrip('.')}"
        for tag, member in zip(tags, members, strict=True)
    )


def _merge_property(name: str, members: list[Schema]) -> Schema:
    schemas = [m["properties"][name] for m in members if name in m["properties"]]
    merged = _merge(schemas)
    if len(schemas) < len(members):
        merged.pop("default", None)  # a default would add the field to other tags too
    return merged


def _merge(schemas: list[Schema]) -> Schema:
    """The loosest schema accepting what each of `schemas` accepts."""
    types = {s.get("type") for s in schemas}
    if len(types) > 1 and not types <= {"integer", "number"}:
        return dict(_UNKNOWN)
    first = schemas[0]
    merged = {k: v for k, v in first.items() if all(s.get(k) == v for s in schemas)}
    if len(types) > 1:
        merged["type"] = "number"
    if "items" in first and "items" not in merged:
        merged["items"] = _merge([s["items"] for s in schemas])
    return merged


def _is_in(tag: str, tags: list[str]) -> str:
    quoted = ", ".join(f"'{t}'" for t in tags)
    return f"has(self.{tag}) && self.{tag} in [{quoted}]"


def _membership_rules(
    members: list[Schema], tag: str, tags: list[str], properties: Schema
) -> list[Schema]:
    rules = []
    for name, schema in properties.items():
        if name == tag or is_unknown(schema):
            continue  # CEL cannot read a field of unknown type; pydantic checks it
        owners = [t for t, m in zip(tags, members, strict=True) if name in m["properties"]]
        needing = [t for t, m in zip(tags, members, strict=True) if name in m.get("required", ())]
        if len(owners) < len(tags):
            rules.append(
                _rule(
                    f"!has(self.{name}) || ({_is_in(tag, owners)})",
                    f"only allowed when {tag} is {' or '.join(owners)}",
                    name,
                    "FieldValueForbidden",
                )
            )
        if needing and len(needing) < len(tags):
            rules.append(
                _rule(
                    f"!({_is_in(tag, needing)}) || has(self.{name})",
                    f"required when {tag} is {' or '.join(needing)}",
                    name,
                    "FieldValueRequired",
                )
            )
    return rules


def _rule(rule: str, message: str, name: str, reason: str) -> Schema:
    return {"rule": rule, "message": message, "fieldPath": f".{name}", "reason": reason}


def _member_rules(members: list[Schema], tag: str, tags: list[str]) -> list[Schema]:
    """Each member's own rules, guarded by its tag (identical rules share one guard)."""
    owners: dict[str, list[str]] = {}
    entries: dict[str, Schema] = {}
    for member_tag, member in zip(tags, members, strict=True):
        for entry in member.get("x-kubernetes-validations", ()):
            key = repr(sorted(entry.items()))
            owners.setdefault(key, []).append(member_tag)
            entries[key] = entry
    return [
        {**entry, "rule": f"!({_is_in(tag, owners[key])}) || ({entry['rule']})"}
        for key, entry in entries.items()
    ]
