"""Every example under examples/ parses, and every one under examples/invalid/ fails with
the message and field its header promises (the same phrases the API server reports)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from kubetune.api import SpecError, parse_experiment

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
VALID = sorted(EXAMPLES.glob("*.yaml"))
INVALID = sorted((EXAMPLES / "invalid").glob("*.yaml"))
HEADER = re.compile(r"^# (expect|field|rejected-by): (.+)$", re.MULTILINE)


def header(path: Path) -> dict[str, str]:
    return dict(HEADER.findall(path.read_text()))


def test_there_are_examples_of_both_kinds() -> None:
    assert len(VALID) >= 3
    assert len(INVALID) >= 10


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_valid_example_parses(path: Path) -> None:
    experiment = parse_experiment(yaml.safe_load(path.read_text()))
    assert experiment.metadata["name"]


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_invalid_example_fails_with_its_expected_message(path: Path) -> None:
    expected = header(path)
    assert {"expect", "field", "rejected-by"} <= expected.keys(), "incomplete header"
    assert expected["rejected-by"] in ("api-server", "operator")
    with pytest.raises(SpecError) as caught:
        parse_experiment(yaml.safe_load(path.read_text()))
    assert len(caught.value.errors) == 1, "an invalid example should break one rule"
    assert expected["expect"] in str(caught.value)
    assert str(caught.value).startswith(expected["field"])
