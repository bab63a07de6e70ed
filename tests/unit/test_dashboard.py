"""The dashboard's mapping of TuningTrials onto Optuna trials, and the mirror that keeps
an in-memory Optuna storage current as an experiment runs."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.study import StudyDirection
from optuna.trial import TrialState

from kubetune.api import TuningExperiment, TuningTrial, parse_experiment, parse_trial
from kubetune.cli import main
from kubetune.dashboard.mirror import Mirror
from kubetune.dashboard.server import application
from kubetune.dashboard.trials import (
    NO_OBJECTIVE_VALUE,
    directions,
    distributions,
    frozen_trial,
    objective_names,
)
from kubetune.planning.source import ExperimentNotFoundError, ExperimentSnapshot

CONTAINER = {"name": "trainer", "image": "trainer:1", "command": ["train"]}


def experiment(name: str = "search", **spec: Any) -> TuningExperiment:
    defaults = {
        "objective": {"metric": "loss", "goal": "minimize", "additionalMetrics": ["acc"]},
        "parameters": [
            {"name": "lr", "type": "float", "min": 1e-4, "max": 1.0, "scale": "log"},
            {"name": "width", "type": "int", "min": 8, "max": 64, "step": 8},
            {"name": "layers", "type": "int", "min": 1, "max": 100, "scale": "log", "step": 3},
            {"name": "kernel", "type": "categorical", "values": ["rbf", "linear"]},
            {"name": "batch", "type": "discrete", "values": [64, 16, 32]},
            {"name": "decay", "type": "discrete", "values": [0.5, 0.1]},
        ],
        "trial": {"template": {"spec": {"containers": [CONTAINER]}}},
    }
    document = {"apiVersion": "kubetune.dev/v1alpha1", "kind": "TuningExperiment",
                "metadata": {"name": name}, "spec": {**defaults, **spec}}  # fmt: skip
    return parse_experiment(document)


PARAMETERS = {"lr": 0.01, "width": 16, "layers": 7, "kernel": "rbf", "batch": 32, "decay": 0.1}


def trial(index: int, phase: str, experiment_name: str = "search", **status: Any) -> TuningTrial:
    return parse_trial({
        "metadata": {"name": f"{experiment_name}-{index:04d}",
                     "creationTimestamp": "2026-01-02T03:04:05Z"},
        "spec": {"experiment": experiment_name, "index": index, "parameters": PARAMETERS},
        "status": {"phase": phase, "startTime": "2026-01-02T03:04:06Z", **status},
    })  # fmt: skip


def finished(index: int, phase: str, **status: Any) -> TuningTrial:
    return trial(index, phase, completionTime="2026-01-02T03:09:06Z", **status)


def mapped(one: TuningTrial, spec: TuningExperiment | None = None) -> Any:
    spec = spec or experiment()
    frozen = frozen_trial(one, distributions(spec), spec.spec.criteria)
    frozen._validate()  # what Optuna checks of a trial it stores: state, times, values
    return frozen


def test_each_parameter_kind_keeps_its_range_scale_and_step() -> None:
    found = distributions(experiment())
    assert found["lr"] == FloatDistribution(1e-4, 1.0, log=True)
    assert found["width"] == IntDistribution(8, 64, step=8)
    assert found["layers"] == IntDistribution(1, 100, log=True)  # Optuna: log steps by 1
    assert found["kernel"] == CategoricalDistribution(["rbf", "linear"])
    assert found["batch"] == IntDistribution(16, 64)  # ordered, so plots keep the order
    assert found["decay"] == FloatDistribution(0.1, 0.5)


def test_several_objectives_keep_their_order_names_and_directions() -> None:
    goals = [{"metric": "accuracy", "goal": "maximize"}, {"metric": "ms", "goal": "minimize"}]
    spec = experiment(objective=None, objectives=goals)
    assert directions(spec) == [StudyDirection.MAXIMIZE, StudyDirection.MINIMIZE]
    assert objective_names(spec) == ["accuracy", "ms"]
    both = mapped(finished(0, "Succeeded", metrics={"accuracy": 0.9, "ms": 12.0}), spec)
    assert both.values == [0.9, 12.0]


@pytest.mark.parametrize(
    ("phase", "state"),
    [("Pending", TrialState.WAITING), ("Queued", TrialState.WAITING),
     ("Preempted", TrialState.WAITING), ("Running", TrialState.RUNNING)],
)  # fmt: skip
def test_unfinished_phases(phase: str, state: TrialState) -> None:
    assert mapped(trial(0, phase)).state == state


def test_a_succeeded_trial_is_complete_with_its_values_and_metrics() -> None:
    metrics = {"loss": 0.25, "acc": 0.9}
    frozen = mapped(finished(3, "Succeeded", metrics=metrics, reason="Completed"))
    assert (frozen.state, frozen.values) == (TrialState.COMPLETE, [0.25])
    assert frozen.params == PARAMETERS
    assert frozen.user_attrs["trial"] == "search-0003"
    assert frozen.user_attrs["acc"] == 0.9 and "loss" not in frozen.user_attrs
    assert frozen.user_attrs["log"] == "/logs/search-0003"
    assert (frozen.datetime_complete - frozen.datetime_start).total_seconds() == 300


def test_an_early_stopped_trial_is_pruned_with_its_curve_and_reason() -> None:
    curve = [{"step": 1, "values": {"loss": 0.9}}, {"step": 2, "values": {"loss": 0.8, "acc": 1}},
             {"step": 3, "values": {"acc": 0.5}}]  # fmt: skip
    message = "loss 0.8 at step 2 is worse than the median"
    frozen = mapped(finished(1, "EarlyStopped", metrics={"loss": 0.8}, curve=curve,
                             reason="EarlyStopped", message=message))  # fmt: skip
    assert frozen.state == TrialState.PRUNED
    assert frozen.intermediate_values == {1: 0.9, 2: 0.8}
    assert frozen.user_attrs["message"] == message


def test_a_failed_trial_keeps_why_and_has_no_values() -> None:
    frozen = mapped(finished(2, "Failed", reason="OOMKilled", message="out of memory"))
    assert (frozen.state, frozen.values) == (TrialState.FAIL, None)
    assert frozen.user_attrs["reason"] == "OOMKilled"


def test_a_failed_trial_that_never_started_shows_its_creation_time() -> None:
    bare = parse_trial({**trial(2, "Failed").model_dump(by_alias=True),
                        "status": {"phase": "Failed", "reason": "BadTemplate"}})  # fmt: skip
    assert mapped(bare).datetime_start == mapped(bare).datetime_complete


@pytest.mark.parametrize("metrics", [{}, {"loss": math.inf}])
def test_a_succeeded_trial_without_a_finite_objective_shows_as_failed(metrics: Any) -> None:
    frozen = mapped(finished(0, "Succeeded", metrics=metrics))
    assert (frozen.state, frozen.user_attrs["reason"]) == (TrialState.FAIL, NO_OBJECTIVE_VALUE)


def test_a_value_outside_the_edited_space_is_shown_not_dropped() -> None:
    spec = experiment(parameters=[{"name": "lr", "type": "float", "min": 0.5, "max": 1.0}])
    frozen = mapped(trial(0, "Running"), spec)
    assert frozen.params["lr"] == 0.01
    assert frozen.distributions["lr"] == CategoricalDistribution([0.01])
    assert frozen.distributions["width"] == CategoricalDistribution([16])


def test_constraints_become_optunas_violations() -> None:
    spec = experiment(constraints=[{"metric": "mem", "max": 100}])
    frozen = mapped(finished(0, "Succeeded", metrics={"loss": 1.0, "mem": 130}), spec)
    assert frozen.system_attrs["constraints"] == [30]
    assert "constraints" not in mapped(trial(1, "Running"), spec).system_attrs


class Source:
    """An `ExperimentSource` over snapshots the test edits between syncs."""

    def __init__(self) -> None:
        self.snapshots: dict[str, ExperimentSnapshot] = {}

    def put(self, *trials: TuningTrial, name: str = "search") -> None:
        self.snapshots[name] = ExperimentSnapshot(experiment(name), list(trials))

    def names(self) -> list[str]:
        return sorted(self.snapshots)

    def experiment(self, name: str) -> TuningExperiment:
        return self.load(name).experiment

    def load(self, name: str) -> ExperimentSnapshot:
        if name not in self.snapshots:
            raise ExperimentNotFoundError(name)
        return self.snapshots[name]


def states(mirror: Mirror, name: str = "search") -> list[TrialState]:
    study_id = mirror.storage.get_study_id_from_name(name)
    return [t.state for t in mirror.storage.get_all_trials(study_id)]


def test_the_mirror_follows_a_running_experiment() -> None:
    source = Source()
    mirror = Mirror(source)
    source.put(trial(0, "Pending"))
    mirror.sync()
    assert states(mirror) == [TrialState.WAITING]
    curve = [{"step": 1, "values": {"loss": 0.5}}]
    source.put(trial(0, "Running", curve=curve), trial(1, "Running"))
    mirror.sync()
    assert states(mirror) == [TrialState.RUNNING, TrialState.RUNNING]
    source.put(finished(0, "Succeeded", curve=[*curve, {"step": 2, "values": {"loss": 0.4}}],
                        metrics={"loss": 0.4}, reason="Completed"),
               finished(1, "Failed", reason="Error"))  # fmt: skip
    mirror.sync()
    done = mirror.storage.get_all_trials(mirror.storage.get_study_id_from_name("search"))
    assert [(t.state, t.values) for t in done] == [(TrialState.COMPLETE, [0.4]),
                                                   (TrialState.FAIL, None)]  # fmt: skip
    assert done[0].intermediate_values == {1: 0.5, 2: 0.4}
    assert (done[0].user_attrs["reason"], done[1].user_attrs["reason"]) == ("Completed", "Error")


def test_the_study_shows_the_experiments_phase_progress_and_best() -> None:
    source = Source()
    mirror = Mirror(source)
    source.put(trial(0, "Running"))
    mirror.sync()
    study_id = mirror.storage.get_study_id_from_name("search")
    assert mirror.storage.get_study_user_attrs(study_id)["phase"] == "Pending"
    snapshot = source.snapshots["search"]
    best = {"trial": "search-0000", "value": 0.25, "parameters": PARAMETERS}
    counts = {"created": 1, "succeeded": 1, "finished": 1}
    status = {"phase": "Succeeded", "trials": counts, "best": best}
    ended = parse_experiment({**snapshot.experiment.model_dump(by_alias=True), "status": status})
    source.snapshots["search"] = ExperimentSnapshot(ended, snapshot.trials)
    mirror.sync()
    assert mirror.storage.get_study_user_attrs(study_id) == {
        "phase": "Succeeded",
        "trials": "1 of 10 finished: 1 succeeded, 0 failed, 0 stopped; 0 running",
        "best": "search-0000: loss=0.25",
    }


def test_a_preempted_trial_waits_and_runs_again() -> None:
    source, phases = Source(), ["Running", "Preempted", "Queued", "Running"]
    mirror = Mirror(source)
    seen = []
    for phase in phases:
        source.put(trial(0, phase))
        mirror.sync()
        seen += states(mirror)
    assert seen == [TrialState.RUNNING, TrialState.WAITING, TrialState.WAITING, TrialState.RUNNING]


def test_a_deleted_experiment_leaves_the_dashboard() -> None:
    source = Source()
    mirror = Mirror(source)
    source.put(trial(0, "Running"), name="kept")
    source.put(trial(0, "Running", experiment_name="gone"), name="gone")
    mirror.sync()
    del source.snapshots["gone"]
    mirror.sync()
    assert [study.study_name for study in mirror.storage.get_all_studies()] == ["kept"]


def call(app: Any, method: str, path: str) -> tuple[str, str]:
    """One request straight through the WSGI application: (status, body)."""
    answered: list[str] = []
    environ: dict[str, Any] = {"REQUEST_METHOD": method, "PATH_INFO": path}
    setup_testing_defaults(environ)
    body = app(environ, lambda status, *_: answered.append(status))
    return answered[0], b"".join(body).decode()


def test_the_server_only_reads_and_answers_trial_logs() -> None:
    source = Source()
    source.put(finished(0, "Succeeded", metrics={"loss": 0.5}))
    mirror = Mirror(source)
    mirror.sync()
    logs = {"search-0000": "epoch 1\n"}

    def read_log(trial: str) -> str:
        if trial not in logs:
            raise ExperimentNotFoundError(f"no log of a trial {trial!r}")
        return logs[trial]

    app = application(mirror.storage, read_log)
    status, studies = call(app, "GET", "/api/studies")
    assert status.startswith("200") and '"study_name": "search"' in studies
    assert call(app, "DELETE", "/api/studies/0")[0].startswith("405")
    assert call(app, "POST", "/api/studies")[0].startswith("405")
    assert [s.study_name for s in mirror.storage.get_all_studies()] == ["search"]
    assert call(app, "GET", "/logs/search-0000") == ("200 OK", "epoch 1\n")
    assert call(app, "GET", "/logs/other")[0].startswith("404")


def test_without_the_extra_the_command_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "kubetune.dashboard.server", None)  # import fails
    assert main(["dashboard", "--dir", str(tmp_path)]) == 2
    assert "pip install 'kubetune[dashboard]'" in capsys.readouterr().err
