"""Trace recording from watch events: a capture of a real replay, and hand-made edge cases.

``data/watch-capture.jsonl`` holds the raw pod, event and node watch updates (with their
receive times) of ``kubesim replay`` on the kwok-kubesim control plane: pod ``web`` is
created, scheduled, running and deleted at 3 s; pod ``huge`` never fits (two
FailedScheduling events, before and after the deletion).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from sim.metrics import trace_metrics
from sim.trace import Trace

from labs.recorder import Recorder

CAPTURE = Path(__file__).parent / "data" / "watch-capture.jsonl"


def _replay_capture(order: list[dict[str, Any]] | None = None) -> Trace:
    items = order if order is not None else [json.loads(line) for line in CAPTURE.open()]
    namespace = next(i["object"]["metadata"]["namespace"] for i in items if i["stream"] == "pod")
    trace = Trace({"scenario": "capture", "source": "real"})
    recorder = Recorder(trace, {namespace: "default"})
    for item in items:
        getattr(recorder, item["stream"])(item["t"], item["type"], item["object"])
    return trace


def test_capture_gives_the_simulators_lifecycle_events() -> None:
    """Every lifecycle step of the captured pods becomes the simulator's event, once."""
    trace = _replay_capture()
    pods = trace.pods_frame().set_index("name")
    web = pods.loc["web"]
    assert web["node"] == "small-0"
    assert web["created"] <= web["scheduled"] <= web["bound"] <= web["started"] <= web["ready"]
    assert web["terminating"] < web["deleted"]
    assert math.isnan(web["pulling"])  # kwok: no kubelet, no image pull events
    huge = pods.loc["huge"]
    assert math.isnan(huge["bound"])
    assert huge["attempts"] == 2
    names = [(r["name"], r["event"]) for r in trace.events() if r["kind"] == "Pod"]
    assert len(names) == len(set(names)) + 1  # only failedScheduling repeats
    metrics = trace_metrics(trace)
    assert metrics["pods_created"] == 2
    assert metrics["pods_ready"] == 1
    assert metrics["pods_pending_at_end"] == 1


def test_failed_scheduling_keeps_the_schedulers_message_and_timestamp() -> None:
    """The FailedScheduling message is kube-scheduler's, verbatim; eventTime goes to ``upstream``."""
    trace = _replay_capture()
    failed = [r for r in trace.events() if r["event"] == "failedScheduling"]
    assert failed[0]["message"].startswith("0/2 nodes are available: 2 Insufficient cpu.")
    assert failed[0]["reason"] == "FailedScheduling"
    assert failed[0]["upstream"].endswith("Z")
    assert "." in failed[0]["upstream"]


def test_namespace_is_recorded_as_the_scenarios(tmp_path: Path) -> None:
    """Pods are recorded under the scenario's namespace, and upstream times survive JSON lines."""
    trace = _replay_capture()
    assert {r["namespace"] for r in trace.events() if r["kind"] == "Pod"} == {"default"}
    path = tmp_path / "trace.jsonl"
    trace.write_jsonl(path)
    back = Trace.read_jsonl(path)
    assert list(back.events()) == list(trace.events())
    assert any("upstream" in r for r in back.events())


def test_relist_records_nothing_twice() -> None:
    """A watch that lists again (after 410 Gone) re-sends objects; nothing is recorded again."""
    items = [json.loads(line) for line in CAPTURE.open()]
    once = _replay_capture(items)
    again = _replay_capture(items + [dict(i, t=i["t"] + 10) for i in items if i["type"] != "DELETED"])
    pod_events = lambda t: [(r["name"], r["event"]) for r in t.events() if r["kind"] == "Pod"]  # noqa: E731
    assert pod_events(again) == pod_events(once)


def _pod(name: str, uid: str, **status: Any) -> dict[str, Any]:
    meta = {"name": name, "namespace": "ns", "uid": uid, "creationTimestamp": "2026-01-01T00:00:00Z"}
    return {"metadata": meta, "spec": {"containers": [{"name": "a"}, {"name": "b"}], **status.pop("spec", {})},
            "status": status}


