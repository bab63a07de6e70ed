"""`spec.trial`: the pod each trial runs and the GPUs it requests.

The template is a free-form PodTemplateSpec, so every pod feature (volumes, node
selectors, tolerations) is available without this project mirroring the Pod schema.
Checked here, and by the CRD schema alike: a container exists, and each container's
`command` and `args` are lists of strings (one string would run as a list of characters).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Self

from pydantic import ConfigDict, Field, model_validator

from kubetune.api import rules
from kubetune.api.base import SpecModel
from kubetune.api.workload import TrialWorkload
from kubetune.reporting.line_formats import MAX_FORMAT_CHARS, MAX_FORMATS, format_problem

DEFAULT_GPU_RESOURCE = "nvidia.com/gpu"
# A resource name as Pods accept it: an optional DNS-subdomain prefix, then a name.
RESOURCE_NAME_PATTERN = (
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
)

# The Pod API sets no limit on argv; this one bounds CEL cost (house rule: every list in a
# spec has maxItems) while no real command comes near it.
MAX_ARGV_ITEMS = 1024
_ARGV_DESCRIPTIONS = {
    "command": "The entrypoint, as a list of strings; ${name} placeholders are replaced.",
    "args": "Arguments of the entrypoint, a list of strings; ${name} placeholders are replaced.",
}
_ARGV_FIELDS = tuple(_ARGV_DESCRIPTIONS)


def _strings(description: str) -> dict[str, Any]:
    """The schema of one argv field: a bounded list of strings."""
    items = {"type": "string"}
    return {"type": "array", "description": description, "maxItems": MAX_ARGV_ITEMS, "items": items}


# Enough of the PodTemplateSpec schema for CEL to see the containers list and for the API
# server to type each container's argv; the rest is kept as written.
_TEMPLATE_SCHEMA: dict[str, Any] = {
    "properties": {
        "spec": {
            "type": "object",
            "description": "The PodSpec of a trial's pod.",
            "additionalProperties": True,
            "properties": {
                "containers": {
                    "type": "array",
                    "description": "The pod's containers; at least one.",
                    "maxItems": 64,
                    "items": {
                        "type": "object",
                        "description": "A Container.",
                        "additionalProperties": True,
                        "properties": {
                            key: _strings(text) for key, text in _ARGV_DESCRIPTIONS.items()
                        },
                    },
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


def _argv_errors(argv: Any, path: str) -> Iterator[tuple[str, str]]:
    """(field, message) of one `command` or `args` value; absent (None) is fine."""
    if argv is None:
        return
    if not isinstance(argv, list):
        yield path, rules.wrong_type(argv, "array")
        return
    if len(argv) > MAX_ARGV_ITEMS:
        yield path, f"must have at most {MAX_ARGV_ITEMS} items"
    for index, part in enumerate(argv):
        if not isinstance(part, str):
            yield f"{path}[{index}]", rules.wrong_type(part, "string")


def _container_errors(container: Any, path: str) -> Iterator[tuple[str, str]]:
    """(field, message) for each place one container differs from the CRD's schema."""
    if not isinstance(container, dict):
        yield path, rules.wrong_type(container, "object")
        return
    for key in _ARGV_FIELDS:
        yield from _argv_errors(container.get(key), f"{path}.{key}")


def template_type_errors(template: dict[str, Any]) -> list[tuple[str, str]]:
    """(field below the trial spec, message) of every mistyped container or argv."""
    containers = template["spec"]["containers"]
    return [
        error
        for index, container in enumerate(containers)
        for error in _container_errors(container, f"template.spec.containers[{index}]")
    ]


# A name that is both a Kubernetes object name and a label value (a DNS-1123 label): the
# queue and priority class are named on each trial Job by label.
QUEUE_OBJECT_NAME_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"


# Enough that a freed slot of quota finds a trial waiting, few enough that the queue holds
# little that was suggested before results came in.
DEFAULT_MAX_WAITING = 2
MAX_CHECKPOINT_DIR_CHARS = 1024


