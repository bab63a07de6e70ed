"""Local mode reads a Katib-style trainer (``score=0.7`` lines, on stdout or through
`logging` on stderr) with the experiment's metricsFormat, and records each metric by its
strategy: the same rules the operator applies to a container log."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.unit.local_helpers import run, stored_trials

# Score rises then falls (x/2, x, x/4): `max` keeps x, `latest` would keep x/4.
KATIB_TRAINER = textwrap.dedent(
    """
    import logging, sys
    logging.basicConfig(level=logging.INFO)  # INFO:root:... on stderr
    x = float(sys.argv[1].split("=")[1])
    for factor in (0.5, 1.0, 0.25):
        score, loss = x * factor, 1 - x * factor
        if sys.argv[2] == "logging":
            logging.info("score=%s", score)
            logging.info("loss = %s", loss)
        else:
            print(f"epoch done: score={score} loss={loss} lr=0.1", flush=True)
    """
)
KATIB_FORMAT = r"(?P<name>[\w-]+)\s*=\s*(?P<value>[-+]?[\d.]+(?:[eE][-+]?\d+)?)"


def katib_experiment(tmp_path: Path, stream: str) -> Path:
    trainer = tmp_path / "katib_trainer.py"
    trainer.write_text(KATIB_TRAINER)
    container = {"name": "trainer", "image": "unused",
                 "command": ["python", str(trainer), "--x=${x}", stream]}  # fmt: skip
    spec: dict[str, Any] = {
        "objective": {
            "metric": "score",
            "goal": "maximize",
            "additionalMetrics": ["loss"],
            "strategies": {"score": "max"},
        },
        "parameters": [{"name": "x", "type": "float", "min": 0.1, "max": 0.9}],
        "algorithm": {"name": "random", "seed": 3},
        "limits": {"maxTrials": 2, "parallelTrials": 2},
        "trial": {
            "metricsFormat": [KATIB_FORMAT],
            "template": {"spec": {"containers": [container]}},
        },
    }
    document = {"apiVersion": "kubetune.dev/v1alpha1", "kind": "TuningExperiment",
                "metadata": {"name": "tiny"}, "spec": spec}  # fmt: skip
    path = tmp_path / "katib.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


@pytest.mark.parametrize("stream", ["print", "logging"])
def test_a_katib_style_trainer_is_read_and_its_strategy_applied(
    tmp_path: Path, stream: str
) -> None:
    assert run(katib_experiment(tmp_path, stream), tmp_path / "results") == 0
    trials = stored_trials(tmp_path / "results")
    assert len(trials) == 2
    for trial in trials:
        x, status = trial["spec"]["parameters"]["x"], trial["status"]
        assert status["phase"] == "Succeeded"
        assert status["metrics"] == pytest.approx({"score": x, "loss": 1 - x / 4})
        assert "lr" not in status["metrics"], "only the experiment's metrics are taken"
        assert [point["step"] for point in status["curve"]] == [1, 2, 3]
        scores = [point["values"]["score"] for point in status["curve"]]
        assert scores == pytest.approx([x / 2, x, x / 4]), "the curve stays per step"
