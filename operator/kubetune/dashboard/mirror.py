"""An in-memory Optuna storage kept current from an `ExperimentSource`.

One `sync` pass reads every experiment and brings its study up to date: a new experiment
becomes a study, a new trial a trial, and an unfinished trial takes on its new curve,
attributes and state. A finished trial is final, in kubetune as in Optuna, so it is
written once. A study whose experiment is gone is deleted. `keep_current` runs passes
on a daemon thread; a pass that fails (the API server restarting) is retried next time.
"""

from __future__ import annotations

import logging
import threading
import warnings

import optuna
from optuna.storages import BaseStorage, InMemoryStorage
from optuna.trial import FrozenTrial

from kubetune.dashboard.trials import (
    directions,
    distributions,
    frozen_trial,
    objective_names,
    study_attributes,
)
from kubetune.planning.source import ExperimentNotFoundError, ExperimentSnapshot, ExperimentSource

log = logging.getLogger(__name__)
optuna.logging.set_verbosity(optuna.logging.WARNING)  # not a line per study it mirrors


class Mirror:
    """The storage, and which Optuna trial mirrors which TuningTrial."""

    def __init__(self, source: ExperimentSource) -> None:
        self.source = source
        self.storage: BaseStorage = InMemoryStorage()
        self.trial_ids: dict[tuple[str, str], int] = {}  # (experiment, trial) -> id

    def sync(self) -> None:
        names = self.source.names()
        for study in self.storage.get_all_studies():
            if study.study_name not in names:
                self.forget(study.study_name, study._study_id)
        for name in names:
            try:
                self.sync_experiment(self.source.load(name))
            except ExperimentNotFoundError:  # deleted between names() and load()
                continue

    def sync_experiment(self, snapshot: ExperimentSnapshot) -> None:
        study_id = self.study_id(snapshot)
        self.show_progress(study_id, snapshot)
        space = distributions(snapshot.experiment)
        criteria = snapshot.experiment.spec.criteria
        for trial in snapshot.trials:
            key = (snapshot.name, str(trial.metadata.get("name")))
            self.sync_trial(study_id, key, frozen_trial(trial, space, criteria))

    def show_progress(self, study_id: int, snapshot: ExperimentSnapshot) -> None:
        shown = self.storage.get_study_user_attrs(study_id)
        for name, value in study_attributes(snapshot.experiment).items():
            if shown.get(name) != value:
                self.storage.set_study_user_attr(study_id, name, value)

    def study_id(self, snapshot: ExperimentSnapshot) -> int:
        try:
            return self.storage.get_study_id_from_name(snapshot.name)
        except KeyError:
            found = directions(snapshot.experiment)
            study_id = self.storage.create_new_study(found, study_name=snapshot.name)
            study = optuna.load_study(study_name=snapshot.name, storage=self.storage)
            with warnings.catch_warnings():  # "experimental" since Optuna 3.2
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                study.set_metric_names(objective_names(snapshot.experiment))
            return study_id

    def sync_trial(self, study_id: int, key: tuple[str, str], new: FrozenTrial) -> None:
        trial_id = self.trial_ids.get(key)
        if trial_id is None:
            self.trial_ids[key] = self.storage.create_new_trial(study_id, template_trial=new)
            return
        old = self.storage.get_trial(trial_id)
        if not old.state.is_finished():
            update_trial(self.storage, trial_id, old, new)

    def forget(self, name: str, study_id: int) -> None:
        self.storage.delete_study(study_id)
        self.trial_ids = {key: id_ for key, id_ in self.trial_ids.items() if key[0] != name}


def update_trial(storage: BaseStorage, trial_id: int, old: FrozenTrial, new: FrozenTrial) -> None:
    """What changed in an unfinished trial; the state last, as it may finish the trial."""
    for step, value in new.intermediate_values.items():
        if old.intermediate_values.get(step) != value:
            storage.set_trial_intermediate_value(trial_id, step, value)
    for key, value in new.user_attrs.items():
        if old.user_attrs.get(key) != value:
            storage.set_trial_user_attr(trial_id, key, value)
    for key, value in new.system_attrs.items():
        if old.system_attrs.get(key) != value:
            storage.set_trial_system_attr(trial_id, key, value)
    if new.state != old.state:  # Optuna stamps the time of the change itself
        storage.set_trial_state_values(trial_id, new.state, new.values)


def keep_current(mirror: Mirror, interval_s: float, stop: threading.Event) -> threading.Thread:
    """Sync now, then every `interval_s` on a daemon thread until `stop` is set."""
    mirror.sync()
    thread = threading.Thread(target=_loop, args=(mirror, interval_s, stop), daemon=True)
    thread.start()
    return thread


def _loop(mirror: Mirror, interval_s: float, stop: threading.Event) -> None:
    while not stop.wait(interval_s):
        try:
            mirror.sync()
        except Exception:  # the next pass retries; the page keeps what it has
            log.warning("dashboard sync failed; retrying in %.0f s", interval_s, exc_info=True)
