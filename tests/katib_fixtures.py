"""The Katib experiments of examples/katib/, shared by the unit, local-mode and API server
tests of `kubetune convert katib`.

A file whose leading comments hold `# expect-unsupported: <field>` must be refused,
naming that field; every other one must convert.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
KATIB_DIR = REPO_ROOT / "examples" / "katib"
_UNSUPPORTED = re.compile(r"^# expect-unsupported: (\S+)$", re.MULTILINE)


@dataclass(frozen=True)
class KatibExample:
    path: Path

    @property
    def document(self) -> dict[str, Any]:
        loaded: dict[str, Any] = yaml.safe_load(self.path.read_text(encoding="utf-8"))
        return loaded

    @property
    def unsupported_field(self) -> str | None:
        match = _UNSUPPORTED.search(self.path.read_text(encoding="utf-8"))
        return match.group(1) if match else None


EXAMPLES = [KatibExample(path) for path in sorted(KATIB_DIR.glob("*.yaml"))]
CONVERTIBLE = [example for example in EXAMPLES if example.unsupported_field is None]
REFUSED = [example for example in EXAMPLES if example.unsupported_field is not None]


def example_id(example: KatibExample) -> str:
    return example.path.stem
