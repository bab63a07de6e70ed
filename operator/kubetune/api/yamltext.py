"""A small, safe YAML writer for the generated CRDs.

The api package depends on pydantic alone, so it does not import a YAML library. Every
string is written as a JSON string, which is also a valid double-quoted YAML scalar, so
no CEL rule or pattern can be misread; maps and lists use block style for readable diffs.
"""

from __future__ import annotations

import json
import re
from typing import Any

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.$/-]*$")


def _key(key: str) -> str:
    return (
        key if _PLAIN_KEY.match(key) and key not in ("true", "false", "null") else json.dumps(key)
    )


def _lines(value: Any, indent: str) -> list[str]:
    if isinstance(value, dict) and value:
        lines = []
        for key, item in value.items():
            lines += _entry(f"{indent}{_key(key)}:", item, indent + "  ")
        return lines
    if isinstance(value, list) and value:
        lines = []
        for item in value:
            nested = _lines(item, indent + "  ")
            first = nested[0].lstrip() if nested else "null"
            lines += [f"{indent}- {first}", *nested[1:]]
        return lines
    return [indent + json.dumps(value)]


def _entry(head: str, value: Any, indent: str) -> list[str]:
    if isinstance(value, dict | list) and value:
        return [head, *_lines(value, indent)]
    return [f"{head} {json.dumps(value)}"]


def dump_yaml(document: dict[str, Any]) -> str:
    """`document` as block-style YAML text ending in a newline."""
    return "\n".join(_lines(document, "")) + "\n"
