"""Local mode reads numbers in YAML as kubectl does, so `min: 1e-3` is the number the API
server accepts rather than a string the strict models refuse."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kubetune.local.kubectl_yaml import load_yaml
from kubetune.local.prepare import load_document, prepare_experiment


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1e-3", 0.001),
        ("1.0e3", 1000.0),
        ("+1E5", 100000.0),
        ("1.0e-3", 0.001),
        ("5", 5),
        ("'1e-3'", "1e-3"),
        ("1e", "1e"),
        ("v1e3", "v1e3"),
    ],
)
def test_scalars_resolve_as_kubectl_resolves_them(text: str, expected: object) -> None:
    value = load_yaml(f"value: {text}")["value"]
    assert value == expected and type(value) is type(expected)


def test_pyyaml_itself_is_left_as_it_was() -> None:
    assert yaml.safe_load("value: 1e-3") == {"value": "1e-3"}


def test_an_experiment_with_yaml_1_2_floats_runs_locally(tmp_path: Path) -> None:
    quickstart = Path(__file__).resolve().parents[2] / "examples" / "quickstart.yaml"
    text = quickstart.read_text().replace("min: 1.0e-3", "min: 1e-3")
    assert "min: 1e-3" in text
    path = tmp_path / "experiment.yaml"
    path.write_text(text)
    experiment = prepare_experiment(load_document(path))
    assert experiment.spec.parameters[0].min == 0.001  # type: ignore[union-attr]
