"""Every ```yaml block of README.md and docs/ parses, and every TuningExperiment in them
(a fragment merged into the quickstart, see tests/docs_yaml.py) passes `parse_experiment`,
the validation local mode and the operator share. Docs that show a spec the API server
would refuse teach the wrong thing."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kubetune.api import SpecError, TuningExperiment, TuningExperimentSpec, parse_experiment
from kubetune.convert import ConversionError
from tests.docs_yaml import REPO_ROOT, Block, documents, is_experiment, yaml_blocks

BLOCKS = yaml_blocks()
# Keys that give away part of an experiment: such a block must be marked as a fragment, so
# it is validated rather than only parsed.
EXPERIMENT_KEYS = {
    field.alias or name
    for model in (TuningExperiment, TuningExperimentSpec)
    for name, field in model.model_fields.items()
} - {"apiVersion", "kind", "metadata"}


def looks_like_part_of_an_experiment(document: object) -> bool:
    """Experiment keys, outside a whole object of another API (Kueue's, say)."""
    if not isinstance(document, dict):
        return False
    foreign = "apiVersion" in document and not str(document["apiVersion"]).startswith("kubetune.")
    return not foreign and bool(EXPERIMENT_KEYS & document.keys())


def test_the_readme_example_and_the_docs_fragments_are_found() -> None:
    names = [block.name for block in BLOCKS]
    assert any(name.startswith("README.md:") for name in names)
    assert any(block.fragment_path for block in BLOCKS)


@pytest.mark.parametrize("block", BLOCKS, ids=lambda block: block.name)
def test_block_parses_and_every_experiment_in_it_validates(block: Block) -> None:
    try:
        parsed = documents(block)
    except yaml.YAMLError as error:
        pytest.fail(f"{block.name}: not YAML: {error}")
    except ConversionError as error:
        pytest.fail(f"{block.name}: a '# katib' block that does not convert: {error}")
    assert parsed, f"{block.name}: an empty yaml block"
    for document in parsed:
        unmarked = not is_experiment(document) and looks_like_part_of_an_experiment(document)
        assert not unmarked, f"{block.name}: part of an experiment: begin it '# fragment: spec'"
    for document in filter(is_experiment, parsed):
        try:
            parse_experiment(document)
        except SpecError as error:
            pytest.fail(f"{block.name}: {error}")


def write_doc(tmp_path: Path, text: str) -> list[Block]:
    doc = tmp_path / "doc.md"
    doc.write_text(text)
    return yaml_blocks([doc])


def test_a_flow_sequence_with_an_unquoted_placeholder_is_caught(tmp_path: Path) -> None:
    (block,) = write_doc(tmp_path, "```yaml\ncommand: [python, t.py, --C=${C}]\n```\n")
    with pytest.raises(yaml.YAMLError):
        documents(block)


def test_a_fragment_is_validated_inside_a_whole_experiment(tmp_path: Path) -> None:
    text = "```yaml\n# fragment: spec\nearlyStopping: {rule: asha, min_resource: 1}\n```\n"
    (block,) = write_doc(tmp_path, text)
    (document,) = documents(block)
    with pytest.raises(SpecError, match=r"spec\.earlyStopping\.min_resource: Forbidden"):
        parse_experiment(document)


def test_an_unmarked_experiment_fragment_is_recognised() -> None:
    assert looks_like_part_of_an_experiment({"earlyStopping": {"rule": "asha"}})
    assert looks_like_part_of_an_experiment({"spec": {}})
    assert not looks_like_part_of_an_experiment({"watchNamespaces": ["a"], "ha": {}})
    queue = {"apiVersion": "kueue.x-k8s.io/v1beta2", "kind": "LocalQueue", "spec": {}}
    assert not looks_like_part_of_an_experiment(queue)
    assert looks_like_part_of_an_experiment({**queue, "apiVersion": "kubetune.dev/v1alpha1"})


def test_a_katib_block_stands_for_its_conversion(tmp_path: Path) -> None:
    katib = (REPO_ROOT / "examples" / "katib" / "grid.yaml").read_text()
    (block,) = write_doc(tmp_path, f"```yaml\n# katib\n{katib}```\n")
    (document,) = documents(block)
    assert is_experiment(document)
    assert parse_experiment(document).spec.algorithm.name == "grid"


def test_a_katib_block_that_cannot_convert_is_caught(tmp_path: Path) -> None:
    katib = (REPO_ROOT / "examples" / "katib" / "tfjob.yaml").read_text()
    (block,) = write_doc(tmp_path, f"```yaml\n# katib\n{katib}```\n")
    with pytest.raises(ConversionError, match="TFJob"):
        documents(block)


def test_a_nested_fragment_path_lands_at_its_place(tmp_path: Path) -> None:
    (block,) = write_doc(tmp_path, "```yml\n# fragment: spec.limits\nmaxTrials: 7\n```\n")
    (document,) = documents(block)
    assert parse_experiment(document).spec.limits.max_trials == 7
