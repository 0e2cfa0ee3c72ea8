"""Trace: JSON-lines round trip, frames and derived pod counts."""

from __future__ import annotations

import json
import math
from pathlib import Path

from sim.metrics import pod_state_series
from sim.trace import Trace


def _small_trace() -> Trace:
    trace = Trace({"scenario": "t", "duration_s": 10.0})
    trace.record(0.5, "Pod", "default", "a", "created")
    trace.record(1.0, "Pod", "default", "a", "bound", "n1", "Scheduled", "Successfully assigned")
    trace.record(2.0, "Pod", "default", "a", "started", "n1")
    trace.record(3.0, "Pod", "default", "a", "ready", "n1")
    trace.record(1.5, "Pod", "default", "b", "created")
    trace.record(1.6, "Pod", "default", "b", "failedScheduling", "", "FailedScheduling", "0/1 nodes")
    trace.record(8.0, "Pod", "default", "a", "deleted", "n1")
    trace.sample("apiserver_inflight", 0.0, 1.0)
    trace.sample("etcd_commit_p99_s", 0.0, math.nan)
    return trace


def test_jsonl_round_trip_keeps_events_and_series(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Writing and reading back gives the same events, series and header."""
    trace = _small_trace()
    path = tmp_path / "trace.jsonl"
    trace.write_jsonl(path)
    back = Trace.read_jsonl(path)
    assert list(back.events()) == list(trace.events())
    assert back.header["scenario"] == "t"
    t, v = back.series_array("etcd_commit_p99_s")
    assert list(t) == [0.0]
    assert math.isnan(v[0])
    path2 = tmp_path / "again.jsonl"
    back.write_jsonl(path2)
    assert path.read_bytes() == path2.read_bytes()


def test_event_lines_are_what_json_dumps_writes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Each event line is ``json.dumps`` of the record (empty optional fields left out): quotes,
    non-ASCII text, a real trace's upstream timestamps, whole-number and tiny times."""
    trace = Trace({"scenario": "t"})
    trace.record(0.0, "Pod", "", "a", "created")
    trace.record(1e-07, "Pod", "ns", 'quote"d', "bound", "n1", "Scheduled", "über \\ tab\t")
    trace.record(12345.678901234, "Node", "", "n1", "ready", "", "", "", upstream="2026-12-07T05:00:00Z")
    trace.record(3.0, "Pod", "ns", "b", "failedScheduling", "", "FailedScheduling", "0/1 nodes")
    path = tmp_path / "trace.jsonl"
    trace.write_jsonl(path)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    written = path.read_text().splitlines()[1:]
    expected = []
    for rec in trace.events():
        rec = {k: v for k, v in rec.items() if v != "" or k in ("t", "kind", "name", "event")}
        expected.append(json.dumps({"type": "event", **rec}))
    assert written == expected
    assert lines[3]["upstream"] == "2026-12-07T05:00:00Z"
    assert "namespace" not in lines[1]


def test_records_read_back_in_order_across_the_encoding_chunks() -> None:
    """Records wait and are encoded a chunk at a time: reads between, at and across chunk
    boundaries see every record once, in order, with its upstream timestamp in place, and the
    strings are coded in the order coding each record as it came would give."""
    import random

    from sim import trace as trace_module

    rng = random.Random(7)
    trace = Trace()
    expected: list[dict[str, object]] = []
    total = 2 * trace_module._SETTLE_EVERY + 123
    for i in range(total):
        rec = {"t": i / 10, "kind": rng.choice(["Pod", "Node"]), "namespace": rng.choice(["", "a", "b"]),
               "name": f"p{rng.randrange(500)}", "event": rng.choice(["created", "bound", "ready"]),
               "node": rng.choice(["", "n1", "n2"]), "reason": "", "message": f"m{i}" if i % 3 else ""}
        upstream = f"2026-12-07T00:00:{i % 60:02d}Z" if i % 1000 == 0 else ""
        trace.record(*rec.values(), upstream=upstream)  # type: ignore[arg-type]
        if upstream:
            rec["upstream"] = upstream
        expected.append(rec)
        if i in (0, 10, trace_module._SETTLE_EVERY - 1, trace_module._SETTLE_EVERY + 5):
            assert len(trace) == i + 1
            assert list(trace.events()) == expected
    assert len(trace) == total
    assert list(trace.events()) == expected
    frame = trace.to_frame()
    assert list(frame["message"].astype(str)) == [r["message"] for r in expected]
    # the strings are coded (the frame's categories ordered) by first appearance, record by record
    fields = ("kind", "namespace", "name", "event", "node", "reason", "message")
    assert list(frame["kind"].cat.categories) == list(dict.fromkeys(["", *(r[f] for r in expected for f in fields)]))


def test_pods_frame_has_one_row_per_pod() -> None:
    """Each pod's first time per lifecycle event, its node and failed attempts."""
    pods = _small_trace().pods_frame().set_index("name")
    assert list(pods.index) == ["a", "b"]
    assert pods.loc["a", "node"] == "n1"
    assert pods.loc["a", "ready"] == 3.0
    assert pods.loc["b", "attempts"] == 1
    assert pods.loc["b", "node"] == ""


def test_pod_state_series_counts_pending_running_ready() -> None:
    """a: pending 0.5-1, running/ready until 8; b: pending from 1.5 on."""
    series = pod_state_series(_small_trace())
    t, v = series["pending"]
    assert list(zip(t, v, strict=True)) == [(0.5, 1), (1.0, 0), (1.5, 1)]
    t, v = series["ready"]
    assert list(zip(t, v, strict=True)) == [(3.0, 1), (8.0, 0)]


def test_ready_series_follows_not_ready_and_ready_again() -> None:
    """A pod marked NotReady (its node went Unknown) stops counting until it is Ready again."""
    trace = Trace()
    for t, name, event in [(1.0, "a", "ready"), (2.0, "b", "ready"), (5.0, "a", "notReady"), (6.0, "a", "ready"),
                           (7.0, "b", "notReady"), (9.0, "b", "terminating"), (9.5, "b", "deleted"),
                           (8.0, "c", "ready"), (8.0, "a", "ready")]:
        trace.record(t, "Pod", "default", name, event, "n1")
    t, v = pod_state_series(trace)["ready"]
    assert list(zip(t, v, strict=True)) == [(1.0, 1), (2.0, 2), (5.0, 1), (6.0, 2), (7.0, 1), (8.0, 2)]


def test_a_matrix_grows_when_a_node_joins(tmp_path: Path) -> None:
    """Columns that appear later (a node added by the autoscaler) are appended; the rows
    before are NaN there, so the matrix stays rectangular on disk and in the allocation plot."""
    import numpy as np

    from sim.plots import allocation_figure

    trace = Trace({"scenario": "m"})
    first = ["a-0", "b-0"]
    trace.sample_row("node_cpu_allocation", first, 0.0, np.array([0.5, 0.25]))
    trace.sample_row("node_cpu_allocation", first, 1.0, np.array([0.5, 0.5]))
    later = ["a-0", "a-1", "b-0"]  # sorted by name: the new node sits in the middle
    trace.sample_row("node_cpu_allocation", later, 2.0, np.array([0.75, 0.1, 0.5]))
    m = trace.matrices["node_cpu_allocation"]
    assert m.columns == ["a-0", "b-0", "a-1"]
    assert np.allclose(np.array(m.rows), [[0.5, 0.25, np.nan], [0.5, 0.5, np.nan], [0.75, 0.5, 0.1]], equal_nan=True)
    trace.write_jsonl(tmp_path / "t.jsonl")
    back = Trace.read_jsonl(tmp_path / "t.jsonl").matrices["node_cpu_allocation"]
    assert back.columns == m.columns
    assert np.allclose(np.array(back.rows), np.array(m.rows), equal_nan=True)
    assert allocation_figure(trace) is not None


def test_a_matrix_grows_by_several_nodes_at_once() -> None:
    import numpy as np

    trace = Trace({"scenario": "m"})
    trace.sample_row("x", ["n-0"], 0.0, np.array([0.1]))
    trace.sample_row("x", ["n-0", "n-1", "n-2"], 1.0, np.array([0.2, 0.3, 0.4]))
    m = trace.matrices["x"]
    assert m.columns == ["n-0", "n-1", "n-2"]
    assert np.allclose(np.array(m.rows), [[0.1, np.nan, np.nan], [0.2, 0.3, 0.4]], equal_nan=True)
