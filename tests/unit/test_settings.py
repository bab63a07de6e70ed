"""The operator's environment settings: defaults, clear refusals, one documented list."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kubetune.reconcile import settings
from kubetune.reconcile.settings import ALL, SettingError

OPERATOR_DOC = Path(__file__).parents[2] / "docs" / "operator.md"


def test_unset_variables_take_their_defaults() -> None:
    assert settings.PASS_THREADS.read({}) == 4
    assert settings.FINISHED_JOB_TTL_SECONDS.read({}) == 300
    assert settings.INGEST_URL.read({}) == ""


def test_values_are_read_and_an_empty_ttl_keeps_finished_jobs() -> None:
    assert settings.RESYNC_SECONDS.read({"KUBETUNE_RESYNC_SECONDS": " 2.5 "}) == 2.5
    assert settings.FINISHED_JOB_TTL_SECONDS.read({"KUBETUNE_FINISHED_JOB_TTL_SECONDS": ""}) is None
    assert settings.METRICS_PORT.read({"KUBETUNE_METRICS_PORT": "0"}) == 0


@pytest.mark.parametrize(
    ("setting", "text"),
    [
        (settings.PASS_THREADS, "0"),
        (settings.PASS_THREADS, "four"),
        (settings.INGEST_PORT, "70000"),
        (settings.RESYNC_SECONDS, "-1"),
        (settings.FINISHED_JOB_TTL_SECONDS, "1.5"),
    ],
)
def test_a_value_of_the_wrong_kind_names_the_variable(
    setting: settings.Setting[object], text: str
) -> None:
    expected = re.escape(f"{setting.env}={text!r}: takes {setting.takes}")
    with pytest.raises(SettingError, match=expected):
        setting.read({setting.env: text})


def test_every_setting_is_documented_with_its_default() -> None:
    rows = {line.split("|")[1].strip(" `"): line for line in OPERATOR_DOC.read_text().splitlines()
            if line.startswith("| `KUBETUNE_")}  # fmt: skip
    assert set(rows) == {setting.env for setting in ALL}
    for setting in ALL:
        assert rows[setting.env].split("|")[2].strip() == _shown(setting.default), setting.env


def _shown(default: object) -> str:
    if default in ("", None):
        return "empty"
    if isinstance(default, frozenset):  # a list setting, written comma-separated
        return ",".join(sorted(default))
    return f"{default:g}" if isinstance(default, float) else str(default)
