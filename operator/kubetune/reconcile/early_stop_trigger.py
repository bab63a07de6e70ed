"""Wake the experiment's reconcile pass when new metrics make an early stop due.

The reconcile pass is the one writer of trial phases: it stops losing trials and
launches the next suggestions in the same step (`planning.plan.plan_next`). The ingest
path only asks the same pure question the pass will ask (`planning.progress.early_stops`)
right after recording metrics, and wakes the pass when the answer is not empty, so a
freed GPU gets its next trial at once instead of at the next periodic pass. Checks are
coalesced per experiment; they read, and write only to wake the pass.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from kubetune.api import SpecError, parse_experiment, parse_trial
from kubetune.k8s.custom import get_experiment, list_trials, patch_experiment_annotations
from kubetune.k8s.rest import Document, Kube
from kubetune.planning.progress import early_stops
from kubetune.planning.records import record_of
from kubetune.planning.spec_changes import ACCEPTED_SPEC_ANNOTATION, decide_spec

CHECK_WINDOW_S = 0.5
STOPS_DUE_ANNOTATION = "kubetune.dev/early-stops-due"
# (namespace, experiment, trials due to stop): wakes that experiment's reconcile pass
ReconcileSoon = Callable[[str, str, tuple[str, ...]], Awaitable[None]]
logger = logging.getLogger(__name__)


def stops_due(kube: Kube, namespace: str, experiment: str) -> list[str]:
    """The running trials that the experiment's stopping rule would end now."""
    stored = get_experiment(kube, namespace, experiment)
    if stored is None or stored["metadata"].get("deletionTimestamp"):
        return []
    try:
        spec = parse_experiment(_effective(stored)).spec
    except SpecError:  # the reconcile pass reports the spec; nothing to stop meanwhile
        return []
    trials = list_trials(kube, namespace, experiment)
    records = [record_of(parse_trial(trial), spec.objective) for trial in trials]
    return [stop.trial for stop in early_stops(spec, records)]


def _effective(stored: Document) -> Document:
    """The spec the reconcile pass runs (the accepted one plus allowed edits)."""
    annotations = stored["metadata"].get("annotations") or {}
    decision = decide_spec(stored.get("spec") or {}, annotations.get(ACCEPTED_SPEC_ANNOTATION))
    return {**stored, "spec": decision.effective, "status": {}}


def annotation_waker(kube: Kube) -> ReconcileSoon:
    """Wakes the pass through kopf's watch: an annotation change is an update event.
    The value names the due trials, so re-announcing the same stops writes nothing new."""

    async def wake(namespace: str, experiment: str, trials: tuple[str, ...]) -> None:
        annotation = {STOPS_DUE_ANNOTATION: ",".join(trials)}
        await asyncio.to_thread(
            patch_experiment_annotations, kube, namespace, experiment, annotation
        )

    return wake


class EarlyStopTrigger:
    """Called after each recorded batch; checks once per window per experiment."""

    def __init__(self, kube: Kube, reconcile_soon: ReconcileSoon | None = None) -> None:
        self.kube = kube
        self.reconcile_soon = reconcile_soon or annotation_waker(kube)
        self.scheduled: set[tuple[str, str]] = set()
        self.tasks: set[asyncio.Task[None]] = set()  # strong references until done

    async def __call__(self, namespace: str, experiment: str) -> None:
        if (namespace, experiment) in self.scheduled:
            return
        self.scheduled.add((namespace, experiment))
        task = asyncio.get_running_loop().create_task(self._check(namespace, experiment))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _check(self, namespace: str, experiment: str) -> None:
        await asyncio.sleep(CHECK_WINDOW_S)
        self.scheduled.discard((namespace, experiment))
        try:
            due = await asyncio.to_thread(stops_due, self.kube, namespace, experiment)
            if due:
                logger.info("early stop due in %s/%s: %s", namespace, experiment, due)
                await self.reconcile_soon(namespace, experiment, tuple(due))
        except Exception:  # the periodic pass still stops them; never crash the loop
            logger.exception("early-stopping check of %s/%s failed", namespace, experiment)
