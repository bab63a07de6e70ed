"""`spec.trial.workload`: the kind of object that runs each trial.

A trial is a batch/v1 Job unless `workload` says otherwise. A multi-node trial is a JobSet
(jobset.x-k8s.io): its replicated jobs are written here as in a JobSet, without pod
templates, as every pod runs `spec.trial.template`; the pods tell their role from the
labels and environment JobSet gives them. Other kinds with a status are meant to follow
by configuration, not code: each kind has its group/version and a success and a failure
rule, CEL expressions over the object's `status` (the API server's own expression
language), built in for the kinds listed in `BUILT_IN_KINDS` and overridable per
experiment. Which kinds an operator accepts is its own setting (chart value
`trialWorkloads`).

The rules are compiled here, so a rule that does not parse fails the experiment naming its
field; the API server cannot judge a CEL string it does not evaluate itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

import cel
from pydantic import ConfigDict, Field, model_validator

from kubetune.api import rules
from kubetune.api.base import MAX_STRING_LENGTH, SpecModel

JOB, JOBSET = "Job", "JobSet"
KIND_PATTERN = r"^[A-Z][A-Za-z0-9]*$"
API_VERSION_PATTERN = (
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?v[0-9a-z]+$"
)
DNS_LABEL_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
MAX_INDEX = 10_000
JOB_TAKES_NO_SPEC = "must be unset for kind Job: spec.trial.template is the Job's pod"
JOB_RULES_FIXED = "must be unset for kind Job: a Job trial's outcome is read from its pod"
# The fields a Job workload leaves unset, and why.
_JOB_UNSET = {"apiVersion": "must be unset for kind Job: trial Jobs are batch/v1",
              "spec": JOB_TAKES_NO_SPEC, "reporter": JOB_RULES_FIXED,
              "successWhen": JOB_RULES_FIXED, "failureWhen": JOB_RULES_FIXED}  # fmt: skip
NO_POD_TEMPLATE = (
    "must not be set: every pod of the trial runs spec.trial.template (placeholders and "
    "GPUs included)"
)
NEEDS_REPLICATED_JOBS = "must list at least one replicated job for kind JobSet"
RULE_NOT_BOOLEAN = "must be a CEL expression that evaluates to a bool"


@dataclass(frozen=True)
class KindRules:
    """What the operator knows of one kind: where it lives and when it is done."""

    api_version: str
    plural: str
    success_when: str
    failure_when: str


def _condition(kind: str) -> str:
    """True once the status has condition `kind` with status True."""
    return (
        f"has(status.conditions) && status.conditions.exists(c, c.type == '{kind}'"
        " && c.status == 'True')"
    )


# The kinds with built-in rules. A Job's outcome is read from its pods as before (the
# rules here state the same for reference); a JobSet's from its terminal conditions.
BUILT_IN_KINDS: dict[str, KindRules] = {
    JOB: KindRules("batch/v1", "jobs", _condition("Complete"), _condition("Failed")),
    JOBSET: KindRules(
        "jobset.x-k8s.io/v1alpha2", "jobsets", _condition("Completed"), _condition("Failed")
    ),
}


def compile_problem(expression: str) -> str | None:
    """Why `expression` is not CEL that can be evaluated, or None."""
    try:
        cel.compile(expression)
    except ValueError as error:
        return str(error).splitlines()[0]
    return None


class ReporterPlacement(SpecModel):
    """The one pod of a multi-pod trial that runs the reporter sidecar: its reports are
    the trial's, and reports from the other pods are refused."""

    replicated_job: str | None = Field(None, min_length=1, max_length=63, pattern=DNS_LABEL_PATTERN)
    """The replicated job; unset, the first one listed."""
    job_index: int = Field(0, ge=0, le=MAX_INDEX)
    """The index of the Job among that replicated job's replicas."""
    completion_index: int = Field(0, ge=0, le=MAX_INDEX)
    """The completion index of the pod within that Job (0 for a Job of one pod)."""


