"""The status of a `TuningExperiment`, written only by the operator.

Bounded by design: counts, the best trial and conditions, never a list of trials (one
`TuningTrial` object per trial holds the details).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from kubetune.api.base import StatusModel, Timestamp

ExperimentPhase = Literal["Pending", "Running", "Succeeded", "Failed", "Stopped"]
# Phases nothing changes any more: no pass, no resume.
TERMINAL_PHASES: tuple[ExperimentPhase, ...] = ("Succeeded", "Failed", "Stopped")
ParameterValue = float | int | str
# status.pareto lists at most this many trials (the front first, then the next ranks), so
# the status stays small however many trials trade off.
MAX_PARETO_TRIALS = 20


class TrialCounts(StatusModel):
    """How many trials are in each state; `finished` counts every trial that has ended."""

    created: int = 0
    """Trials created so far, whatever their state."""
    running: int = 0
    """Trials pending or running (under Kueue: admitted)."""
    queued: int | None = None
    """Under Kueue (spec.trial.queue), trials waiting to run: not admitted yet, preempted,
    or admitted with their pod not started; absent without a queue."""
    succeeded: int = 0
    """Trials that finished and reported the objective."""
    failed: int = 0
    """Trials that failed: the pod failed or timed out, or the objective was missing or NaN."""
    stopped: int = 0
    """Trials ended early by the early-stopping rule or by the end of the experiment."""
    finished: int = 0
    """Trials that have ended: succeeded + failed + stopped."""

    @property
    def active(self) -> int:
        """Trials that have not ended: running and queued."""
        return self.running + (self.queued or 0)


class BestTrial(StatusModel):
    """The succeeded trial with the best objective value so far."""

    trial: str
    """Name of the TuningTrial."""
    value: float
    """Its objective value."""
    parameters: dict[str, ParameterValue] = Field(default_factory=dict)
    """Its parameters, by name."""


class ParetoTrial(StatusModel):
    """A trial on (or near) the Pareto front, with every objective's value."""

    trial: str
    """Name of the TuningTrial."""
    rank: int
    """0 on the Pareto front (no feasible trial beats it in every objective), 1 on the
    front once those are set aside, and so on."""
    values: dict[str, float] = Field(default_factory=dict)
    """Its value of each objective, by metric name."""
    parameters: dict[str, ParameterValue] = Field(default_factory=dict)
    """Its parameters, by name."""


class ParetoFront(StatusModel):
    """With several objectives: the trade-offs found so far among the feasible trials that
    succeeded."""

    size: int = 0
    """How many trials are on the Pareto front."""
    hypervolume: float = 0.0
    """The volume of objective space the front dominates up to referencePoint (larger is
    better; in the objectives' units, maximized ones negated)."""
    reference_point: list[float] = Field(default_factory=list)
    """The point the hypervolume is measured from, per objective in spec order and units:
    spec.referencePoint, or derived from the worst values seen."""
    trials: list[ParetoTrial] = Field(default_factory=list, max_length=MAX_PARETO_TRIALS)
    """The front first, then the next ranks (bounded: see maxItems); each rank ordered by
    the primary objective."""


class Condition(StatusModel):
    """A Kubernetes-style condition, e.g. type=Succeeded status=True reason=GoalReached."""

    type: str
    """The condition: Succeeded, Failed, Suspended or SpecAccepted (local mode adds
    Interrupted)."""
    status: Literal["True", "False", "Unknown"]
    """Whether the condition holds: True, False or Unknown."""
    reason: str = ""
    """Why, as one CamelCase word, e.g. GoalReached or MaxTrialsReached."""
    message: str = ""
    """Why, in words a person reads."""
    last_transition_time: Timestamp | None = None
    """When the status last changed (RFC 3339)."""


class TuningExperimentStatus(StatusModel):
    """Where the search stands, written by the operator: bounded counts, never trial lists."""

    phase: ExperimentPhase = "Pending"
    """Pending, Running, or once the search is over Succeeded, Failed or Stopped; the
    conditions say why."""
    trials: TrialCounts = Field(default_factory=TrialCounts)
    """Trial counts by state."""
    best: BestTrial | None = None
    """The best trial so far: the feasible succeeded trial with the best value of the
    (primary) objective; absent until one succeeds."""
    pareto: ParetoFront | None = None
    """With several objectives, the Pareto front and its hypervolume; absent otherwise."""
    conditions: list[Condition] = Field(default_factory=list)
    """The latest observations of the experiment's state."""
    start_time: Timestamp | None = None
    """When the operator first planned the experiment (RFC 3339)."""
    completion_time: Timestamp | None = None
    """When the search ended (RFC 3339)."""
