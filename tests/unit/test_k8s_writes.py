"""The k8s package's answers to the API server's errors, through the fake API server."""

from __future__ import annotations

import pytest
from kubernetes.client.exceptions import ApiException

from kubetune.k8s import custom, workloads
from kubetune.k8s.rest import RefusedError, create_owned
from tests.unit.fake_kube import FakeKube, api_error
from tests.unit.pass_helpers import JOBS, NAMESPACE, SECRETS

JOB = {"metadata": {"name": "j", "ownerReferences": [{"uid": "t", "controller": True}]},
       "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "i"}]}}}}  # fmt: skip


def _unavailable(path: str, _body: object, _dry_run: bool) -> ApiException:
    return api_error(503, "unavailable")


def test_server_errors_are_raised_not_taken_for_conflicts() -> None:
    fake = FakeKube()
    fake.refusers.append(_unavailable)
    with pytest.raises(ApiException):
        workloads.create_job(fake, NAMESPACE, JOB)
    with pytest.raises(ApiException):
        workloads.dry_run_job(fake, NAMESPACE, JOB)


def test_a_dry_run_of_a_taken_name_is_valid_and_an_invalid_one_refused() -> None:
    fake = FakeKube()
    workloads.create_job(fake, NAMESPACE, JOB)
    workloads.dry_run_job(fake, NAMESPACE, JOB)
    invalid = {**JOB, "spec": {"template": {"spec": {"containers": [{"name": "c"}]}}}}
    with pytest.raises(RefusedError) as refused:
        workloads.dry_run_job(fake, NAMESPACE, invalid)
    assert refused.value.refusal.code == 422


def test_deleting_or_suspending_a_gone_job_is_harmless() -> None:
    fake = FakeKube()
    workloads.delete_job(fake, NAMESPACE, "gone")
    workloads.set_job_suspended(fake, NAMESPACE, "gone", True)
    assert custom.get_experiment(fake, NAMESPACE, "gone") is None


def test_a_listed_lookup_that_finds_nothing_is_another_owners() -> None:
    fake = FakeKube()

    def conflict(path: str, _body: object, _dry_run: bool) -> ApiException | None:
        return api_error(409, "exists") if path == JOBS else None

    fake.refusers.append(conflict)
    with pytest.raises(Exception, match="another owner"):
        create_owned(fake, JOBS, JOB, listed=True)


def test_other_errors_of_reads_are_raised() -> None:
    fake = FakeKube()
    fake.request("POST", SECRETS, body={"metadata": {"name": "s"}})
    with pytest.raises(ApiException):
        fake.request("PATCH", f"{SECRETS}/absent", body={})
    with pytest.raises(ApiException):
        fake.request("DELETE", f"{SECRETS}/absent")
