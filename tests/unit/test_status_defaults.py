"""A status the operator writes, once the API server has applied its CRD's defaults, needs
no second write. A nested field the planner leaves out but the schema defaults (say a new
count with `default: 0`) makes the stored status differ from the desired one on every
pass, so every pass would write it: one API write per event and resync, for nothing."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kubetune.api.crd import resource_schemas
from kubetune.planning.history import History
from kubetune.planning.plan import plan_next
from kubetune.planning.records import TrialRecord
from kubetune.planning.status import experiment_status, status_patch
from tests.unit.test_multi_objective import make_mo_spec
from tests.unit.test_planning_progress import make_spec

NOW = datetime(2030, 1, 1, tzinfo=UTC)


def defaulted(document: Any, schema: dict[str, Any]) -> Any:
    """`document` as the API server stores it: absent properties with a default filled
    in, at every depth (structural schema defaulting)."""
    if isinstance(document, list):
        return [defaulted(item, schema.get("items", {})) for item in document]
    if not isinstance(document, dict):
        return document
    properties = schema.get("properties", {})
    filled = {key: copy.deepcopy(p["default"]) for key, p in properties.items() if "default" in p}
    filled.update(document)
    return {key: defaulted(value, properties.get(key, {})) for key, value in filled.items()}


def records(spec: Any) -> tuple[TrialRecord, ...]:
    others = (3.0,) if spec.criteria.several else ()
    return (
        TrialRecord("exp-0000", 0, {"x": 0.5}, "Succeeded", 0.9, others=others),
        TrialRecord("exp-0001", 1, {"x": 0.1}, "Running"),
    )


@pytest.mark.parametrize(
    "spec",
    [
        make_spec(),
        make_mo_spec(),
        make_spec(
            trial={
                "queue": {"name": "gpus"},
                "template": {"spec": {"containers": [{"name": "t", "image": "i"}]}},
            }
        ),
    ],
    ids=["single", "several-objectives", "queued"],
)
def test_a_written_status_needs_no_second_write_once_defaulted(spec: Any) -> None:
    schema = resource_schemas()["TuningExperiment"]["properties"]["status"]
    plan = plan_next("exp", spec, History(records(spec)), timedelta(0))
    desired = experiment_status({}, plan, NOW, spec)
    stored = defaulted({key: v for key, v in desired.items() if v is not None}, schema)
    again = experiment_status(stored, plan, NOW, spec)
    assert status_patch(stored, again) == {}
