"""Whether this runtime can run an experiment's trial workload (`spec.trial.workload`).

One judgement for both runtimes, so the message a user reads names the same field and
the same cause: the kind must be one the runtime allows (the operator's setting
KUBETUNE_TRIAL_WORKLOADS, chart value trialWorkloads), its CRD must be installed (the
operator observes that; a batch/v1 Job needs none). Both runtimes run every kind with
built-in rules: local mode runs a JobSet trial as a world of one (the designated pod's
trainer alone, see docs/workloads.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from kubetune.api.workload import BUILT_IN_KINDS, JOB, TrialWorkload, kind_rules

FIELD = "spec.trial.workload.kind"


@dataclass(frozen=True)
class WorkloadSupport:
    """What the runtime allows, and which kinds' CRDs the cluster serves."""

    allowed: frozenset[str]
    installed: frozenset[str]
    runtime: str = "this operator"


def crd_name(kind: str) -> str:
    """The CRD of a built-in kind, e.g. jobsets.jobset.x-k8s.io."""
    rules = BUILT_IN_KINDS[kind]
    return f"{rules.plural}.{rules.api_version.split('/')[0]}"


def workload_problem(workload: TrialWorkload | None, support: WorkloadSupport) -> str | None:
    """Why the runtime cannot run the experiment's trials as their kind, or None."""
    kind = JOB if workload is None else workload.kind
    if kind not in support.allowed or kind not in BUILT_IN_KINDS:
        allowed = ", ".join(sorted(support.allowed))
        return f'{FIELD}: Unsupported value: "{kind}": {support.runtime} allows {allowed}'
    rules = kind_rules(workload)
    if kind != JOB and kind not in support.installed and rules is not None:
        served = f"{crd_name(kind)} ({rules.api_version})"
        return f"{FIELD}: {kind} needs the CRD {served}, which this cluster does not serve"
    return None


# Every kind with built-in rules is allowed unless the operator's setting narrows it; the
# cluster's CRDs are observed per pass.
DEFAULT_ALLOWED = frozenset(BUILT_IN_KINDS)
DEFAULT_SUPPORT = WorkloadSupport(DEFAULT_ALLOWED, frozenset())
# Local mode has no cluster: no CRD is missing there, and it runs what it runs.
LOCAL_SUPPORT = WorkloadSupport(DEFAULT_ALLOWED, DEFAULT_ALLOWED, "local mode")
