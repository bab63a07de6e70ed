"""The watch-fed caches: a store keeps the newest version of each object, and an informer
lists, follows the watch, and lists again when the server says its version is too old."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from kubetune.k8s import informer as informer_module
from kubetune.k8s.informer import Informer, Store, pod_essentials, workload_essentials
from kubetune.k8s.owned import WatchedObjects
from kubetune.planning.history import is_settled
from kubetune.planning.jobs import EXPERIMENT_LABEL
from kubetune.planning.printed_metrics import trainer_of

Document = dict[str, Any]


def _object(name: str, version: int, experiment: str = "exp", **extra: Any) -> Document:
    metadata = {"name": name, "resourceVersion": str(version), "managedFields": [{"f": 1}],
                "labels": {EXPERIMENT_LABEL: experiment}}  # fmt: skip
    return {"metadata": metadata, **extra}


def _names(store: Store, experiment: str = "exp") -> list[str]:
    return sorted(document["metadata"]["name"] for document in store.of_experiment(experiment))


def test_the_newer_version_wins_whatever_the_order() -> None:
    store = Store()
    assert store.put(_object("a", 5, status={"phase": "Running"}))
    assert not store.put(_object("a", 4, status={"phase": "Pending"}))  # a late watch event
    assert store.of_experiment("exp")[0]["status"] == {"phase": "Running"}
    assert "managedFields" not in store.of_experiment("exp")[0]["metadata"]


def test_a_passs_own_write_coming_back_from_the_watch_is_nothing_new() -> None:
    store = Store()
    assert store.put(_object("a", 5))  # written through by the pass
    assert not store.put(_object("a", 5))  # its watch event: wakes no pass


def test_a_deletion_older_than_the_stored_object_is_ignored() -> None:
    store = Store()
    store.put(_object("a", 7))
    assert not store.remove(_object("a", 6))
    assert store.remove(_object("a", 8))
    assert _names(store) == [] and len(store) == 0


def test_objects_are_grouped_by_experiment() -> None:
    store = Store()
    for name, experiment in [("a", "one"), ("b", "two"), ("c", "one")]:
        store.put(_object(name, 1, experiment))
    assert _names(store, "one") == ["a", "c"] and _names(store, "two") == ["b"]
    assert store.of_experiment("three") == []


def test_a_relist_forgets_what_it_lacks_unless_written_since() -> None:
    store = Store()
    store.put(_object("gone", 3))
    store.put(_object("written-after-the-list", 12))  # a pass's own create, seen first
    store.put(_object("kept", 4))
    store.replace([_object("kept", 9), _object("new", 10)], listed_version=10)
    assert _names(store) == ["kept", "new", "written-after-the-list"]


def _trial(name: str, version: int, phase: str, experiment: str = "exp") -> Document:
    return _object(name, version, experiment, status={"phase": phase})


def _split_names(store: Store, experiment: str = "exp") -> tuple[list[str], list[str]]:
    unsettled, settled = store.split(experiment)
    names = [document["metadata"]["name"] for document in unsettled]
    return sorted(names), [document["metadata"]["name"] for document in settled.documents()]


def test_settled_trials_go_to_a_log_that_only_grows() -> None:
    store = Store(settles=is_settled)
    store.put(_trial("a", 1, "Succeeded"))
    store.put(_trial("b", 2, "Running"))
    store.put(_trial("other", 3, "Failed", experiment="two"))
    assert _split_names(store) == (["b"], ["a"])
    _, before = store.split("exp")
    store.put(_trial("b", 4, "Failed"))  # b finishes: appended, the earlier view unchanged
    unsettled, after = store.split("exp")
    assert unsettled == [] and after.log is before.log and (before.size, after.size) == (1, 2)
    assert [d["metadata"]["name"] for d in after.documents(start=before.size)] == ["b"]
    assert before.get("b") is None and after.get("b") is not None


def test_a_settled_trial_that_changes_or_goes_starts_a_new_log() -> None:
    store = Store(settles=is_settled)
    for index in range(3):
        store.put(_trial(f"t{index}", index + 1, "Succeeded"))
    _, first = store.split("exp")
    store.put(_trial("t1", 9, "Succeeded") | {"spec": {"edited": True}})  # edited by hand
    _, edited = store.split("exp")
    assert edited.log is not first.log and edited.size == 3
    store.remove(_trial("t0", 10, "Succeeded"))
    _, removed = store.split("exp")
    assert removed.log is not edited.log and _split_names(store) == ([], ["t1", "t2"])


def test_a_pod_keeps_only_metadata_and_status() -> None:
    pod = _object("p", 1, spec={"containers": [{"name": "big"}]}, status={"phase": "Running"})
    kept = pod_essentials(pod)
    assert set(kept) == {"metadata", "status"} and "managedFields" not in kept["metadata"]


def test_a_job_or_jobset_keeps_its_containers_names_not_its_pod_templates() -> None:
    trainer = {"name": "trainer", "image": "big", "env": [{"name": "X"}]}
    pod_spec = {"containers": [trainer, {"name": "reporter", "image": "small"}], "volumes": [{}]}
    template = {"metadata": {"labels": {"a": "b"}}, "spec": pod_spec}
    job = _object("j", 1, spec={"suspend": True, "ttlSecondsAfterFinished": 300,
                                "template": template}, status={"active": 1})  # fmt: skip
    kept = workload_essentials(job)
    names = {"spec": {"containers": [{"name": "trainer"}, {"name": "reporter"}]}}
    assert kept["spec"] == {"suspend": True, "ttlSecondsAfterFinished": 300, "template": names}
    assert kept["status"] == {"active": 1} and "managedFields" not in kept["metadata"]
    assert trainer_of(kept) == "trainer"
    replicated = {"name": "workers", "replicas": 2,
                  "template": {"spec": {"backoffLimit": 0, "template": template}}}  # fmt: skip
    jobset = _object("s", 1, spec={"replicatedJobs": [replicated]}) | {"kind": "JobSet"}
    (workers,) = workload_essentials(jobset)["spec"]["replicatedJobs"]
    assert workers["template"]["spec"]["backoffLimit"] == 0 and workers["replicas"] == 2
    assert workers["template"]["spec"]["template"] == kept["spec"]["template"]
    assert trainer_of(workload_essentials(jobset)) == "trainer"


class _Server:
    """The API server as an informer sees it: pages of a list, then watch streams."""

    def __init__(self, pages: list[Document], streams: list[list[Document]]) -> None:
        self.pages, self.streams = pages, streams
        self.queries: list[dict[str, str]] = []
        self.done = threading.Event()

    def request(self, method: str, path: str, *, query: dict[str, str] | None = None) -> Document:
        self.queries.append(query or {"path": path})
        return self.pages.pop(0)

    def stream(self, path: str, *, query: dict[str, str], idle_s: float) -> Iterator[Document]:
        self.queries.append(query)
        if not self.streams:
            self.done.set()
            threading.Event().wait(5)  # an idle watch
            return
        yield from self.streams.pop(0)


def _page(items: list[Document], version: str, more: str = "") -> Document:
    return {"items": items, "metadata": {"resourceVersion": version, "continue": more}}


def _event(kind: str, document: Document) -> Document:
    return {"type": kind, "object": document}


def test_an_informer_lists_follows_and_relists_after_410() -> None:
    server = _Server(
        pages=[
            _page([_object("a", 1)], "5", more="token"),  # the first list, in two pages
            _page([_object("b", 2)], "5"),
            _page([_object("c", 20)], "20"),  # the relist after the 410
        ],
        streams=[
            [_event("ADDED", _object("d", 6)), _event("BOOKMARK", _object("", 8)),
             _event("DELETED", _object("a", 9))],
            [],  # the server closed the stream: resume from the last version
            [_event("ERROR", {"code": 410, "message": "too old"})],
        ],
    )  # fmt: skip
    heard: list[tuple[str, str]] = []
    store = Store()
    informer = Informer(
        server, "/trials", store, lambda e, d: heard.append((e, d["metadata"]["name"]))
    )  # type: ignore[arg-type]
    informer.start()
    assert server.done.wait(5)
    informer.stop()
    assert store.synced.is_set()
    assert _names(store) == ["c"]  # b and d vanished while the watch was broken
    assert heard == [("ADDED", "d"), ("DELETED", "a")]
    assert server.queries[1]["continue"] == "token"
    assert [q.get("resourceVersion") for q in server.queries if q.get("watch")] == [
        "5",
        "9",
        "9",
        "20",
    ]
    assert all(q["labelSelector"] == EXPERIMENT_LABEL for q in server.queries)


def test_a_pass_sees_its_own_writes_at_once() -> None:
    server = _Server(pages=[_page([], "1")] * 3, streams=[])
    owned = WatchedObjects(server, lambda kind, event, document: None)  # type: ignore[arg-type]
    created = _object("exp-0000", 2)
    owned.wrote("tuningtrials", "team", created)
    assert owned.cached("elsewhere", "tuningtrials", "exp-0000") is None  # not watched there
    unsettled, settled = owned.trials("team", "exp")
    assert [t["metadata"]["name"] for t in unsettled] == ["exp-0000"] and settled.size == 0
    assert owned.cached("team", "tuningtrials", "exp-0000") == unsettled[0]
    assert owned.jobs("team", "exp") == [] and owned.pods("team", "exp") == []
    owned.stop()


def test_the_experiment_is_read_from_the_api_server_only_until_a_watch_brings_it() -> None:
    server = _Server(pages=[_object("exp", 4, status={"phase": "Running"})], streams=[])
    owned = WatchedObjects(server, lambda kind, event, document: None)  # type: ignore[arg-type]

    def phase() -> str:
        found = owned.experiment("team", "exp")
        assert found is not None
        return str(found["status"]["phase"])

    assert phase() == "Running" and phase() == "Running"
    assert len(server.queries) == 1  # the second read came from memory
    owned.wrote("tuningexperiments", "team", _object("exp", 6, status={"phase": "Succeeded"}))
    owned.saw("team", _object("exp", 5, status={"phase": "Running"}))  # a late watch event
    assert phase() == "Succeeded" and len(server.queries) == 1
    owned.saw("team", _object("exp", 7), deleted=True)
    server.pages.append(_object("exp", 9, status={"phase": "Pending"}))  # re-created
    assert phase() == "Pending" and len(server.queries) == 2


class _JobSetsLater(_Server):
    """A server without the JobSet CRD at first (404), serving it on the next list."""

    def request(self, method: str, path: str, *, query: dict[str, str] | None = None) -> Document:
        if not self.queries:
            self.queries.append({"path": path})
            raise ApiException(status=404, reason="Not Found")
        return super().request(method, path, query=query)


def test_jobsets_are_watched_on_first_need_and_once_their_crd_is_served(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(informer_module, "ABSENT_KIND_RETRY_SECONDS", 0.5)
    server = _JobSetsLater(pages=[_page([_object("exp-0000", 3)], "3")], streams=[])
    owned = WatchedObjects(server, lambda kind, event, document: None)  # type: ignore[arg-type]
    assert owned.jobsets("team", "exp") == []  # no CRD: listed as empty, not waited on
    assert server.queries[0]["path"] == "/apis/jobset.x-k8s.io/v1alpha2/namespaces/team/jobsets"
    assert server.done.wait(5)  # listed again once served, then watching
    owned.stop()
    assert [js["metadata"]["name"] for js in owned.jobsets("team", "exp")] == ["exp-0000"]
