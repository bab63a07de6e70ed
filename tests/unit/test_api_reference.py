"""The generated field reference of docs/api.md: every field of both resources has a
row, checks read as words, Markdown tables stay intact, and the written part of the page
survives regeneration."""

from __future__ import annotations

from typing import Any

from kubetune.api.crd import resource_schemas
from kubetune.api.reference import MARKER, objects, reference, with_reference

SCHEMAS = resource_schemas()
TEXT = reference(SCHEMAS)


def section(path: str, kind: str = "tuningexperiment") -> str:
    """The table under the heading of one object, e.g. `spec.limits` of an experiment."""
    return TEXT.split(f"#### `{kind}.{path}`\n", 1)[1].split("\n####", 1)[0]


def row(path: str, field: str, kind: str = "tuningexperiment") -> str:
    lines = section(path, kind).splitlines()
    return next(line for line in lines if line.startswith(f"| `{field}` |"))


def test_every_field_of_every_object_has_a_row() -> None:
    for kind, schema in SCHEMAS.items():
        assert f"### {kind}\n" in TEXT
        for path, node in objects(schema, kind.lower()):
            if "." in path:
                for name in node["properties"]:
                    assert row(path.split(".", 1)[1], name, kind.lower()), f"{path}.{name}"


def test_a_row_shows_type_description_default_and_checks() -> None:
    cells = [cell.strip(" |") for cell in row("spec.limits", "maxTrials").split(" | ")]
    assert cells[1] == "integer"
    assert "Trials created in total" in cells[2] and "Default: 10." in cells[2]
    assert cells[3] == "≥ 1; ≤ 100000"


def test_exclusive_bounds_tag_rules_and_cel_messages_read_as_words() -> None:
    assert "> 0; < 1; only allowed when name is tpe" in row("spec.algorithm", "gamma")
    assert "must not exceed maxTrials" in row("spec.limits", "parallelTrials")
    assert "required when rule is hyperband" in row("spec.earlyStopping", "maxResource")


def test_nested_objects_and_list_items_get_their_own_table() -> None:
    assert "`command`" in section("spec.trial.template.spec.containers[]")
    assert "array of object" in row("status", "conditions")
    assert "map of number" in row("status", "metrics", "tuningtrial")


def test_a_cell_never_breaks_the_table() -> None:
    schema: dict[str, Any] = {
        "description": "Root.",
        "properties": {
            "odd": {"type": "string", "description": "a | b\nand <b>", "pattern": "^(x|y)$"}
        },
    }
    line = reference({"Odd": schema}).splitlines()[-1]
    assert line == r"| `odd` | string | a \| b and \<b> | matches `^(x\|y)$` |"


def test_regenerating_keeps_the_written_part_and_replaces_the_rest() -> None:
    page = with_reference("# Title\n\nWords.\n", SCHEMAS)
    assert page.startswith("# Title\n\nWords.\n\n" + MARKER)
    assert with_reference(page.replace(TEXT, "old reference"), SCHEMAS) == page
