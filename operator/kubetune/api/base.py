"""The shared pydantic configuration of every resource model.

Kubernetes spells fields in camelCase and Python in snake_case: one base class holds the
alias rule so that every model reads and writes YAML the way `kubectl` shows it, while
code uses Python names.

- Spec models (user-written) take what the API server takes and nothing more: camelCase
  keys only (a snake_case key is an unknown field there), unknown fields rejected as
  `kubectl apply --validate=strict` does, strict JSON types (`maxTrials: "5"` is a
  string, not a number; a number is never a bool).
- Record models (a TuningTrial's spec, written by the operator from Python values) keep
  unknown fields out but are built by field name, with lax types.
- Status models (operator-written) ignore unknown fields, so an older operator can read a
  status written by a newer one, and take timestamps as the strings the server returns.

Every field's docstring becomes its description in the CRD (`kubectl explain`) and in
docs/api.md, so the text a user reads is written once, next to the field.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Final

from pydantic import BaseModel, ConfigDict, Discriminator, PlainSerializer
from pydantic.alias_generators import to_camel

API_GROUP = "kubetune.dev"
API_VERSION = "v1alpha1"
GROUP_VERSION: Final = "kubetune.dev/v1alpha1"

# Bounds that keep objects small and CEL rules cheap enough for the API server to accept.
MAX_NAME_LENGTH = 63
MAX_STRING_LENGTH = 1024
MAX_PARAMETERS = 64
MAX_VALUES = 256
MAX_METRICS = 32
# Exact hypervolume costs grow fast with the number of objectives; four covers the usual
# trade-offs (quality, latency, memory, cost).
MAX_OBJECTIVES = 4


class SpecModel(BaseModel):
    """Base of user-written models: camelCase only, unknown fields rejected, strict types.

    JSON cannot carry NaN or infinity, so neither can a spec sent through `kubectl`.
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=False,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="forbid",
        strict=True,
        allow_inf_nan=False,
        use_attribute_docstrings=True,
    )


class RecordModel(SpecModel):
    """Base of operator-written specs (a TuningTrial): unknown fields still rejected, but
    built from Python values by field name, where JSON's strict typing has nothing to catch."""

    model_config = ConfigDict(validate_by_name=True, strict=False)


class StatusModel(BaseModel):
    """Base of operator-written models: camelCase on the wire, unknown fields ignored."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="ignore",
        use_attribute_docstrings=True,
    )


def rfc3339(moment: datetime) -> str:
    """RFC 3339 in UTC with second precision, the form Kubernetes itself writes: one
    format for every time either runtime stores."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc3339_micro(moment: datetime) -> str:
    """RFC 3339 in UTC with microseconds, Kubernetes' MicroTime form: for times that order
    events less than a second apart."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


Timestamp = Annotated[datetime, PlainSerializer(rfc3339, return_type=str, when_used="json")]
MicroTimestamp = Annotated[
    datetime, PlainSerializer(rfc3339_micro, return_type=str, when_used="json")
]


def dump_resource(model: BaseModel) -> dict[str, Any]:
    """The JSON-ready camelCase document of a resource, without unset optional fields."""
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


def tag_discriminator(key: str, tags: tuple[str, ...], default: str) -> Discriminator:
    """Tells union members apart by `key` (a missing key means `default`), and reports an
    unknown tag in the API server's words for an enum: `Unsupported value`."""

    def tag_of(value: Any) -> Any:
        if isinstance(value, dict):
            return value.get(key, default)
        return getattr(value, key, default)

    supported = ", ".join(f'"{tag}"' for tag in tags)
    return Discriminator(
        tag_of,
        custom_error_type="unsupported_value",
        custom_error_message="Unsupported value",
        custom_error_context={"field": key, "supported": supported},
    )
