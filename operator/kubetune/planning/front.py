"""The Pareto front of an experiment with several objectives, and its hypervolume, for the
status both runtimes write.

Contenders are the trials that succeeded, meet every constraint and have a finite value
for every objective. The status lists the top MAX_PARETO_TRIALS of them by non-dominated
rank. A trial of rank K or more can never come back into that list: every rank below
its own holds at least one trial, and ranks only grow as trials arrive. So the finished
trials are folded into a pool that keeps ranks below MAX_PARETO_TRIALS, and a pass ranks
that pool with its recent trials, never the whole history.

The hypervolume is measured from spec.referencePoint when set. Otherwise the reference
is derived from the trials, deterministically (`pareto.derived_reference`, which the
search uses too): per objective, the worst value any contender reported, moved a tenth
of the spread between best and worst further out (a whole unit when every contender
agrees), so the extreme trials of the front add volume.
A derived reference moves as worse trials arrive; set referencePoint to compare
hypervolumes across experiments or over time.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
from numpy.typing import NDArray

from kubetune.api import MAX_PARETO_TRIALS, Criteria, ParetoFront, ParetoTrial
from kubetune.planning.records import TrialRecord
from kubetune.search.pareto import derived_reference, hypervolume, nondominated_ranks


def objective_values(record: TrialRecord) -> tuple[float, ...]:
    """Every objective of a record as reported, in spec order (NaN where missing)."""
    return (math.nan if record.value is None else record.value, *record.others)


def minimized_values(criteria: Criteria, record: TrialRecord) -> tuple[float, ...]:
    return criteria.to_minimized(objective_values(record))


def contends(record: TrialRecord) -> bool:
    """Whether a trial may stand on the front (see the module docstring)."""
    values = objective_values(record)
    return record.phase == "Succeeded" and record.feasible and all(map(math.isfinite, values))


def ranked(criteria: Criteria, records: Sequence[TrialRecord]) -> list[tuple[int, TrialRecord]]:
    """The records with their non-dominated ranks, best first: by rank, then by the
    primary objective, then by index (the earlier trial first)."""
    points = _points(criteria, records)
    ranks = nondominated_ranks(points)
    order = sorted(range(len(records)), key=lambda i: (ranks[i], points[i, 0], records[i].index))
    return [(int(ranks[i]), records[i]) for i in order]


def _points(criteria: Criteria, records: Sequence[TrialRecord]) -> NDArray[np.float64]:
    rows = [minimized_values(criteria, record) for record in records]
    return np.array(rows, dtype=np.float64).reshape(len(rows), len(criteria.objectives))


def pooled(
    criteria: Criteria, pool: tuple[TrialRecord, ...], added: Iterable[TrialRecord]
) -> tuple[TrialRecord, ...]:
    """`pool` with the contenders among `added`, less those ranked out for good."""
    candidates = [*pool, *(record for record in added if contends(record))]
    kept = [record for rank, record in ranked(criteria, candidates) if rank < MAX_PARETO_TRIALS]
    return tuple(sorted(kept, key=lambda record: record.index))


def worst_seen(
    criteria: Criteria, worst: tuple[float, ...], added: Iterable[TrialRecord]
) -> tuple[float, ...]:
    """The worst minimized value of each objective among `worst` and the contenders added."""
    rows = [minimized_values(criteria, record) for record in added if contends(record)]
    rows += [worst] if worst else []
    return tuple(max(column) for column in zip(*rows, strict=True)) if rows else ()


def reference_point(
    criteria: Criteria,
    given: Sequence[float] | None,
    contenders: Sequence[TrialRecord],
    worst: tuple[float, ...],
) -> tuple[float, ...]:
    """The minimized reference point (see the module docstring); empty before any
    contender, when nothing can be derived."""
    if given is not None:
        return criteria.to_minimized(given)
    worst = worst_seen(criteria, worst, contenders)
    best = _points(criteria, contenders).min(axis=0) if contenders else worst
    return tuple(float(value) for value in derived_reference(np.array(best), np.array(worst)))


def pareto_front(
    criteria: Criteria,
    given_reference: Sequence[float] | None,
    contenders: Sequence[TrialRecord],
    worst: tuple[float, ...],
) -> ParetoFront:
    """The status's Pareto front of `contenders` (the finished ones still in the pool,
    and the recent ones); `worst` as folded from the finished trials."""
    standing = ranked(criteria, contenders)
    reference = reference_point(criteria, given_reference, contenders, worst)
    points = _points(criteria, contenders)
    volume = hypervolume(points, np.array(reference)) if reference and contenders else 0.0
    return ParetoFront(
        size=sum(rank == 0 for rank, _ in standing),
        hypervolume=volume,
        reference_point=list(criteria.to_minimized(reference)) if reference else [],
        trials=[_listed(criteria, rank, record) for rank, record in standing[:MAX_PARETO_TRIALS]],
    )


def _listed(criteria: Criteria, rank: int, record: TrialRecord) -> ParetoTrial:
    values = dict(zip(criteria.metrics, objective_values(record), strict=True))
    return ParetoTrial(trial=record.name, rank=rank, values=values, parameters=dict(record.params))
