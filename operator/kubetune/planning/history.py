"""An experiment's trials as a pass decides on them: the finished ones folded once into a
summary, the recent ones (active, or settled by this very pass) as records.

A finished trial never changes again. The operator's trial cache keeps the finished
trials of each experiment in a `SettledLog`, a list that only grows; the summary of it
(counts by phase, the best trial, the highest index, the records with their learning
curves and what the search learns from them) is folded forward from where the previous
pass left it. So a pass costs what the experiment's running trials
cost, not its history: ten thousand finished trials are folded once each, not parsed and
counted on every pass. The local runner, whose trials are a few files, hands every trial
over as recent; the decisions are the same functions either way.

A finished trial edited by hand, or deleted, makes the cache start a new log, and the
summary is folded from its start again.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kubetune.api import Criteria
from kubetune.planning import front
from kubetune.planning.jobs import owned_by
from kubetune.planning.records import ACTIVE_PHASES, CurveStep, TrialRecord
from kubetune.search.base import Observation
from kubetune.search.stopping import Curve

Document = dict[str, Any]
Indexed = tuple[int, Observation]  # an observation and its trial's index, to sort by


def is_settled(trial: Document) -> bool:
    """A finished trial: its document never changes again."""
    return (trial.get("status") or {}).get("phase", "Pending") not in ACTIVE_PHASES


def split_settled(trials: Iterable[Document]) -> tuple[list[Document], SettledTrials]:
    """Trials as the cache hands them over: the unsettled ones, and a fresh log of the
    settled ones (for callers that list every trial anyway)."""
    trials = list(trials)
    unsettled = [trial for trial in trials if not is_settled(trial)]
    return unsettled, SettledTrials.of(trial for trial in trials if is_settled(trial))


class SettledLog:
    """Documents of finished trials in the order they finished. It only grows, so a pass
    reads a prefix of it (a `SettledTrials`) while the cache appends."""

    def __init__(self, documents: Iterable[Document] = ()) -> None:
        self._documents: list[Document] = []
        self._positions: dict[str, int] = {}
        for document in documents:
            self.append(document)

    def append(self, document: Document) -> None:
        self._positions[document["metadata"]["name"]] = len(self._documents)
        self._documents.append(document)

    def __contains__(self, name: object) -> bool:
        return name in self._positions

    def view(self) -> SettledTrials:
        return SettledTrials(self, len(self._documents))


@dataclass(frozen=True)
class SettledTrials:
    """The first `size` documents of `log`: the finished trials as one pass saw them."""

    log: SettledLog = field(default_factory=SettledLog)
    size: int = 0

    @classmethod
    def of(cls, documents: Iterable[Document]) -> SettledTrials:
        return SettledLog(documents).view()

    def documents(self, start: int = 0) -> list[Document]:
        return self.log._documents[start : self.size]

    def get(self, name: str) -> Document | None:
        position = self.log._positions.get(name, self.size)
        return self.log._documents[position] if position < self.size else None


def is_better(criteria: Criteria, record: TrialRecord, than: TrialRecord | None) -> bool:
    """Whether `record` beats `than` as the best trial: it succeeded, meets every
    constraint, and has a finite (primary) value that is better, or as good and earlier.
    Stopped trials never count: their value is from a partial training run."""
    if record.phase != "Succeeded" or record.value is None or not math.isfinite(record.value):
        return False
    if not record.feasible:
        return False
    if than is None:
        return True
    minimized = criteria.primary.to_minimized
    return (minimized(record.value), record.index) < (minimized(than.value or 0.0), than.index)


def observation_of(criteria: Criteria, record: TrialRecord) -> Observation | None:
    """What the search learns from a trial: its minimized objectives and its constraint
    violations, NaN objectives for a failure (the worst), nothing while it runs or when
    it ended without a value."""
    if record.phase == "Failed":
        nans = (math.nan,) * len(record.others)
        return Observation(record.params, math.nan, nans, record.violations)
    if record.phase in ("Succeeded", "EarlyStopped") and record.value is not None:
        first, *others = front.minimized_values(criteria, record)
        return Observation(record.params, first, tuple(others), record.violations)
    return None


def observed(criteria: Criteria, records: Iterable[TrialRecord]) -> tuple[Indexed, ...]:
    return tuple(
        (record.index, seen)
        for record in records
        if (seen := observation_of(criteria, record)) is not None
    )


def minimized_curve(criteria: Criteria, record: TrialRecord) -> Curve:
    """The record's learning curve as the stopping rules read it (minimized); with
    several objectives, every objective at each step too."""
    steps = tuple(point.step for point in record.curve)
    objectives = tuple(_minimized_step(criteria, point) for point in record.curve)
    values = tuple(step[0] for step in objectives)
    arrivals = tuple(point.at for point in record.curve)
    several = objectives if criteria.several else ()
    return Curve(record.name, record.index, steps, values, arrivals, objectives=several)


def _minimized_step(criteria: Criteria, point: CurveStep) -> tuple[float, ...]:
    return criteria.to_minimized((point.value, *point.others))


def curves_of(criteria: Criteria, records: Iterable[TrialRecord]) -> tuple[Curve, ...]:
    return tuple(minimized_curve(criteria, record) for record in records if record.curve)


@dataclass(frozen=True)
class Finished:
    """Finished trials folded into what decisions need."""

    succeeded: int = 0
    failed: int = 0
    stopped: int = 0
    best: TrialRecord | None = None
    last_index: int = -1
    records: tuple[TrialRecord, ...] = ()
    curves: tuple[Curve, ...] = ()
    """The minimized learning curves, for the stopping rule: built once, like the rest."""
    observations: tuple[Indexed, ...] = ()
    """What the search learns from them, with each trial's index: built once too."""
    contenders: tuple[TrialRecord, ...] = ()
    """With several objectives, those that may still make the status's Pareto front."""
    worst: tuple[float, ...] = ()
    """With several objectives, the worst minimized value of each among the contenders
    ever seen (the derived hypervolume reference point starts from it)."""

    def folded(self, criteria: Criteria, records: Iterable[TrialRecord]) -> Finished:
        added = tuple(records)
        best = self.best
        for record in added:
            best = record if is_better(criteria, record, best) else best
        several = criteria.several
        return Finished(
            succeeded=self.succeeded + sum(r.phase == "Succeeded" for r in added),
            failed=self.failed + sum(r.phase == "Failed" for r in added),
            stopped=self.stopped + sum(r.phase == "EarlyStopped" for r in added),
            best=best,
            last_index=max([self.last_index, *(r.index for r in added)]),
            records=self.records + added,
            curves=self.curves + curves_of(criteria, added),
            observations=self.observations + observed(criteria, added),
            contenders=front.pooled(criteria, self.contenders, added) if several else (),
            worst=front.worst_seen(criteria, self.worst, added) if several else (),
        )


