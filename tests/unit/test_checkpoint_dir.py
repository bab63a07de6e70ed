"""spec.trial.checkpointDir: each trial gets a directory of its own that outlives one
attempt (a preemption on a cluster, a retry in either runtime), named in
KUBETUNE_CHECKPOINT_DIR; without the field, neither runtime sets it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from kubetune.api import parse_experiment, parse_trial
from kubetune.planning.jobs import build_trial_job, build_trial_resource
from kubetune.planning.pass_decision import _provisional
from kubetune.reporting.sdk import CHECKPOINT_DIR_ENV, checkpoint_dir
from tests.unit.local_helpers import experiment_file, run, stored_trials
from tests.unit.pass_helpers import experiment_body

# Fails its first attempt after saving progress, and succeeds on a retry only if that
# progress is still there: score = 1 then, 0 without a checkpoint directory.
RESUMING_TRAINER = textwrap.dedent(
    """
    import os, sys
    directory = os.environ.get("KUBETUNE_CHECKPOINT_DIR")
    if directory is None:
        print("kubetune metric score=0.0")
        sys.exit(0)
    saved = os.path.join(directory, "progress")
    if not os.path.exists(saved):
        os.makedirs(directory, exist_ok=True)
        open(saved, "w").write("epoch 3")
        sys.exit(1)  # preempted, say
    print("kubetune metric score=1.0 resumed=1")
    """
)


def job_env(**trial: object) -> dict[str, str]:
    body = experiment_body(trial=trial)
    body["metadata"]["uid"] = "uid-of-exp"
    resource = _provisional(build_trial_resource(body, 0, "exp-0000", {"x": 0.1, "y": 0.2}))
    job = build_trial_job(parse_experiment(body), parse_trial(resource))
    [container] = job["spec"]["template"]["spec"]["containers"]
    return {variable["name"]: variable.get("value", "") for variable in container["env"]}


def test_a_trial_job_names_its_own_directory_below_checkpoint_dir() -> None:
    env = job_env(checkpointDir="/checkpoints/")
    assert env[CHECKPOINT_DIR_ENV] == "/checkpoints/exp/exp-0000"
    assert CHECKPOINT_DIR_ENV not in job_env()


def test_a_relative_checkpoint_dir_is_refused_naming_the_field() -> None:
    with pytest.raises(Exception, match=r"spec\.trial\.checkpointDir"):
        parse_experiment(experiment_body(trial={"checkpointDir": "ckpt"}))


def test_the_sdk_creates_the_directory_or_says_there_is_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(CHECKPOINT_DIR_ENV, raising=False)
    assert checkpoint_dir() is None
    monkeypatch.setenv(CHECKPOINT_DIR_ENV, str(tmp_path / "exp" / "exp-0000"))
    assert checkpoint_dir() == tmp_path / "exp" / "exp-0000"
    assert (tmp_path / "exp" / "exp-0000").is_dir()


@pytest.mark.parametrize(("checkpoint", "score"), [("/mnt/checkpoints", 1.0), (None, 0.0)])
def test_a_local_retry_finds_what_the_failed_attempt_saved(
    tmp_path: Path, checkpoint: str | None, score: float
) -> None:
    path = experiment_file(tmp_path, limits={"maxTrials": 1, "parallelTrials": 1,
                                             "trialRetries": 1})  # fmt: skip
    (tmp_path / "trainer.py").write_text(RESUMING_TRAINER)
    if checkpoint:
        document = yaml.safe_load(path.read_text())
        document["spec"]["trial"]["checkpointDir"] = checkpoint
        path.write_text(yaml.safe_dump(document))
    assert run(path, tmp_path / "results") == 0
    [stored] = stored_trials(tmp_path / "results")
    assert stored["status"]["phase"] == "Succeeded"
    assert stored["status"]["value"] == score
    if checkpoint:  # kept under the run's own directory, not at the cluster path
        assert (tmp_path / "results" / "tiny" / "checkpoints" / "tiny-0000" / "progress").exists()
