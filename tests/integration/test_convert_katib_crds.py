"""Every convertible Katib example, as `kubetune convert katib` writes it, is accepted by
the real API server (OpenAPI schema + CEL, strict field validation) and reads back with
nothing pruned: the converter never emits a spec that `kubectl apply` would refuse."""

from __future__ import annotations

import json

import pytest

from kubetune.convert import convert_katib
from tests.integration.test_crds import Resources, is_subset, resources  # noqa: F401
from tests.katib_fixtures import CONVERTIBLE, KatibExample, example_id

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("example", CONVERTIBLE, ids=example_id)
def test_a_converted_example_is_accepted_and_reads_back_unchanged(
    resources: Resources,  # noqa: F811
    namespace: str,
    example: KatibExample,
) -> None:
    document = convert_katib(example.document).document
    document["metadata"].pop("namespace", None)  # the test's own namespace instead
    resources.create(namespace, document)
    stored = resources.read(namespace, document)
    assert is_subset(document["spec"], stored["spec"]), (
        f"{example.path.name}: the API server changed or pruned the spec:\n"
        f"sent   {json.dumps(document['spec'], sort_keys=True)}\n"
        f"stored {json.dumps(stored['spec'], sort_keys=True)}"
    )
