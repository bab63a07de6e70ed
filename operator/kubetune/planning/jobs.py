"""The batch/v1 Job (or JobSet, see `spec.trial.workload`) that runs one trial, built
from the experiment's trial template.

Pure and deterministic: the same experiment and trial always give the same manifest, so
a restarted operator that re-creates a Job (tolerating 409) asks for exactly what the
first attempt asked for. The trial owns the Job (and the experiment owns the trial), so
deleting an experiment lets the garbage collector remove everything below it.
"""

from __future__ import annotations

import copy
from typing import Any

from kubetune.api import API_GROUP, GROUP_VERSION, TuningExperiment, TuningTrial, parse_duration
from kubetune.api.workload import JOB, JOBSET, kind_rules
from kubetune.planning.placeholders import param_env, substitute_containers
from kubetune.reporting import env as trial_env

Document = dict[str, Any]
EXPERIMENT_LABEL = f"{API_GROUP}/experiment"
TRIAL_LABEL = f"{API_GROUP}/trial"
TRAINER_CONTAINER = "trainer"
# Kueue's labels on a Job: the LocalQueue that admits it, and its Workload's priority.
QUEUE_NAME_LABEL = "kueue.x-k8s.io/queue-name"
PRIORITY_CLASS_LABEL = "kueue.x-k8s.io/priority-class"


def queued(experiment: TuningExperiment) -> bool:
    """Whether Kueue admits the trials: it, not the operator, then unsuspends their Jobs."""
    return experiment.spec.trial.queue is not None


def queue_labels(experiment: TuningExperiment) -> dict[str, str]:
    """The Kueue labels of a trial Job; none without `spec.trial.queue`."""
    queue = experiment.spec.trial.queue
    if queue is None:
        return {}
    priority = {PRIORITY_CLASS_LABEL: queue.priority_class} if queue.priority_class else {}
    return {QUEUE_NAME_LABEL: queue.name, **priority}


def trial_labels(experiment: str, trial: str) -> dict[str, str]:
    """Labels that let the operator find a trial's objects by experiment, and by trial."""
    return {EXPERIMENT_LABEL: experiment, TRIAL_LABEL: trial}


def owner_reference(owner: Document) -> Document:
    """A controller reference to a stored object (which has a uid)."""
    metadata = owner["metadata"]
    return {
        "apiVersion": owner.get("apiVersion", GROUP_VERSION), "kind": owner["kind"],
        "name": metadata["name"], "uid": metadata["uid"], "controller": True,
    }  # fmt: skip


def controller_uid(document: Document) -> str | None:
    """The uid of the object that controls `document` (its creator), if any."""
    for reference in document.get("metadata", {}).get("ownerReferences") or []:
        if reference.get("controller"):
            return str(reference.get("uid"))
    return None


def owned_by(documents: list[Document], uid: str) -> list[Document]:
    """The documents controlled by the object with `uid`: names and labels can be
    reused by a newer object, uids cannot."""
    return [document for document in documents if controller_uid(document) == uid]


def trainer_index(containers: list[Document]) -> int:
    """The container named `trainer`, else the first: it gets the GPUs and its
    termination message carries the final metrics."""
    names = [container.get("name") for container in containers]
    return names.index(TRAINER_CONTAINER) if TRAINER_CONTAINER in names else 0


def trainer_name(experiment: TuningExperiment) -> str:
    containers = experiment.spec.trial.template["spec"]["containers"]
    return str(containers[trainer_index(containers)].get("name", ""))


def build_trial_job(experiment: TuningExperiment, trial: TuningTrial) -> Document:
    """The Job of `trial` (a stored trial: metadata has name, namespace and uid). No
    ttlSecondsAfterFinished yet: it is set once the trial's result is recorded
    (`settle.release_settled`), so the Job cannot vanish before its trial settles.

    Raises `placeholders.PlaceholderError` when the template names an unknown parameter.
    """
    job_spec: Document = {
        **_run_limits(experiment),
        # Created suspended when queued, as Kueue expects: it resumes the Job on admission.
        "suspend": experiment.spec.suspend or queued(experiment),
        "template": _pod_template(experiment, trial),
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": _workload_metadata(experiment, trial),
        "spec": job_spec,
    }


def build_trial_workload(experiment: TuningExperiment, trial: TuningTrial) -> Document:
    """The object that runs `trial`: its Job, or its JobSet (`spec.trial.workload`)."""
    if workload_kind(experiment) == JOBSET:
        return build_trial_jobset(experiment, trial)
    return build_trial_job(experiment, trial)


def workload_kind(experiment: TuningExperiment) -> str:
    workload = experiment.spec.trial.workload
    return JOB if workload is None else workload.kind


def build_trial_jobset(experiment: TuningExperiment, trial: TuningTrial) -> Document:
    """The JobSet of `trial`: the workload's spec, each replicated job given the trial's
    pod (placeholders, env, GPUs per pod) and the trial's labels, so its Jobs and pods are
    found by trial as a Job's are. Named and owned as a trial Job is; created suspended
    when the experiment is (or Kueue admits it), like a Job."""
    workload = experiment.spec.trial.workload
    rules = kind_rules(workload)
    assert workload is not None and rules is not None  # JobSet has built-in rules
    spec = copy.deepcopy(workload.spec or {})
    pod = _pod_template(experiment, trial)
    labels = trial_labels(trial.spec.experiment, trial.metadata["name"])
    spec["replicatedJobs"] = [
        _replicated_job(replicated, pod, labels, experiment)
        for replicated in spec["replicatedJobs"]
    ]
    spec["suspend"] = experiment.spec.suspend or queued(experiment)
    return {
        "apiVersion": rules.api_version,
        "kind": JOBSET,
        "metadata": _workload_metadata(experiment, trial),
        "spec": spec,
    }