class TrialQueue(SpecModel):
    """A Kueue LocalQueue that admits each trial's Job as a Workload of its own."""

    name: str = Field(min_length=1, max_length=63, pattern=QUEUE_OBJECT_NAME_PATTERN)
    """The LocalQueue, in the experiment's namespace. Trial Jobs are created suspended,
    and Kueue starts each one when it fits the ClusterQueue's quota."""
    priority_class: str | None = Field(
        None, min_length=1, max_length=63, pattern=QUEUE_OBJECT_NAME_PATTERN
    )
    """A Kueue WorkloadPriorityClass for the trials' Workloads; unset, Kueue's default."""
    max_waiting: int = Field(DEFAULT_MAX_WAITING, ge=1, le=100)
    """At most this many of the experiment's trials wait at a time (queued, preempted, or
    admitted with their pod not yet running); the next trial is created when one of them
    runs. So the experiment never floods the queue, its parallelism follows the quota it
    is given (up to limits.parallelTrials), and each new trial's parameters are chosen
    with every result known by the time a slot opened."""


class TrialSpec(SpecModel):
    """The pod each trial runs, with ${name} placeholders for the suggested parameters."""

    model_config = ConfigDict(
        json_schema_extra=rules.cel_rules(
            rules.cel(_CONTAINER_RULE, rules.TEMPLATE_NEEDS_CONTAINER, field=".template")
        )
    )

    gpus: int = Field(0, ge=0, le=64)
    """GPUs each trial requests (requests and limits) for its trainer container, the one
    named trainer or else the first; 0 requests none."""
    gpu_resource: str = Field(
        DEFAULT_GPU_RESOURCE, min_length=1, max_length=253, pattern=RESOURCE_NAME_PATTERN
    )
    """The extended resource name the GPUs are requested as, e.g. amd.com/gpu."""
    queue: TrialQueue | None = None
    """Queue trials through Kueue; unset, trial Jobs start at once. Kueue then owns each
    Job's `suspend`: `spec.suspend` stops new trials but leaves admitted ones running.
    Only the operator queues: local mode runs trials as processes and ignores it."""
    checkpoint_dir: str | None = Field(
        None, min_length=2, max_length=MAX_CHECKPOINT_DIR_CHARS, pattern=r"^/"
    )
    """An absolute path in the trial's containers, on a volume that outlives the pod (a
    PersistentVolumeClaim the template mounts, say), under which each trial gets a
    directory of its own: <checkpointDir>/<experiment>/<trial>, named in the environment
    variable KUBETUNE_CHECKPOINT_DIR. A trainer that saves there and resumes from there
    (`kubetune.reporting.sdk.checkpoint_dir()`) continues where it was after a
    preemption or a retry. Local mode keeps the directories under its own run directory."""
    template: dict[str, Any] = Field(json_schema_extra=_TEMPLATE_SCHEMA)
    """A PodTemplateSpec for the trial's pod; ${name} placeholders in command, args and env
    values are replaced by the trial's parameters."""
    workload: TrialWorkload | None = None
    """The kind of object that runs each trial; unset, a batch/v1 Job of one pod. A
    JobSet runs `template` in every pod of every replicated job (a multi-node trial). See
    docs/workloads.md."""
    metrics_format: list[Annotated[str, Field(min_length=1, max_length=MAX_FORMAT_CHARS)]] = Field(
        default_factory=list, max_length=MAX_FORMATS
    )
    """Regular expressions (Python re syntax) searched in every line the trainer prints,
    besides `kubetune metric` lines; each has the named groups name and value, or exactly
    two groups (name, value). Only the experiment's metrics and step are taken. See
    docs/metrics.md."""

    @model_validator(mode="after")
    def _check_container(self) -> Self:
        if not has_container(self.template):
            raise rules.rule_error("template", rules.TEMPLATE_NEEDS_CONTAINER)
        if errors := template_type_errors(self.template):
            field, message = errors[0]
            raise rules.rule_error(field, message)
        return self

    @model_validator(mode="after")
    def _check_metrics_format(self) -> Self:
        """The API server can only bound these; whether one compiles is judged here, so the
        operator fails an experiment whose format slipped past `kubectl apply`."""
        for index, pattern in enumerate(self.metrics_format):
            if problem := format_problem(pattern):
                raise rules.rule_error(f"metricsFormat[{index}]", problem)
        return self
