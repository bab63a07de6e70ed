"""A trainer's own metric lines (spec.trial.metricsFormat): which lines count, how steps
are numbered, and how a bad format is refused, at apply and by the operator's parse."""

from __future__ import annotations

import copy

import pytest

from kubetune.api import SpecError, parse_experiment
from kubetune.reporting.line_formats import LineReader, format_problem
from kubetune.reporting.protocol import MetricReport, ParseError
from tests.unit.test_api_models import BASE

KATIB = r"(?P<name>[\w-]+)\s*=\s*(?P<value>[-+]?[\d.]+(?:[eE][-+]?\d+)?)"
TWO_GROUPS = r"([\w-]+):\s*([-+]?[\d.]+)"


def read_all(reader: LineReader, *lines: str) -> list[MetricReport | ParseError | None]:
    return [reader.read(line) for line in lines]


def test_katib_lines_count_with_any_prefix_and_each_epoch_is_a_step() -> None:
    reader = LineReader([KATIB], ["loss", "accuracy"])
    reports = read_all(
        reader,
        "INFO:root:loss=0.9",
        "2026-01-01 12:00:00 accuracy = 0.5",
        "loss=0.4 accuracy=0.8",
        "Epoch 3 lr=0.1 done",
    )
    assert reports == [
        MetricReport(1, {"loss": 0.9}),
        MetricReport(1, {"loss": 0.9, "accuracy": 0.5}),
        MetricReport(2, {"loss": 0.4, "accuracy": 0.8}),
        None,  # lr is not a metric of the experiment
    ]


def test_a_printed_step_is_used_and_two_group_formats_work() -> None:
    reader = LineReader([TWO_GROUPS], ["loss"])
    assert read_all(reader, "step: 10 loss: 0.5", "loss: 0.4", "step: 2.5 loss: 0.3") == [
        MetricReport(10, {"loss": 0.5}),
        MetricReport(11, {"loss": 0.4}),
        MetricReport(12, {"loss": 0.3}),  # not a whole number: counted instead
    ]


def test_our_own_lines_are_never_read_through_a_format() -> None:
    reader = LineReader([KATIB], ["loss"])
    assert reader.read("kubetune metric loss=0.2 step=7") == MetricReport(7, {"loss": 0.2})
    assert isinstance(reader.read("kubetune metric loss=oops"), ParseError)
    assert reader.read("loss=0.1") == MetricReport(1, {"loss": 0.1}), "the count is its own"


def test_without_formats_only_our_lines_count() -> None:
    assert read_all(LineReader(), "loss=0.3", "kubetune metric loss=0.3") == [
        None,
        MetricReport(None, {"loss": 0.3}),
    ]


def test_what_is_not_a_number_or_too_long_is_ordinary_output() -> None:
    reader = LineReader([KATIB], ["loss"])
    assert read_all(reader, "loss=1.2.3", "loss=.", "x" * 9000 + " loss=0.1") == [None] * 3


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        (KATIB, None),
        (TWO_GROUPS, None),
        ("(?P<name>\\w+)=(?P<value>\\d+)(ms)?", None),
        ("(?P<name>\\w+=", "must be a valid regular expression"),
        ("loss=([\\d.]+)", "must have the named groups name and value, or exactly two"),
        ("(\\w+)=(\\d+)(ms)", "must have the named groups name and value, or exactly two"),
    ],
)
def test_a_format_compiles_and_has_a_name_and_a_value(pattern: str, problem: str | None) -> None:
    found = format_problem(pattern)
    assert found == problem if problem is None else problem in str(found)


def test_a_bad_format_fails_the_parse_naming_the_field() -> None:
    document = copy.deepcopy(BASE)
    document["spec"]["trial"]["metricsFormat"] = [KATIB, "loss=(\\d+"]
    with pytest.raises(SpecError) as caught:
        parse_experiment(document)
    message = str(caught.value)
    assert message.startswith("spec.trial.metricsFormat[1]: must be a valid regular expression")
    document["spec"]["trial"]["metricsFormat"] = [KATIB]
    assert parse_experiment(document).spec.trial.metrics_format == [KATIB]
