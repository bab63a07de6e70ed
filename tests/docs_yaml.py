"""The ```yaml blocks of README.md and docs/*.md, shared by the unit test that validates
them with kubetune's own models and the integration test that sends them to the API
server (dry run).

A block is one of:

- a whole document (or several, separated by `---`): a `kind: TuningExperiment` one is
  validated as an experiment, any other one (Helm values, a Job) must at least parse;
- a fragment, whose first line is `# fragment: <path>` (`spec`, `spec.limits`): its
  mapping is merged at that path into examples/quickstart.yaml and the result validated,
  so a one-line `earlyStopping: {...}` is checked as strictly as a whole experiment;
- a Katib Experiment, whose first line is `# katib`: it stands for the TuningExperiment
  `kubetune convert katib` makes of it, which is validated (docs/katib.md).

No other way out: a block that is neither parses as YAML or fails the test. YAML is read
as `kubetune run` and kubectl read it (`kubetune.local.kubectl_yaml`).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kubetune.convert import convert_katib
from kubetune.local.kubectl_yaml import KubectlLoader, load_yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
DOC_FILES = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
BASE_EXPERIMENT = REPO_ROOT / "examples" / "quickstart.yaml"
EXPERIMENT_KIND = "TuningExperiment"
_YAML_BLOCK = re.compile(r"^```ya?ml[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
_FRAGMENT = re.compile(r"^# fragment: ([A-Za-z]+(?:\.[A-Za-z]+)*)[ \t]*$")
KATIB_MARKER = "# katib"


@dataclass(frozen=True)
class Block:
    """One fenced yaml block: where it is, and its text."""

    path: Path
    line: int
    text: str

    @property
    def name(self) -> str:
        return f"{self.path.relative_to(REPO_ROOT)}:{self.line}"

    @property
    def fragment_path(self) -> list[str] | None:
        """The keys a fragment belongs under, or None for a whole document."""
        first_line = self.text.split("\n", 1)[0]
        match = _FRAGMENT.match(first_line)
        return match.group(1).split(".") if match else None

    @property
    def is_katib(self) -> bool:
        return self.text.split("\n", 1)[0].rstrip() == KATIB_MARKER


def yaml_blocks(files: list[Path] = DOC_FILES) -> list[Block]:
    """Every ```yaml (or ```yml) block of `files`, in order."""
    blocks = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        for match in _YAML_BLOCK.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            blocks.append(Block(path, line, match.group(1)))
    return blocks


def graft(fragment: dict[str, Any], keys: list[str]) -> dict[str, Any]:
    """examples/quickstart.yaml with `fragment` merged into the mapping at `keys`."""
    document: dict[str, Any] = load_yaml(BASE_EXPERIMENT.read_text(encoding="utf-8"))
    target = document
    for key in keys:
        target = target.setdefault(key, {})
    target.update(copy.deepcopy(fragment))
    return document


def documents(block: Block) -> list[Any]:
    """The block's documents, a fragment grafted into a whole experiment, a Katib one
    converted; YAMLError if the text does not parse, ConversionError if it cannot convert."""
    keys = block.fragment_path
    loaded = list(yaml.load_all(block.text, Loader=KubectlLoader))
    if block.is_katib:
        return [convert_katib(document).document for document in loaded if document]
    if keys is None:
        return [document for document in loaded if document is not None]
    assert len(loaded) == 1 and isinstance(loaded[0], dict), f"{block.name}: not a mapping"
    return [graft(loaded[0], keys)]


def is_experiment(document: Any) -> bool:
    return isinstance(document, dict) and document.get("kind") == EXPERIMENT_KIND


def experiment_documents() -> list[tuple[str, dict[str, Any]]]:
    """(block name, document) of every experiment the docs show, fragments grafted."""
    return [
        (block.name, document)
        for block in yaml_blocks()
        for document in documents(block)
        if is_experiment(document)
    ]