def test_started_needs_every_container_running() -> None:
    """``started`` is the SLI's point: all containers running, with the latest startedAt upstream."""
    trace = Trace()
    rec = Recorder(trace)
    one = [{"name": "a", "state": {"running": {"startedAt": "2026-01-01T00:00:01Z"}}},
           {"name": "b", "state": {"waiting": {"reason": "ContainerCreating"}}}]
    rec.pod(1.0, "ADDED", _pod("p", "u1", spec={"nodeName": "n1"}, containerStatuses=one))
    assert "started" not in rec.pod_states()[("ns", "p")]
    both = [one[0], {"name": "b", "state": {"running": {"startedAt": "2026-01-01T00:00:02Z"}}}]
    rec.pod(2.0, "MODIFIED", _pod("p", "u1", spec={"nodeName": "n1"}, containerStatuses=both))
    started = [r for r in trace.events() if r["event"] == "started"]
    assert len(started) == 1
    assert started[0]["t"] == 2.0
    assert started[0]["upstream"] == "2026-01-01T00:00:02Z"
    assert started[0]["node"] == "n1"


def test_a_new_pod_with_the_same_name_starts_over() -> None:
    """A pod deleted and created again under the same name (new uid) is recorded afresh."""
    trace = Trace()
    rec = Recorder(trace)
    rec.pod(1.0, "ADDED", _pod("p", "u1"))
    rec.pod(2.0, "DELETED", _pod("p", "u1"))
    rec.pod(3.0, "ADDED", _pod("p", "u2"))
    assert [(r["t"], r["event"]) for r in trace.events()] == [(1.0, "created"), (2.0, "deleted"), (3.0, "created")]


def test_event_before_pod_update_and_event_series() -> None:
    """Events may arrive before the pod update they describe; series counts add attempts."""
    trace = Trace()
    rec = Recorder(trace)
    involved = {"kind": "Pod", "namespace": "ns", "name": "p", "uid": "u1"}
    event = {"metadata": {"uid": "e1"}, "involvedObject": involved, "reason": "FailedScheduling",
             "message": "0/1 nodes are available: 1 Insufficient cpu.", "eventTime": "2026-01-01T00:00:01.5Z"}
    rec.event(0.5, "ADDED", event)
    rec.pod(0.6, "ADDED", _pod("p", "u1"))
    rec.event(0.7, "MODIFIED", event)  # no new occurrence
    rec.event(5.0, "MODIFIED", {**event, "series": {"count": 2, "lastObservedTime": "2026-01-01T00:00:05.5Z"}})
    got = [(r["t"], r["event"], r.get("upstream")) for r in trace.events()]
    assert got == [(0.5, "created", "2026-01-01T00:00:00Z"), (0.5, "failedScheduling", "2026-01-01T00:00:01.5Z"),
                   (5.0, "failedScheduling", "2026-01-01T00:00:05.5Z")]


def test_kubelet_pull_events_and_times_before_start() -> None:
    """Pulling/Pulled Events (kind clusters) become pulling/pulled; times before t0 become 0."""
    trace = Trace()
    rec = Recorder(trace)
    involved = {"kind": "Pod", "namespace": "ns", "name": "p", "uid": "u1"}
    rec.pod(-0.2, "ADDED", _pod("p", "u1", spec={"nodeName": "n1"}))
    for i, reason in enumerate(("Pulling", "Pulled")):
        rec.event(1.0 + i, "ADDED", {"metadata": {"uid": f"e{i}"}, "involvedObject": involved, "reason": reason,
                                     "message": "image", "lastTimestamp": f"2026-01-01T00:00:0{i}Z"})
    got = [(r["t"], r["event"]) for r in trace.events()]
    assert got == [(0.0, "created"), (0.0, "scheduled"), (0.0, "bound"), (1.0, "pulling"), (2.0, "pulled")]
