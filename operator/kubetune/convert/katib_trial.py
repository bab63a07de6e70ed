"""Katib's `spec.trialTemplate` (a batch/v1 Job) as kubetune's `spec.trial` (the Job's pod
template), with Katib's `${trialParameters.x}` references rewritten as `${name}`
placeholders.

kubetune fills placeholders only in container command, args and env values, and reads
`$$` there as an escaped `$`. So text already shaped like a placeholder is escaped in
those fields, and a reference to a tuned parameter anywhere else is refused: it would
reach the pod as literal text.
"""

from __future__ import annotations

import re
from typing import Any

from kubetune.api import DEFAULT_GPU_RESOURCE
from kubetune.convert.findings import Findings
from kubetune.planning.jobs import TRAINER_CONTAINER, trainer_index

Document = dict[str, Any]
Path = tuple[str | int, ...]
References = dict[str, str | None]  # trialParameters name -> its text, None if refused
TEMPLATE_PATH = "spec.trialTemplate"
POD_PATH = f"{TEMPLATE_PATH}.trialSpec.spec.template"
_KATIB_REFERENCE = re.compile(r"\$\{trialParameters\.([^}]*)\}")
_IN_FILLED_TEXT = re.compile(r"\$\{trialParameters\.([^}]*)\}|\$\$|\$\{")
_DROPPED_TEMPLATE_FIELDS = {
    "successCondition": "a trial succeeds when its Job completes",
    "failureCondition": "a trial fails when its Job fails",
    "retain": "kubetune deletes a finished trial's Job with the experiment",
    "primaryPodLabels": "kubetune runs one pod per trial",
}


def convert_trial(
    template: Document, names: dict[str, str], fixed: dict[str, str], findings: Findings
) -> tuple[Document, Document]:
    """(kubetune's spec.trial, the limits that the Job's own fields set)."""
    if "configMap" in template:
        findings.refuse(f"{TEMPLATE_PATH}.configMap", "paste the template inline as trialSpec")
        return {}, {}
    trial_spec = template.get("trialSpec") or {}
    if not _is_batch_job(trial_spec, findings):
        return {}, {}
    references = _references(template.get("trialParameters") or [], names, fixed, findings)
    pod = _rewrite(trial_spec.get("spec", {}).get("template") or {}, (), references, findings)
    _put_primary_first(pod, template.get("primaryContainerName"), findings)
    for field, why in _DROPPED_TEMPLATE_FIELDS.items():
        if field in template:
            findings.drop(f"{TEMPLATE_PATH}.{field}", why)
    return {**_gpu_request(pod), "template": pod}, _job_limits(
        trial_spec.get("spec") or {}, findings
    )


def _is_batch_job(trial_spec: Document, findings: Findings) -> bool:
    kind, version = trial_spec.get("kind"), trial_spec.get("apiVersion")
    if (version, kind) == ("batch/v1", "Job"):
        return True
    if not trial_spec:
        findings.refuse(f"{TEMPLATE_PATH}.trialSpec", "Required value: the trial's Job")
        return False
    findings.refuse(
        f"{TEMPLATE_PATH}.trialSpec.kind",
        f"{kind} ({version}) is unsupported: kubetune runs each trial as one pod of a "
        "batch/v1 Job; distributed trainers (TFJob, PyTorchJob, MPIJob, JobSet) have no "
        "kubetune equivalent yet",
    )
    return False


def _references(
    trial_parameters: list[Document],
    names: dict[str, str],
    fixed: dict[str, str],
    findings: Findings,
) -> References:
    """trialParameters name -> the text that replaces its `${trialParameters.name}`."""
    references: References = {}
    for index, item in enumerate(trial_parameters):
        reference, name = str(item.get("reference")), str(item.get("name"))
        references[name] = _replacement(reference, names, fixed)
        if references[name] is None:
            where = f"{TEMPLATE_PATH}.trialParameters[{index}].reference"
            findings.refuse(where, f"{reference!r} is no parameter; {_METADATA_INSTEAD}")
    return references


_METADATA_INSTEAD = "a trainer reads trial metadata from $KUBETUNE_TRIAL and $KUBETUNE_EXPERIMENT"


def _replacement(reference: str, names: dict[str, str], fixed: dict[str, str]) -> str | None:
    """A fixed value as is, a tuned parameter as its placeholder, anything else None."""
    if reference in fixed:
        return fixed[reference]
    return "${" + names[reference] + "}" if reference in names else None


