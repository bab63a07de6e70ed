"""Ask the experiment's search algorithm for the next trials.

The suggester gets the experiment's history (see `history.observation_of`): succeeded
and early-stopped trials with their objective (negated when maximized, since suggesters
minimize), failed trials as NaN (the search treats them as the worst value and steers
away), in index order; and pending or running trials as assignments to avoid duplicating.
A finished trial's observation is made once, when it is folded into the summary.
New trials get the next indices and deterministic names, so the same records always
yield the same new trials: the foundation of restart safety.
"""

from __future__ import annotations

from dataclasses import dataclass

from kubetune.api import TuningExperimentSpec, suggester_settings, to_search_space
from kubetune.planning.history import History
from kubetune.planning.records import trial_name
from kubetune.search.registry import make_suggester
from kubetune.search.space import Assignment


@dataclass(frozen=True)
class NewTrial:
    name: str
    index: int
    params: Assignment


@dataclass(frozen=True)
class Suggested:
    """New trials, and whether the search space has no untried point left."""

    trials: tuple[NewTrial, ...]
    exhausted: bool


def pending_assignments(history: History) -> list[Assignment]:
    return [record.params for record in sorted(history.active, key=lambda r: r.index)]


def minimized_reference(spec: TuningExperimentSpec) -> tuple[float, ...] | None:
    """spec.referencePoint as the search sees it (every objective minimized), so the
    search improves the hypervolume the status reports."""
    given = spec.reference_point
    return None if given is None else spec.criteria.to_minimized(given)


def suggest_trials(
    experiment: str, spec: TuningExperimentSpec, history: History, count: int
) -> Suggested:
    """Up to `count` new trials for `experiment` (fewer only when the space is exhausted)."""
    if count <= 0:
        return Suggested((), exhausted=False)
    name, settings = suggester_settings(spec.algorithm)
    suggester = make_suggester(name, minimized_reference(spec), **settings)
    suggestion = suggester.suggest(
        to_search_space(spec),
        history.observations(spec.criteria),
        pending_assignments(history),
        count,
        spec.algorithm.seed,
    )
    first = history.next_index
    trials = tuple(
        NewTrial(trial_name(experiment, first + offset), first + offset, dict(params))
        for offset, params in enumerate(suggestion.assignments[:count])
    )
    return Suggested(trials, suggestion.exhausted)
