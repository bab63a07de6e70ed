"""Which edits a running experiment accepts.

Trials already run were suggested for one search space and objective, so changing those
mid-search would mix incomparable results. The budget and the pause switch are safe to
change: `limits.parallelTrials`, `limits.maxTrials` and `suspend`. Any other edit is
refused: the operator keeps running the last accepted spec (plus the allowed fields of
the new one) and says which fields it ignored, until the user reverts them.

Only the immutable part of the accepted spec is kept, since that is all a comparison
needs: its digest in an annotation on the experiment (bounded, whatever the spec's
size), and the part itself beside the experiment (`k8s.spec_store`), so a restarted
operator compares against the same baseline. A pass reads that copy only when the
submitted spec's digest differs from the accepted one.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubetune.api import API_GROUP

ACCEPTED_SPEC_ANNOTATION = f"{API_GROUP}/accepted-spec"
MUTABLE_LIMITS = ("parallelTrials", "maxTrials")
MUTABLE_TOP_LEVEL = ("suspend",)
EDITABLE_FIELDS = (
    *(f"spec.limits.{key}" for key in MUTABLE_LIMITS),
    *(f"spec.{key}" for key in MUTABLE_TOP_LEVEL),
)
DIGEST_PREFIX = "sha256:"

Document = dict[str, Any]


@dataclass(frozen=True)
class SpecDecision:
    """The spec to run, the fields of the submitted spec that were refused (empty when
    all of it was accepted), and the annotation to store when it differs from the one
    stored."""

    effective: Document
    refused: tuple[str, ...]
    annotation: str | None


def encode_spec(spec: Mapping[str, Any]) -> str:
    return json.dumps(spec, sort_keys=True, separators=(",", ":"))


def accepted_part(spec: Mapping[str, Any]) -> Document:
    """The part of a spec that is kept once accepted: everything but the mutable fields."""
    return _immutable_part(spec)


def spec_digest(spec: Mapping[str, Any]) -> str:
    """The annotation value naming an accepted spec: a digest of its immutable part."""
    return digest_of(encode_spec(accepted_part(spec)))


def digest_of(encoded_part: str) -> str:
    """The digest of an already encoded immutable part (see `spec_digest`)."""
    return DIGEST_PREFIX + hashlib.sha256(encoded_part.encode("utf-8")).hexdigest()


def is_digest(annotation: str | None) -> bool:
    """Whether the annotation is a digest (older operators stored the JSON spec itself)."""
    return bool(annotation) and str(annotation).startswith(DIGEST_PREFIX)


def decide_spec(submitted: Mapping[str, Any], stored_annotation: str | None) -> SpecDecision:
    """Compare the submitted spec with the last accepted one (None: nothing accepted yet)."""
    accepted = json.loads(stored_annotation) if stored_annotation else None
    if accepted is None:
        return SpecDecision(dict(submitted), (), encode_spec(submitted))
    refused = refused_edits(accepted, submitted)
    effective = _with_mutable_fields(accepted, submitted) if refused else dict(submitted)
    encoded = encode_spec(effective)
    return SpecDecision(effective, refused, None if encoded == stored_annotation else encoded)


def refused_edits(accepted: Mapping[str, Any], submitted: Mapping[str, Any]) -> tuple[str, ...]:
    """The fields of `submitted` that may not change from `accepted`: what the operator
    ignores in a running experiment, and what a local resume refuses."""
    return changed_fields(_immutable_part(accepted), _immutable_part(submitted))


def _immutable_part(spec: Mapping[str, Any]) -> Document:
    part = {key: value for key, value in spec.items() if key not in MUTABLE_TOP_LEVEL}
    limits = dict(part.get("limits") or {})
    part["limits"] = {key: value for key, value in limits.items() if key not in MUTABLE_LIMITS}
    return part


def _with_mutable_fields(accepted: Mapping[str, Any], submitted: Mapping[str, Any]) -> Document:
    effective = copy.deepcopy(dict(accepted))
    for key in MUTABLE_TOP_LEVEL:
        _copy_field(submitted, effective, key)
    limits = effective.setdefault("limits", {})
    for key in MUTABLE_LIMITS:
        _copy_field(submitted.get("limits") or {}, limits, key)
    return effective


def _copy_field(source: Mapping[str, Any], target: Document, key: str) -> None:
    if key in source:
        target[key] = source[key]
    else:
        target.pop(key, None)


def changed_fields(
    old: Mapping[str, Any], new: Mapping[str, Any], prefix: str = "spec"
) -> tuple[str, ...]:
    """Paths of the fields that differ, one level into mappings such as `limits`."""
    changed: list[str] = []
    for key in sorted(set(old) | set(new)):
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        if isinstance(before, Mapping) and isinstance(after, Mapping) and prefix == "spec":
            changed.extend(changed_fields(before, after, f"{prefix}.{key}"))
        else:
            changed.append(f"{prefix}.{key}")
    return tuple(changed)
