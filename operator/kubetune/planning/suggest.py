"""Ask the experiment's search algorithm for the next trials.

The history handed to the suggester is rebuilt from the trial records on every call that
asks for trials:
succeeded and early-stopped trials with their objective (negated when maximized, since
suggesters minimize), failed trials as NaN (the search treats them as the worst value
and steers away), and pending or running trials as assignments to avoid duplicating.
New trials get the next indices and deterministic names, so the same records always
yield the same new trials: the foundation of restart safety.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from kubetune.api import TuningExperimentSpec, suggester_settings, to_search_space
from kubetune.planning.history import History
from kubetune.planning.records import TrialRecord, trial_name
from kubetune.search.base import Observation
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


def observations(spec: TuningExperimentSpec, records: Sequence[TrialRecord]) -> list[Observation]:
    """Completed trials as minimized observations, in index order."""
    history = []
    for record in sorted(records, key=lambda r: r.index):
        if record.phase == "Failed":
            history.append(Observation(record.params, math.nan))
        elif record.phase in ("Succeeded", "EarlyStopped") and record.value is not None:
            history.append(Observation(record.params, spec.objective.to_minimized(record.value)))
    return history


def pending_assignments(history: History) -> list[Assignment]:
    return [record.params for record in sorted(history.active, key=lambda r: r.index)]


def suggest_trials(
    experiment: str, spec: TuningExperimentSpec, history: History, count: int
) -> Suggested:
    """Up to `count` new trials for `experiment` (fewer only when the space is exhausted)."""
    if count <= 0:
        return Suggested((), exhausted=False)
    name, settings = suggester_settings(spec.algorithm)
    suggestion = make_suggester(name, **settings).suggest(
        to_search_space(spec),
        observations(spec, history.records),
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