@dataclass(frozen=True)
class History:
    """All trials of an experiment: `recent` ones as records, the `finished` summary of
    those that ended before this pass."""

    recent: tuple[TrialRecord, ...] = ()
    finished: Finished = Finished()

    @property
    def records(self) -> tuple[TrialRecord, ...]:
        """Every trial (the suggester and the stopping rules read them all)."""
        return self.finished.records + self.recent

    def observations(self, criteria: Criteria) -> list[Observation]:
        """Every ended trial as the search sees it, in index order (the finished ones
        were folded in the order they ended, nearly that order, which sorts fast)."""
        everything = self.finished.observations + observed(criteria, self.recent)
        indexed = sorted(everything, key=lambda item: item[0])
        return [seen for _, seen in indexed]

    @property
    def active(self) -> tuple[TrialRecord, ...]:
        return tuple(record for record in self.recent if record.active)

    @property
    def next_index(self) -> int:
        return max([self.finished.last_index, *(r.index for r in self.recent)]) + 1

    def with_recent(self, recent: Sequence[TrialRecord]) -> History:
        return History(tuple(recent), self.finished)


@dataclass(frozen=True)
class _Folded:
    log: SettledLog
    size: int
    summary: Finished


class FinishedSummaries:
    """The `Finished` summary of each experiment's settled trials, kept between passes and
    folded forward by what its log gained since. Keyed by the experiment's uid and its
    criteria (an objective or constraint edit refolds); bounded, least recently used
    first out."""

    def __init__(self, limit: int = 10_000) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._known: OrderedDict[tuple[str, str], _Folded] = OrderedDict()

    def summary(
        self,
        uid: str,
        criteria: Criteria,
        settled: SettledTrials,
        record: Callable[[Document], TrialRecord],
    ) -> Finished:
        """The summary of the trials in `settled` that the experiment with `uid` owns."""
        key = (uid, criteria.key)
        with self._lock:
            known = self._known.get(key)
        if known is None or known.log is not settled.log or known.size > settled.size:
            known = _Folded(settled.log, 0, Finished())
        added = owned_by(settled.documents(known.size), uid)
        folded = known.summary.folded(criteria, (record(document) for document in added))
        with self._lock:
            self._known[key] = _Folded(settled.log, settled.size, folded)
            self._known.move_to_end(key)
            while len(self._known) > self.limit:
                self._known.popitem(last=False)
        return folded
