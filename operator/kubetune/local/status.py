"""The experiment status the local runner stores: the same TuningExperimentStatus the
operator writes in a cluster (phase, counts, best trial, a condition), derived from the
planner's latest plan.
"""

from __future__ import annotations

from kubetune.api import BestTrial, Condition, TuningExperimentStatus, TuningTrial
from kubetune.local.trials import now
from kubetune.planning.plan import Plan


def experiment_status(plan: Plan, best: TuningTrial | None) -> TuningExperimentStatus:
    status = TuningExperimentStatus(phase="Running", trials=plan.counts)
    if best is not None and plan.best is not None and plan.best.value is not None:
        status.best = BestTrial(
            trial=plan.best.name, value=plan.best.value, parameters=dict(best.spec.parameters)
        )
    if plan.finish is not None:
        status.phase = "Succeeded" if plan.finish.succeeded else "Failed"
        status.conditions = [
            Condition(
                type=status.phase,
                status="True",
                reason=plan.finish.reason,
                message=plan.finish.message,
            )
        ]
    return status


def with_times(
    status: TuningExperimentStatus, previous: TuningExperimentStatus
) -> TuningExperimentStatus:
    """Keeps the first start time across resumes; stamps completion once."""
    status.start_time = previous.start_time or now()
    if status.phase in ("Succeeded", "Failed"):
        status.completion_time = previous.completion_time or now()
    for condition in status.conditions:
        kept = [c for c in previous.conditions if c.type == condition.type]
        condition.last_transition_time = kept[0].last_transition_time if kept else now()
    return status
