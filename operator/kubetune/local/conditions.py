"""What a person should read about a local run that no runner is driving.

A local experiment stops when its runner stops (Ctrl-C, SIGTERM, ``kill -9``) or when
``spec.suspend`` is true. Its phase stays ``Running``: the experiment is not over, it
resumes with the next ``kubetune run``. What changed is said with a condition, the way
Kubernetes adds state that is orthogonal to a phase:

- ``Interrupted`` (reason ``RunnerStopped``): the runner stopped before the end;
- ``Suspended``: written by the shared experiment status (`planning.status`), exactly
  as the operator writes it for ``spec.suspend``.

Why not a new ExperimentPhase: the phase is shared with the operator and is a column of
``kubectl get tex``. On a cluster nothing is ever "interrupted" (a restarted operator
carries on by itself), so a phase only local mode could reach would make the two
runtimes' status schemas differ for a fact about the runner, not the experiment.
`kubetune status` shows such a phase as "Interrupted" or "Suspended" (`shown_phase`).
A new run removes ``Interrupted`` at its start (`without_runner_conditions`); every save
sets ``Suspended`` from the spec.
"""

from __future__ import annotations

from datetime import UTC, datetime

from kubetune.api import TERMINAL_PHASES, Condition, TuningExperimentStatus

INTERRUPTED = "Interrupted"
RUNNER_STOPPED = "RunnerStopped"
SUSPENDED = "Suspended"


def with_condition(status: TuningExperimentStatus, kind: str, reason: str, message: str) -> None:
    condition = Condition(
        type=kind,
        status="True",
        reason=reason,
        message=message,
        last_transition_time=datetime.now(UTC),
    )
    status.conditions = [*(c for c in status.conditions if c.type != kind), condition]


def mark_interrupted(status: TuningExperimentStatus, cause: str) -> None:
    message = (
        f"kubetune run stopped before the experiment finished ({cause}); run the same "
        "kubetune run command again to resume: finished trials are kept, and trials that "
        "were running run again"
    )
    with_condition(status, INTERRUPTED, RUNNER_STOPPED, message)


def without_runner_conditions(status: TuningExperimentStatus) -> TuningExperimentStatus:
    kept = [c for c in status.conditions if c.type != INTERRUPTED]
    return status.model_copy(update={"conditions": kept})


def is_true(status: TuningExperimentStatus, kind: str) -> bool:
    return any(c.type == kind and c.status == "True" for c in status.conditions)


def shown_phase(status: TuningExperimentStatus) -> str:
    """The phase, unless the experiment is unfinished and nothing is running it."""
    if status.phase not in TERMINAL_PHASES:
        for kind in (INTERRUPTED, SUSPENDED):
            if is_true(status, kind):
                return kind
    return status.phase
