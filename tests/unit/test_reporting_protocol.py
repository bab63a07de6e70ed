"""The metrics protocol: every well-formed line reads back, every malformed one is named."""

from __future__ import annotations

import json
import math
import multiprocessing
from pathlib import Path

import pytest

from kubetune.reporting import MetricReport, ParseError, parse_json_line, parse_line, report
from kubetune.reporting.protocol import format_json_line, format_line


def test_parses_metrics_and_step() -> None:
    parsed = parse_line("kubetune metric val_accuracy=0.93 loss=0.2 step=5\n")
    assert parsed == MetricReport(step=5, metrics={"val_accuracy": 0.93, "loss": 0.2})


@pytest.mark.parametrize(
    ("text", "value"),
    [("1e-3", 1e-3), ("-2.5", -2.5), ("+3", 3.0), (".5", 0.5), ("7.", 7.0), ("1E+2", 100.0)],
)
def test_parses_every_decimal_notation(text: str, value: float) -> None:
    assert parse_line(f"kubetune metric m={text}") == MetricReport(None, {"m": value})


def test_accepts_names_with_dots_slashes_and_dashes() -> None:
    parsed = parse_line("kubetune metric val/acc=1 train.loss-ema=2 _x9=3")
    assert isinstance(parsed, MetricReport)
    assert list(parsed.metrics) == ["val/acc", "train.loss-ema", "_x9"]


@pytest.mark.parametrize(
    "line",
    ["", "epoch 3 done", "kubetune", "kubetune started", "kubetunemetric a=1", " kubetune x=1"],
)
def test_ordinary_output_is_not_a_report(line: str) -> None:
    assert parse_line(line) is None


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("kubetune metric", "no metrics"),
        ("kubetune metric step=3", "no metrics"),
        ("kubetune metric accuracy", "expected name=value"),
        ("kubetune metric =0.5", "invalid metric name"),
        ("kubetune metric 9lives=1", "invalid metric name"),
        ("kubetune metric a:b=1", "invalid metric name"),
        ("kubetune metric acc=", "not a number"),
        ("kubetune metric acc=high", "not a number"),
        ("kubetune metric acc=1_000", "not a number"),
        ("kubetune metric acc=0x10", "not a number"),
        ("kubetune metric acc=1=2", "not a number"),
        ("kubetune metric acc=1 acc=2", "given twice"),
        ("kubetune metric acc=1 step=1 step=2", "step given twice"),
        ("kubetune metric acc=1 step=-1", "integer from 0 to"),
        ("kubetune metric acc=1 step=1.5", "integer from 0 to"),
        ("kubetune metric acc=1 step=", "integer from 0 to"),
        ("kubetune metric acc=1 step=ten", "integer from 0 to"),
        ("kubetune metric acc=1 step=10000000000001", "integer from 0 to"),
        ("kubetune metric acc=infinity", "not a number"),
        ("kubetune metric acc=1 " + "x" * 9000 + "=1", "longer than"),
    ],
)
def test_malformed_lines_say_why(line: str, reason: str) -> None:
    parsed = parse_line(line)
    assert isinstance(parsed, ParseError)
    assert reason in parsed.reason


