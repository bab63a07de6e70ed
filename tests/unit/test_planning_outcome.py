"""Trial outcomes from Job conditions and Pod container states."""

from __future__ import annotations

from typing import Any

from kubetune.planning.outcome import parse_termination_message, trial_outcome


def job(condition: str | None = None, reason: str = "") -> dict[str, Any]:
    conditions = [{"type": condition, "status": "True", "reason": reason}] if condition else []
    return {"status": {"conditions": conditions}}


def pod(phase: str, **state: Any) -> dict[str, Any]:
    status = {"name": "trainer", "state": state}
    return {
        "metadata": {"creationTimestamp": "2026-01-01T00:00:00Z"},
        "status": {"phase": phase, "containerStatuses": [status]},
    }


def succeeded_pod(message: str) -> dict[str, Any]:
    return pod("Succeeded", terminated={"exitCode": 0, "reason": "Completed", "message": message})


def test_success_reads_metrics_from_json_termination_message() -> None:
    outcome = trial_outcome(
        job("Complete"), [succeeded_pod('{"metrics": {"acc": 0.9, "loss": 0.1}}')], "trainer"
    )
    assert (outcome.phase, outcome.metrics) == ("Succeeded", {"acc": 0.9, "loss": 0.1})


def test_success_reads_metric_lines() -> None:
    message = "epoch done\nkubetune metric acc=0.8\nkubetune metric acc=0.85 step=2\n"
    outcome = trial_outcome(job("SuccessCriteriaMet"), [succeeded_pod(message)], "trainer")
    assert outcome.metrics == {"acc": 0.85}
    assert outcome.phase == "Succeeded"


def test_failures_name_their_cause() -> None:
    oom = pod("Failed", terminated={"exitCode": 137, "reason": "OOMKilled"})
    crash = pod("Failed", terminated={"exitCode": 3, "reason": "Error"})
    assert (
        trial_outcome(job("Failed", "BackoffLimitExceeded"), [oom], "trainer").reason == "OOMKilled"
    )
    exit_code = trial_outcome(job("Failed", "BackoffLimitExceeded"), [crash], "trainer")
    assert (exit_code.reason, exit_code.message) == ("ExitCode", "the trainer exited with code 3")
    timed_out = job("Failed", "DeadlineExceeded")
    timed_out["spec"] = {"activeDeadlineSeconds": 90}
    late = trial_outcome(timed_out, [crash], "trainer")
    assert (late.reason, late.message) == (
        "TrialTimeout",
        "ran longer than limits.trialTimeout (90 s)",
    )
    assert (
        trial_outcome(job("Failed", "BackoffLimitExceeded"), [], "trainer").reason
        == "BackoffLimitExceeded"
    )


def test_image_pull_failure_fails_a_job_that_would_wait_forever() -> None:
    stuck = pod("Pending", waiting={"reason": "ImagePullBackOff", "message": "no such image"})
    outcome = trial_outcome(job(), [stuck], "trainer")
    assert (outcome.phase, outcome.reason, outcome.message) == (
        "Failed",
        "ImagePullBackOff",
        "no such image",
    )


def test_unfinished_jobs_are_pending_or_running() -> None:
    assert trial_outcome(None, [], "trainer").phase == "Pending"
    assert trial_outcome(job(), [], "trainer").phase == "Pending"
    assert trial_outcome(job(), [pod("Running", running={})], "trainer").phase == "Running"


def test_termination_message_parsing_never_raises() -> None:
    assert parse_termination_message('{\n  "metrics": {"a": 1}\n}') == {"a": 1.0}
    assert parse_termination_message("{not json") == {}
    assert parse_termination_message("kubetune metric a=high") == {}
    assert parse_termination_message("") == {}


def test_a_succeeded_pod_is_success_before_the_job_controller_says_so() -> None:
    outcome = trial_outcome(job(), [succeeded_pod("kubetune metric acc=0.7")], "trainer")
    assert (outcome.phase, outcome.metrics) == ("Succeeded", {"acc": 0.7})