def _replicated_job(
    replicated: Document, pod: Document, labels: dict[str, str], experiment: TuningExperiment
) -> Document:
    """One replicated job with the trial's pod; its retries and deadline default to the
    experiment's limits, as a trial Job's are."""
    template = replicated.setdefault("template", {})
    metadata = template.setdefault("metadata", {})
    metadata["labels"] = {**_mapping(metadata.get("labels")), **labels}
    job_spec = template.setdefault("spec", {})
    for field, value in _run_limits(experiment).items():
        job_spec.setdefault(field, value)
    job_spec["template"] = copy.deepcopy(pod)
    return replicated


def _run_limits(experiment: TuningExperiment) -> Document:
    """A trial Job's retries and deadline, from the experiment's limits."""
    limits = experiment.spec.limits
    found: Document = {"backoffLimit": limits.trial_retries}
    if limits.trial_timeout:
        found["activeDeadlineSeconds"] = int(parse_duration(limits.trial_timeout).total_seconds())
    return found


def _workload_metadata(experiment: TuningExperiment, trial: TuningTrial) -> Document:
    """Named after the trial, labelled with it, and owned by it."""
    trial_doc = {"kind": trial.kind, "apiVersion": trial.api_version, "metadata": trial.metadata}
    return {
        "name": trial.metadata["name"],
        "namespace": trial.metadata["namespace"],
        "labels": {
            **trial_labels(trial.spec.experiment, trial.metadata["name"]),
            **queue_labels(experiment),
        },
        "ownerReferences": [owner_reference(trial_doc)],
    }


def _pod_template(experiment: TuningExperiment, trial: TuningTrial) -> Document:
    """The trial's pod. Fields of the wrong shape (`env` as a map, `resources` as a
    string) are passed through untouched: the API server refuses them naming the field,
    which the operator reports (see `refusals`), rather than this builder crashing."""
    template = copy.deepcopy(experiment.spec.trial.template)
    metadata = template.setdefault("metadata", {})
    labels = trial_labels(trial.spec.experiment, trial.metadata["name"])
    metadata["labels"] = {**_mapping(metadata.get("labels")), **labels}
    pod_spec = template["spec"]
    pod_spec["restartPolicy"] = "Never"  # retries are the Job's backoffLimit, not kubelet's
    env = _trial_env(experiment, trial)
    containers = substitute_containers(template, trial.spec.parameters)
    for container in containers:
        if isinstance(container.get("env", []), list):
            container["env"] = [*(container.get("env") or []), *env]
        container.setdefault("terminationMessagePolicy", "FallbackToLogsOnError")
    _request_gpus(containers[trainer_index(containers)], experiment)
    pod_spec["containers"] = containers
    return template


def _mapping(value: object) -> Document:
    return dict(value) if isinstance(value, dict) else {}


def _trial_env(experiment: TuningExperiment, trial: TuningTrial) -> list[Document]:
    identity = {
        trial_env.TRIAL: trial.metadata["name"],
        trial_env.EXPERIMENT: trial.spec.experiment,
    }
    root = experiment.spec.trial.checkpoint_dir
    if root is not None:
        identity[trial_env.CHECKPOINT_DIR] = checkpoint_path(root, trial)
    variables = {**identity, **param_env(trial.spec.parameters)}
    return [{"name": name, "value": value} for name, value in variables.items()]


def checkpoint_path(root: str, trial: TuningTrial) -> str:
    """The trial's own checkpoint directory below `root` (spec.trial.checkpointDir)."""
    return f"{root.rstrip('/')}/{trial.spec.experiment}/{trial.metadata['name']}"


def _request_gpus(container: Document, experiment: TuningExperiment) -> None:
    trial = experiment.spec.trial
    if trial.gpus <= 0:
        return
    resources = container.setdefault("resources", {})
    if not isinstance(resources, dict):
        return
    for kind in ("requests", "limits"):
        current = resources.get(kind) or {}
        if isinstance(current, dict):
            resources[kind] = {**current, trial.gpu_resource: str(trial.gpus)}


def build_trial_resource(experiment: Document, index: int, name: str, params: Document) -> Document:
    """The TuningTrial for one suggestion: its spec holds the parameters, so a restarted
    operator re-reads them instead of asking the (maybe different) suggester again."""
    metadata = experiment["metadata"]
    return {
        "apiVersion": GROUP_VERSION,
        "kind": "TuningTrial",
        "metadata": {
            "name": name,
            "namespace": metadata["namespace"],
            "labels": trial_labels(metadata["name"], name),
            "ownerReferences": [owner_reference(experiment)],
        },
        "spec": {
            "experiment": metadata["name"],
            "index": index,
            "parameters": dict(params),
            **trial_judging(experiment["spec"]),
        },
    }


def trial_judging(spec: Document) -> Document:
    """What a trial carries of its experiment's objectives so the ingest can judge its
    reports alone: the objective metric(s) and the recording strategies. Only what is
    set, so a trial of a single-objective experiment without strategies reads as before."""
    objective = spec.get("objective")
    if objective is None:
        metrics = [goal["metric"] for goal in spec["objectives"]]
        return {"objectiveMetric": metrics[0], "objectiveMetrics": metrics}
    strategies = objective.get("strategies")
    return {
        "objectiveMetric": objective["metric"],
        **({"strategies": strategies} if strategies else {}),
    }
