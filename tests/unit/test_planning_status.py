"""Status documents: conditions, changed-only patches, accepted spec edits."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from kubetune.api import TuningTrialStatus
from kubetune.planning.lifecycle import Outcome, TrialReason, conclude
from kubetune.planning.spec_changes import decide_spec, encode_spec
from kubetune.planning.status import (
    invalid_spec_status,
    lifecycle_document,
    set_condition,
    status_patch,
)

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
LATER = NOW + timedelta(minutes=5)


def test_condition_transition_time_moves_only_when_status_flips() -> None:
    first = set_condition([], "Suspended", True, reason="Suspended", message="", now=NOW)
    same = set_condition(first, "Suspended", True, reason="Suspended", message="x", now=LATER)
    flipped = set_condition(same, "Suspended", False, reason="Resumed", message="", now=LATER)
    assert same[0]["lastTransitionTime"] == "2026-01-02T03:04:05Z"
    assert same[0]["message"] == "x"
    assert flipped == [{"type": "Suspended", "status": "False", "reason": "Resumed", "message": "",
                        "lastTransitionTime": "2026-01-02T03:09:05Z"}]  # fmt: skip


def test_patches_name_only_what_changed() -> None:
    stored = {"phase": "Running", "trials": {"created": 2}, "best": None}
    assert status_patch(stored, {"phase": "Running", "trials": {"created": 2}}) == {}
    assert status_patch(stored, {"phase": "Running", "trials": {"created": 3}}) == {
        "trials": {"created": 3}
    }


def test_a_concluded_trial_patches_only_what_changed() -> None:
    stored = {"phase": "Running", "metrics": {"loss": 0.5, "acc": 0.7}}
    status = TuningTrialStatus.model_validate(stored)
    ended = Outcome("Succeeded", TrialReason.COMPLETED, metrics={"acc": 0.9})
    patch = status_patch(stored, lifecycle_document(conclude(status, ended, ("acc",), NOW)))
    assert patch == {
        "phase": "Succeeded", "reason": "Completed", "metrics": {"loss": 0.5, "acc": 0.9},
        "value": 0.9, "completionTime": "2026-01-02T03:04:05Z",
    }  # fmt: skip
    running = lifecycle_document(conclude(status, Outcome("Running"), ("acc",), NOW))
    assert status_patch({**stored, "curve": []}, running) == {}


def test_invalid_spec_is_a_failed_condition() -> None:
    status = invalid_spec_status({}, "spec.x: bad", NOW)
    assert status["phase"] == "Failed"
    (condition,) = status["conditions"]
    assert (condition["type"], condition["reason"], condition["message"]) == (
        "Failed",
        "InvalidSpec",
        "spec.x: bad",
    )


SPEC = {
    "objective": {"metric": "acc"},
    "limits": {"maxTrials": 4, "parallelTrials": 2},
    "trial": {"gpus": 1},
}


def test_first_spec_is_accepted_and_recorded() -> None:
    decision = decide_spec(SPEC, None)
    assert (decision.effective, decision.refused, decision.annotation) == (
        SPEC,
        (),
        encode_spec(SPEC),
    )


def test_budget_and_suspend_edits_are_accepted() -> None:
    edited = {**SPEC, "suspend": True, "limits": {"maxTrials": 9, "parallelTrials": 3}}
    decision = decide_spec(edited, encode_spec(SPEC))
    assert (decision.effective, decision.refused) == (edited, ())
    assert json.loads(decision.annotation or "") == edited


def test_other_edits_are_refused_but_budget_edits_still_apply() -> None:
    edited = {
        **SPEC,
        "trial": {"gpus": 4},
        "limits": {"maxTrials": 9, "parallelTrials": 2, "maxDuration": "1h"},
    }
    decision = decide_spec(edited, encode_spec(SPEC))
    assert decision.refused == ("spec.limits.maxDuration", "spec.trial.gpus")
    assert decision.effective == {**SPEC, "limits": {"maxTrials": 9, "parallelTrials": 2}}
    unchanged = decide_spec(edited, encode_spec(decision.effective))
    assert unchanged.annotation is None
