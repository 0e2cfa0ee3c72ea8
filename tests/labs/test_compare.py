"""`kubesim compare`: placements, named differences and the written outputs (made-up traces)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim.cli import main
from sim.trace import Trace

from labs.compare import compare, placement

MESSAGE = "0/2 nodes are available: 2 Insufficient cpu."


def _trace(source: str, placements: dict[str, str], startup: float, pulls: bool, **header: object) -> Trace:
    trace = Trace({"scenario": "t", "duration_s": 10.0, "source": source, **header})
    for node in ("n1", "n2", "n3"):
        trace.record(0.0, "Node", "", node, "created", node)
    for i, (pod, node) in enumerate(placements.items()):
        t = 1.0 + i * 0.1
        trace.record(t, "Pod", "default", pod, "created")
        if not node:
            trace.record(t + 0.01, "Pod", "default", pod, "failedScheduling", "", "FailedScheduling",
                         MESSAGE if source == "real" else MESSAGE.replace("2 Insufficient", "2 Too little"))
            continue
        trace.record(t + 0.01, "Pod", "default", pod, "scheduled", node)
        trace.record(t + 0.02, "Pod", "default", pod, "bound", node)
        if pulls:
            trace.record(t + 0.03, "Pod", "default", pod, "pulling", node)
            trace.record(t + 0.53, "Pod", "default", pod, "pulled", node)
        trace.record(t + startup + (0.5 if pulls else 0), "Pod", "default", pod, "started", node)
        trace.record(t + startup + 1.0, "Pod", "default", pod, "ready", node)
    return trace


def test_placement_figures() -> None:
    sim = _trace("kubesim", {"a": "n1", "b": "n2", "c": "n2", "d": ""}, 1.5, True)
    real = _trace("real", {"a": "n1", "b": "n3", "c": "n3", "d": ""}, 0.02, False, cluster="kwok")
    place = placement(sim, real)
    assert (place.compared, place.same_node) == (3, 1)
    assert place.moved[0] == ("default/b", "n2", "n3")
    assert place.pending_identical
    assert place.pending_sim == ["default/d"]
    assert place.sorted_counts == ([2, 1, 0], [2, 1, 0])
    assert place.counts_identical


def test_differences_are_named_with_reasons() -> None:
    sim = _trace("kubesim", {"a": "n1", "b": "n2", "c": "", "d": ""}, 1.5, True)
    real = _trace("real", {"a": "n1", "b": "n1", "c": "n2", "d": ""}, 0.02, False, cluster="kwok")
    result = compare(sim, real)
    text = "\n".join(result.differences)
    assert "real p50 startup 0.02 s vs sim 1.50 s: KWOK's fast stages" in text
    assert "the real run has no Pulling events (KWOK nodes have no kubelet)" in text
    assert "1 of 2 pods on a different node (e.g. default/b: sim n2, real n1)" in text
    assert "pending only in the sim: default/c" in text
    assert "FailedScheduling messages differ for 1 pod(s), e.g. default/d" in text
    assert "sorted per-node pod counts differ: sim [1, 1, 0] vs real [2, 1, 0]" in text


def test_cli_writes_table_json_and_plot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sim = _trace("kubesim", {"a": "n1", "b": "n2"}, 1.5, True)
    real = _trace("real", {"a": "n1", "b": "n2"}, 0.02, False, cluster="kwok", context="kwok-kubesim")
    sim.write_jsonl(tmp_path / "sim.jsonl")
    (tmp_path / "real").mkdir()
    real.write_jsonl(tmp_path / "real" / "trace.jsonl")
    out = tmp_path / "cmp"
    assert main(["compare", str(tmp_path / "sim.jsonl"), str(tmp_path / "real"), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "| Same node (pods bound in both) | 2 of 2 | 100% |" in printed
    assert sorted(p.name for p in out.iterdir()) == ["compare.json", "compare.md", "compare.png"]
    data = json.loads((out / "compare.json").read_text())
    assert data["placement"]["same_node"] == 2
    assert data["placement"]["counts_identical"]
    assert main(["compare", str(tmp_path / "missing"), str(tmp_path / "real")]) == 2


def test_deployment_pods_are_compared_by_deployment() -> None:
    """Random pod names of Deployments (sim and real hash templates differently) still compare."""
    from labs.compare import stable_name

    assert stable_name("default/model-server-6xlt2kh-zggq2") == "default/model-server-*"
    assert stable_name("default/model-server-59dc557b79-xgh2v") == "default/model-server-*"
    assert stable_name("default/p00-c") == "default/p00-c"
    sim = _trace("kubesim", {"gpu-6xlt2kh-zggq2": "", "gpu-6xlt2kh-v65bl": "", "a": "n1"}, 1.0, False)
    real = _trace("real", {"gpu-59dc557b79-xgh2v": "", "gpu-59dc557b79-jfhn4": "", "a": "n1"}, 1.0, False)
    place = placement(sim, real)
    assert place.pending_identical
    assert place.pending_sim == ["default/gpu-*", "default/gpu-*"]
