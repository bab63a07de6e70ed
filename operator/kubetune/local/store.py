"""The local runner's on-disk state: ``.kubetune/<name>/``.

- ``experiment.yaml``: the experiment as run, so a later ``kubetune run`` can tell a
  resume of the same search from a different search under the same name;
- ``trials/<trial>.json``: one TuningTrial document per trial, the same schema as in a
  cluster, written the moment the trial is created and after every change;
- ``status.json``: the experiment status and the run time used so far;
- ``logs/``, ``metrics/``: each trial's output and metrics file;
- ``runner.lock``: held by the live runner, if any (lock.py);
- ``processes/``: one record per running trainer (orphans.py).

Every file is written atomically (temporary file, fsync, rename), so killing the runner
at any instant leaves either the old or the new content, never half of it.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml

from kubetune.api import (
    TERMINAL_PHASES,
    TuningExperiment,
    TuningExperimentStatus,
    TuningTrial,
    dump_resource,
    parse_experiment,
    parse_trial,
)
from kubetune.local.conditions import (
    INTERRUPTED,
    SUSPENDED,
    is_true,
    mark_interrupted,
)
from kubetune.local.lock import runner_is_active
from kubetune.planning.source import ExperimentNotFoundError, ExperimentSnapshot


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class ExperimentStore:
    """The directory of one experiment."""

    def __init__(self, root: Path, name: str) -> None:
        self.path = root / name
        self.name = name

    @property
    def logs(self) -> Path:
        return self.path / "logs"

    @property
    def metrics(self) -> Path:
        return self.path / "metrics"

    @property
    def lock_path(self) -> Path:
        return self.path / "runner.lock"

    @property
    def processes(self) -> Path:
        return self.path / "processes"

    def exists(self) -> bool:
        return (self.path / "experiment.yaml").is_file()

    def saved_document(self) -> dict[str, Any]:
        loaded = yaml.safe_load((self.path / "experiment.yaml").read_text(encoding="utf-8"))
        return loaded if isinstance(loaded, dict) else {}

    def save_document(self, document: dict[str, Any]) -> None:
        text = yaml.safe_dump(document, sort_keys=False)
        write_atomically(self.path / "experiment.yaml", text)

    def load_trials(self) -> list[TuningTrial]:
        trials = [
            parse_trial(json.loads(path.read_text(encoding="utf-8")))
            for path in sorted((self.path / "trials").glob("*.json"))
        ]
        return sorted(trials, key=lambda trial: trial.spec.index)

    def save_trial(self, trial: TuningTrial) -> None:
        name = str(trial.metadata["name"])
        text = json.dumps(dump_resource(trial), indent=1)
        write_atomically(self.path / "trials" / f"{name}.json", text)

    def load_status(self) -> tuple[TuningExperimentStatus, float]:
        """The status and the seconds of run time used so far (zero for a new run)."""
        path = self.path / "status.json"
        if not path.is_file():
            return TuningExperimentStatus(), 0.0
        saved = json.loads(path.read_text(encoding="utf-8"))
        status = TuningExperimentStatus.model_validate(saved.get("status", {}))
        return status, float(saved.get("elapsedSeconds", 0.0))

    def save_status(self, status: TuningExperimentStatus, elapsed_seconds: float) -> None:
        saved = {"status": dump_resource(status), "elapsedSeconds": round(elapsed_seconds, 3)}
        write_atomically(self.path / "status.json", json.dumps(saved, indent=1))


class LocalSource:
    """`ExperimentSource` over a runner directory (``.kubetune`` by default)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / "experiment.yaml").is_file())

    def experiment(self, name: str) -> TuningExperiment:
        store = self.store(name)
        experiment: TuningExperiment = parse_experiment(store.saved_document())
        experiment.status = store.load_status()[0]
        if runner_was_killed(store, experiment.status):
            mark_interrupted(experiment.status, "it was killed, or its machine stopped")
        return experiment

    def load(self, name: str) -> ExperimentSnapshot:
        return ExperimentSnapshot(self.experiment(name), self.store(name).load_trials())

    def store(self, name: str) -> ExperimentStore:
        store = ExperimentStore(self.root, name)
        if not store.exists():
            known = ", ".join(self.names()) or "none"
            raise ExperimentNotFoundError(
                f"no experiment {name!r} in {self.root}/ (experiments there: {known})"
            )
        return store


def runner_was_killed(store: ExperimentStore, status: TuningExperimentStatus) -> bool:
    """Unfinished, not stopped in order (which leaves a condition), and no runner holds
    the lock: a killed runner could not say so itself."""
    if (
        status.phase in TERMINAL_PHASES
        or is_true(status, INTERRUPTED)
        or is_true(status, SUSPENDED)
    ):
        return False
    return not runner_is_active(store.lock_path)