class TrialWorkload(SpecModel):
    """The kind of object that runs each trial, and how its outcome is read."""

    model_config = ConfigDict(
        json_schema_extra=rules.cel_rules(
            *(
                rules.cel(f"self.kind != 'Job' || !has(self.{name})", message, field=f".{name}")
                for name, message in _JOB_UNSET.items()
            )
        )
    )

    kind: str = Field(JOB, min_length=1, max_length=63, pattern=KIND_PATTERN)
    """Job (the default: one pod per trial) or JobSet (a multi-node trial); the operator
    runs only the kinds its configuration allows (chart value trialWorkloads)."""
    api_version: str | None = Field(None, min_length=2, max_length=253, pattern=API_VERSION_PATTERN)
    """The kind's group/version; unset, the built-in one (batch/v1,
    jobset.x-k8s.io/v1alpha2). Each trial's object is created at this version; the
    operator watches, patches and deletes them at the built-in one, so the cluster must
    serve that version too (a CRD serves all its versions of one object)."""
    spec: dict[str, Any] | None = None
    """The object's spec as that kind takes it, less the pod templates. For a JobSet:
    replicatedJobs (each with name, replicas and template.spec holding parallelism,
    completions and the like, but no template.spec.template), successPolicy,
    failurePolicy... Placeholders are replaced in the pods, not here."""
    reporter: ReporterPlacement | None = None
    """Which pod runs the reporter sidecar in a multi-pod trial; unset, the first pod of
    the first replicated job."""
    success_when: str | None = Field(None, min_length=1, max_length=MAX_STRING_LENGTH)
    """A CEL expression over the object's `status`, true once the trial succeeded; unset,
    the kind's built-in rule (a JobSet: its Completed condition is True)."""
    failure_when: str | None = Field(None, min_length=1, max_length=MAX_STRING_LENGTH)
    """A CEL expression over the object's `status`, true once the trial failed; unset,
    the kind's built-in rule (a JobSet: its Failed condition is True)."""

    @model_validator(mode="after")
    def _check_rules(self) -> Self:
        for field in ("success_when", "failure_when"):
            expression = getattr(self, field)
            if expression is not None and (problem := compile_problem(expression)):
                raise rules.rule_error(_camel(field), RULE_NOT_BOOLEAN, problem)
        return self

    @model_validator(mode="after")
    def _check_spec(self) -> Self:
        if self.kind == JOB:
            values = {_camel(name): value for name, value in self}
            for name in [name for name in _JOB_UNSET if values[name] is not None]:
                raise rules.rule_error(name, _JOB_UNSET[name])
        if self.kind == JOBSET:
            reporter = self.reporter.replicated_job if self.reporter else None
            errors = jobset_spec_errors(self.spec or {}, reporter)
            for field, message in errors[:1]:
                raise rules.rule_error(field, message)
        return self


def _camel(field: str) -> str:
    head, *rest = field.split("_")
    return head + "".join(part.title() for part in rest)


def jobset_spec_errors(spec: dict[str, Any], reporter_job: str | None) -> list[tuple[str, str]]:
    """(field below the workload, message) of each way `spec` is not a JobSet spec the
    operator can complete with the trial's pods, or the reporter's replicated job is not
    one of it."""
    replicated = spec.get("replicatedJobs")
    if not isinstance(replicated, list) or not replicated:
        return [("spec.replicatedJobs", NEEDS_REPLICATED_JOBS)]
    errors: list[tuple[str, str]] = []
    for index, job in enumerate(replicated):
        path = f"spec.replicatedJobs[{index}]"
        if not isinstance(job, dict) or not isinstance(job.get("name"), str):
            errors.append((f"{path}.name", "must be a string naming the replicated job"))
            continue
        job_spec = (job.get("template") or {}).get("spec") or {}
        if isinstance(job_spec, dict) and "template" in job_spec:
            errors.append((f"{path}.template.spec.template", NO_POD_TEMPLATE))
    names = [job.get("name") for job in replicated if isinstance(job, dict)]
    if reporter_job is not None and reporter_job not in names:
        errors.append(("reporter.replicatedJob", f"must name one of spec.replicatedJobs {names}"))
    return errors


def kind_rules(workload: TrialWorkload | None) -> KindRules | None:
    """The built-in rules of the workload's kind, the experiment's own rules over them;
    None for a kind without built-in rules."""
    kind = JOB if workload is None else workload.kind
    built_in = BUILT_IN_KINDS.get(kind)
    if built_in is None or workload is None:
        return built_in
    return KindRules(
        workload.api_version or built_in.api_version,
        built_in.plural,
        workload.success_when or built_in.success_when,
        workload.failure_when or built_in.failure_when,
    )
