"""Placeholders: parameter values reach command, args and env; unknown names are caught."""

from __future__ import annotations

import pytest

from kubetune.planning.placeholders import (
    PlaceholderError,
    check_template,
    format_value,
    param_env,
    substitute,
    substitute_container,
)

CONTAINER = {
    "name": "trainer",
    "command": ["python", "train.py"],
    "args": ["--lr=${lr}", "--layers", "${layers}", "cost: $$5 ${opt}"],
    "env": [{"name": "OPT", "value": "${opt}"}, {"name": "POD", "valueFrom": {"x": "${y}"}}],
}
PARAMS: dict[str, float | int | str] = {"lr": 0.001, "layers": 3, "opt": "adam"}


def test_fills_command_args_and_env_values() -> None:
    filled = substitute_container(CONTAINER, PARAMS, 0)
    assert filled["args"] == ["--lr=0.001", "--layers", "3", "cost: $5 adam"]
    assert filled["env"][0] == {"name": "OPT", "value": "adam"}
    assert filled["env"][1] == CONTAINER["env"][1]  # valueFrom is not ours to touch
    assert CONTAINER["args"][0] == "--lr=${lr}"  # the template itself is left intact


def test_unknown_placeholder_names_container_and_field() -> None:
    with pytest.raises(PlaceholderError) as caught:
        substitute_container({"name": "trainer", "args": ["a", "--wd=${wd}"]}, PARAMS, 1)
    message = str(caught.value)
    assert "spec.trial.template.spec.containers[1] (trainer).args[1]" in message
    assert "${wd}" in message
    assert "lr, layers, opt" in message


def test_check_template_finds_errors_in_env_before_any_trial() -> None:
    template = {"spec": {"containers": [{"name": "t", "env": [{"name": "A", "value": "${b}"}]}]}}
    with pytest.raises(PlaceholderError, match=r"containers\[0\] \(t\)\.env\[0\]\.value"):
        check_template(template, ["a"])
    check_template(template, ["b"])


@pytest.mark.parametrize(
    ("value", "text"), [(1e-05, "1e-05"), (0.1, "0.1"), (3, "3"), (2.0, "2.0"), ("rbf", "rbf")]
)
def test_values_are_written_exactly(value: float | int | str, text: str) -> None:
    assert format_value(value) == text
    assert substitute("${v}", {"v": value}, "here") == text


def test_env_names_are_upper_case() -> None:
    assert param_env({"learning_rate": 0.5, "C": 1}) == {
        "KUBETUNE_PARAM_LEARNING_RATE": "0.5",
        "KUBETUNE_PARAM_C": "1",
    }