def _rewrite(value: Any, path: Path, references: References, findings: Findings) -> Any:
    """`value` with every Katib reference rewritten; `path` is where it sits in the pod."""
    if isinstance(value, dict):
        return {
            key: _rewrite(item, (*path, key), references, findings) for key, item in value.items()
        }
    if isinstance(value, list):
        return [_rewrite(item, (*path, i), references, findings) for i, item in enumerate(value)]
    if not isinstance(value, str):
        return value
    where = POD_PATH + "".join(
        f"[{part}]" if isinstance(part, int) else f".{part}" for part in path
    )
    if is_filled(path):
        return _IN_FILLED_TEXT.sub(lambda match: _filled(match, references, where, findings), value)
    return _KATIB_REFERENCE.sub(lambda match: _literal(match, references, where, findings), value)


def is_filled(path: Path) -> bool:
    """Whether kubetune fills placeholders at `path`: a container's command, args or an
    env value."""
    match path:
        case ("spec", "containers", int(), "command" | "args", int()):
            return True
        case ("spec", "containers", int(), "env", int(), "value"):
            return True
    return False


def _filled(match: re.Match[str], references: References, where: str, findings: Findings) -> str:
    if match.group(0) == "$$":
        return "$$$$"
    if match.group(1) is None:
        return "$${"  # a shell's ${HOME}: kept literal rather than read as a placeholder
    return _lookup(match, references, where, findings)


def _literal(match: re.Match[str], references: References, where: str, findings: Findings) -> str:
    replacement = _lookup(match, references, where, findings)
    if replacement.startswith("${"):
        findings.refuse(
            where,
            f"{match.group(0)}: kubetune fills parameters only in command, args and env values",
        )
    return replacement


def _lookup(match: re.Match[str], references: References, where: str, findings: Findings) -> str:
    """The replacement of one reference; an unknown one is refused (a refused entry of
    trialParameters was reported already, so its uses are not reported again)."""
    name = match.group(1)
    if name not in references:
        findings.refuse(
            where, f"{match.group(0)} names no entry of {TEMPLATE_PATH}.trialParameters"
        )
    return references.get(name) or match.group(0)


def _put_primary_first(pod: Document, primary: str | None, findings: Findings) -> None:
    """kubetune's trainer is the container named `trainer`, else the first one."""
    containers = (pod.get("spec") or {}).get("containers") or []
    names = [container.get("name") for container in containers]
    if primary is None or primary == TRAINER_CONTAINER or TRAINER_CONTAINER in names:
        return
    if primary not in names:
        findings.refuse(
            f"{TEMPLATE_PATH}.primaryContainerName", f"no container is named {primary!r}"
        )
        return
    containers.insert(0, containers.pop(names.index(primary)))


def _gpu_request(pod: Document) -> Document:
    """The trainer's GPU limit, moved to `trial.gpus`: local mode hands out devices by it,
    and the operator writes it back into the pod as the request and the limit."""
    containers = (pod.get("spec") or {}).get("containers") or []
    resources = containers[trainer_index(containers)].get("resources") or {} if containers else {}
    limits = resources.get("limits") or {}
    gpu_names = [name for name in limits if str(name).endswith("/gpu")]
    if len(gpu_names) != 1 or not str(limits[gpu_names[0]]).isdigit():
        return {}
    name = gpu_names[0]
    count = int(limits[name])
    _remove_resource(resources, name)
    return {"gpus": count} if name == DEFAULT_GPU_RESOURCE else {"gpus": count, "gpuResource": name}


def _remove_resource(resources: Document, name: str) -> None:
    """`name` out of the requests and limits, and a list left empty out too."""
    for kind in ("requests", "limits"):
        amounts = resources.get(kind)
        if isinstance(amounts, dict):
            amounts.pop(name, None)
            if not amounts:
                del resources[kind]


def _job_limits(job: Document, findings: Findings) -> Document:
    """activeDeadlineSeconds and backoffLimit as limits; other Job fields are kubetune's."""
    limits: Document = {}
    if job.get("activeDeadlineSeconds") is not None:
        limits["trialTimeout"] = f"{int(job['activeDeadlineSeconds'])}s"
    if job.get("backoffLimit") is not None:
        limits["trialRetries"] = int(job["backoffLimit"])
    for field in sorted(set(job) - {"template", "activeDeadlineSeconds", "backoffLimit"}):
        findings.drop(f"{TEMPLATE_PATH}.trialSpec.spec.{field}", "kubetune builds each trial's Job")
    return limits