def test_parses_json_lines() -> None:
    parsed = parse_json_line('{"step": 5, "metrics": {"val_accuracy": 0.93, "n": 2}}')
    assert parsed == MetricReport(step=5, metrics={"val_accuracy": 0.93, "n": 2.0})
    assert parse_json_line('{"metrics": {"a": 1}, "time": 3}') == MetricReport(None, {"a": 1.0})
    assert parse_json_line("  \n") is None


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("{not json", "invalid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"step": 1}', '"metrics"'),
        ('{"metrics": [1]}', '"metrics"'),
        ('{"metrics": {}}', "no metrics"),
        ('{"metrics": {"a": "0.9"}}', "not a number"),
        ('{"metrics": {"a": true}}', "not a number"),
        ('{"metrics": {"a": null}}', "not a number"),
        ('{"metrics": {"a": 1' + "0" * 400 + "}}", "not a number"),
        ('{"metrics": {"9a": 1}}', "invalid metric name"),
        ('{"metrics": {"step": 1}}', "invalid metric name"),
        ('{"step": -1, "metrics": {"a": 1}}', "integer from 0 to"),
        ('{"step": 1.0, "metrics": {"a": 1}}', "integer from 0 to"),
        ('{"step": true, "metrics": {"a": 1}}', "integer from 0 to"),
        ('{"step": "1", "metrics": {"a": 1}}', "integer from 0 to"),
        ('{"step": 9223372036854775808, "metrics": {"a": 1}}', "integer from 0 to"),
        ("[" * 8000, "invalid JSON"),
        ('{"metrics": {"a": 1' + "0" * 5000 + "}}", "invalid JSON"),
        ('{"metrics": {"a": 1' + "0" * 9000 + "}}", "longer than"),
    ],
)
def test_malformed_json_lines_say_why(line: str, reason: str) -> None:
    parsed = parse_json_line(line)
    assert isinstance(parsed, ParseError)
    assert reason in parsed.reason


def test_formats_read_back_exactly() -> None:
    original = MetricReport(step=3, metrics={"a": 0.1 + 0.2, "b": 1e-12, "c": -4.0})
    assert parse_line(format_line(original)) == original
    assert parse_json_line(format_json_line(original)) == original


def test_report_appends_json_only_when_a_metrics_file_is_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    metrics_file = tmp_path / "metrics.jsonl"
    monkeypatch.setenv("KUBETUNE_METRICS_FILE", str(metrics_file))
    report(step=2, val_accuracy=0.5)
    report(loss=1)
    assert capsys.readouterr().out == ""  # one channel: the local runner reads both
    lines = metrics_file.read_text().splitlines()
    assert [parse_json_line(line) for line in lines] == [
        MetricReport(2, {"val_accuracy": 0.5}),
        MetricReport(None, {"loss": 1.0}),
    ]


def test_report_prints_the_line_outside_kubetune(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("KUBETUNE_METRICS_FILE", raising=False)
    report(step=2, val_accuracy=0.5)
    assert capsys.readouterr().out == "kubetune metric val_accuracy=0.5 step=2\n"


@pytest.mark.parametrize(
    ("step", "metrics"),
    [(None, {}), (-1, {"a": 1.0}), (None, {"a": "x"})],
)
def test_report_rejects_what_readers_would_reject(
    step: int | None, metrics: dict[str, float]
) -> None:
    with pytest.raises(ValueError, match=r"step|metric|report"):
        report(step, **metrics)


def _report_many(path: str, worker: int) -> None:
    import os

    os.environ["KUBETUNE_METRICS_FILE"] = path
    for step in range(200):
        report(step=step, worker=worker, padding=float(step) * 1e-7)


def test_concurrent_appends_never_interleave(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_report_many, args=(str(path), i)) for i in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(records) == 800
    assert {(r["metrics"]["worker"], r["step"]) for r in records} == {
        (float(w), s) for w in range(4) for s in range(200)
    }


@pytest.mark.parametrize(
    "line",
    [
        "kubetune metric acc=nan step=2",
        "kubetune metric acc=-inf step=2",
        "kubetune metric acc=1e999 step=2",
        '{"step": 2, "metrics": {"acc": NaN}}',
        '{"step": 2, "metrics": {"acc": -Infinity}}',
    ],
)
def test_a_diverged_value_is_read_as_a_measurement(line: str) -> None:
    """The lifecycle, not the parser, decides what a non-finite value means."""
    parsed = parse_json_line(line) if line.startswith("{") else parse_line(line)
    assert isinstance(parsed, MetricReport) and parsed.step == 2
    assert not math.isfinite(parsed.metrics["acc"])


def test_a_diverged_value_round_trips_through_both_encodings() -> None:
    report = MetricReport(3, {"loss": float("nan")})
    for parsed in (parse_line(format_line(report)), parse_json_line(format_json_line(report))):
        assert isinstance(parsed, MetricReport) and math.isnan(parsed.metrics["loss"])
