"""What the API server said when it refused a write, and which field of the experiment
the user has to fix.

A trial template is a free-form PodTemplateSpec: only the API server knows every rule of
the Pod schema. When it refuses a trial's Job (400 when the JSON does not even decode,
422 when a field is invalid), its answer names fields of the Job
(`spec.template.spec.containers[0].image`). Users wrote those fields under
`spec.trial.template`, so the paths are translated back before they reach a condition or
an Event. Pure: the k8s package parses the HTTP answer, this module only reads it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

JOB_TEMPLATE_PREFIX = "spec.template."
EXPERIMENT_TEMPLATE_PREFIX = "spec.trial.template."
GPU_RESOURCE_FIELD = "spec.trial.gpuResource"
# A body that does not decode names the field as Go sees it: "Go struct field
# PodSpec.spec.template.spec.containers of type []v1.Container".
_GO_FIELD = re.compile(r"Go struct field [\w.]*?\.((?:spec|metadata)\.[\w.\[\]]+) of type")
_RESOURCE_KEY = re.compile(r"\.resources\.(?:limits|requests)\[(.+)\]$")
REFUSED_CODES = (400, 422)


@dataclass(frozen=True)
class Cause:
    """One invalid field, as the server names it, and what is wrong with it."""

    field: str
    message: str


@dataclass(frozen=True)
class Refusal:
    """A 400 or 422 answer: the server's message and the fields it blames."""

    code: int
    message: str
    causes: tuple[Cause, ...] = ()


def parse_refusal(code: int, body: str | None) -> Refusal:
    """The Refusal in a Kubernetes `Status` body (any other body: its text as message)."""
    try:
        status = json.loads(body or "")
    except ValueError:
        return Refusal(code, (body or "").strip())
    if not isinstance(status, dict):
        return Refusal(code, str(status))
    details = status.get("details") or {}
    causes = tuple(
        Cause(str(cause.get("field") or ""), str(cause.get("message") or ""))
        for cause in details.get("causes") or []
        if isinstance(cause, dict)
    )
    return Refusal(code, str(status.get("message") or ""), causes)


def experiment_field(job_field: str, gpu_resource: str) -> str:
    """Where in the experiment a field of the trial Job came from."""
    resource = _RESOURCE_KEY.search(job_field)
    if resource is not None and resource.group(1) == gpu_resource:
        return GPU_RESOURCE_FIELD  # the operator wrote that key, from spec.trial.gpuResource
    if job_field.startswith(JOB_TEMPLATE_PREFIX):
        return EXPERIMENT_TEMPLATE_PREFIX + job_field[len(JOB_TEMPLATE_PREFIX) :]
    return job_field


def refused_fields(refusal: Refusal, gpu_resource: str) -> tuple[str, ...]:
    """The experiment's fields the refusal blames, in the server's order, each once."""
    fields = [cause.field for cause in refusal.causes if cause.field]
    if not fields:
        fields = _GO_FIELD.findall(refusal.message)
    named = (experiment_field(field, gpu_resource) for field in fields)
    return tuple(dict.fromkeys(named))


def describe_refusal(refusal: Refusal, gpu_resource: str) -> str:
    """One message for a condition and an Event: the fields first, then the server's words
    (with the Job's field paths rewritten to the experiment's)."""
    fields = refused_fields(refusal, gpu_resource)
    details = [f"{experiment_field(c.field, gpu_resource)}: {c.message}" for c in refusal.causes]
    explanation = "; ".join(details) if details else _rewrite_paths(refusal.message)
    prefix = ", ".join(fields) + ": " if fields and not details else ""
    return f"the API server refused the trial Job ({refusal.code}): {prefix}{explanation}"


def _rewrite_paths(message: str) -> str:
    return message.replace(JOB_TEMPLATE_PREFIX, EXPERIMENT_TEMPLATE_PREFIX)
