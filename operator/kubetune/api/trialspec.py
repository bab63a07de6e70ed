"""`spec.trial`: the pod each trial runs and the GPUs it requests.

The template is a free-form PodTemplateSpec, so every pod feature (volumes, node
selectors, tolerations) is available without this project mirroring the Pod schema;
only the one thing every trial needs, a container, is checked.
"""

from __future__ import annotations

from typing import Any, Self

from pydantic import ConfigDict, Field, model_validator

from kubetune.api import rules
from kubetune.api.base import SpecModel

DEFAULT_GPU_RESOURCE = "nvidia.com/gpu"
# A resource name as Pods accept it: an optional DNS-subdomain prefix, then a name.
RESOURCE_NAME_PATTERN = (
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
)

# Enough of the PodTemplateSpec schema for CEL to see the containers list; the rest is
# kept as written (CEL cannot read fields the schema leaves untyped).
_TEMPLATE_SCHEMA: dict[str, Any] = {
    "properties": {
        "spec": {
            "type": "object",
            "additionalProperties": True,
            "properties": {
                "containers": {
                    "type": "array",
                    "maxItems": 64,
                    "items": {"type": "object", "additionalProperties": True},
                }
            },
        }
    }
}
_CONTAINER_RULE = (
    "has(self.template.spec) && has(self.template.spec.containers)"
    " && self.template.spec.containers.size() > 0"
)


def has_container(template: dict[str, Any]) -> bool:
    """Whether a PodTemplateSpec lists at least one container under spec.containers."""
    pod_spec = template.get("spec")
    containers = pod_spec.get("containers") if isinstance(pod_spec, dict) else None
    return isinstance(containers, list) and len(containers) > 0


class TrialSpec(SpecModel):
    model_config = ConfigDict(
        json_schema_extra=rules.cel_rules(
            rules.cel(_CONTAINER_RULE, rules.TEMPLATE_NEEDS_CONTAINER, field=".template")
        )
    )

    gpus: int = Field(0, ge=0, le=64, description="GPUs requested by the first container.")
    gpu_resource: str = Field(
        DEFAULT_GPU_RESOURCE,
        min_length=1,
        max_length=253,
        pattern=RESOURCE_NAME_PATTERN,
        description="Extended resource.",
    )
    template: dict[str, Any] = Field(
        description="PodTemplateSpec of a trial's pod.", json_schema_extra=_TEMPLATE_SCHEMA
    )

    @model_validator(mode="after")
    def _check_container(self) -> Self:
        if not has_container(self.template):
            raise rules.rule_error("template", rules.TEMPLATE_NEEDS_CONTAINER)
        return self
