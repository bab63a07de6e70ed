"""Printing a command's answer: a table for people (the default), or ``-o json|yaml|csv``
for programs.

A command builds one `Answer`: the document that json and yaml print, the flat rows
that csv prints, and the text a person reads. Each format is written here once.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

Row = dict[str, Any]


@dataclass(frozen=True)
class Answer:
    document: Any  # json and yaml
    rows: list[Row]  # csv; the union of their keys makes the header
    text: str  # the table a person reads


def show(answer: Answer, output: str) -> None:
    if output == "json":
        print(json.dumps(answer.document, indent=2))
    elif output == "yaml":
        print(yaml.safe_dump(answer.document, sort_keys=False), end="")
    elif output == "csv":
        write_csv(answer.rows)
    else:
        print(answer.text)


def write_csv(rows: list[Row]) -> None:
    header = list(dict.fromkeys(key for row in rows for key in row))
    writer = csv.DictWriter(sys.stdout, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Columns as wide as their widest cell; the last one is left ragged."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        padded = [str(cell).ljust(width) for cell, width in zip(cells, widths, strict=True)]
        return "  ".join(padded).rstrip()

    return [line(header), *(line(row) for row in rows)]


def number(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"
