"""DefaultPreemption: candidate count, node choice, victims, PDBs and the end-to-end flow."""

from __future__ import annotations

import pytest
from builders import make_pod

from sim.engine import run
from sim.scenario import scenario_from_text
from sim.scheduler.nodetable import PodEntry
from sim.scheduler.preemption import Candidate, num_candidates, pick_one_node


@pytest.mark.parametrize(("nodes", "expected"), [(5, 5), (100, 100), (500, 100), (5000, 500)],
                         ids=["tiny", "hundred", "500", "5000"])
def test_num_candidates(nodes: int, expected: int) -> None:
    """min(N, max(10% of N, 100))."""
    assert num_candidates(nodes) == expected


def _victim(priority: int, start: float = 0.0) -> PodEntry:
    pod = make_pod(f"v{priority}-{start}").priority(priority).obj()
    pod.start_time = start
    return PodEntry(pod, 0, None, None, 0)  # type: ignore[arg-type]


@pytest.mark.parametrize(("candidates", "winner"), [
    ([Candidate(0, [_victim(1)], 1), Candidate(1, [_victim(5)], 0)], 1),                 # fewer PDB violations
    ([Candidate(0, [_victim(5)], 0), Candidate(1, [_victim(3), _victim(3)], 0)], 1),     # lower top priority
    ([Candidate(0, [_victim(3), _victim(2)], 0), Candidate(1, [_victim(3), _victim(1)], 0)], 1),  # smaller sum
    ([Candidate(0, [_victim(3), _victim(-5)], 0), Candidate(1, [_victim(3)], 0)], 1),   # an extra victim costs
                                                                                        # even at negative priority
    ([Candidate(0, [_victim(3, 10.0)], 0), Candidate(1, [_victim(3, 50.0)], 0)], 1),    # latest start
    ([Candidate(0, [_victim(3, 10.0)], 0), Candidate(1, [_victim(3, 10.0)], 0)], 0),    # first in list
], ids=["pdb", "highest-priority", "priority-sum", "negative-priorities", "start-time", "first"])
def test_pick_one_node_tie_breaks(candidates: list[Candidate], winner: int) -> None:
    """Upstream's successive criteria pick one candidate node."""
    assert pick_one_node(candidates).row == winner


BASE = """
name: preemption
duration: 2m
cluster:
  nodePools:
  - {name: w, count: %(nodes)d, capacity: {cpu: "1", memory: 4Gi}}
workloads:
- name: classes
  manifests:
  - {apiVersion: scheduling.k8s.io/v1, kind: PriorityClass, metadata: {name: high}, value: 1000}
  - {apiVersion: scheduling.k8s.io/v1, kind: PriorityClass, metadata: {name: never}, value: 1000,
     preemptionPolicy: Never}
- name: low
  at: 1s
  manifests:
%(low)s
- name: urgent
  at: 30s
  manifests:
  - apiVersion: v1
    kind: Pod
    metadata: {name: urgent}
    spec:
      priorityClassName: %(cls)s
      containers: [{name: c, image: "i:1", resources: {requests: {cpu: 600m}}}]
"""


def _low(name: str, cpu: str, priority: int = 0, app: str = "") -> str:
    labels = f", labels: {{app: {app}}}" if app else ""
    return (f"  - {{apiVersion: v1, kind: Pod, metadata: {{name: {name}{labels}}}, spec: {{priority: {priority}, "
            f"containers: [{{name: c, image: 'i:1', resources: {{requests: {{cpu: {cpu}}}}}}}]}}}}\n")


def _run(nodes: int, low: str, cls: str = "high"):  # type: ignore[no-untyped-def]
    return run(scenario_from_text(BASE % {"nodes": nodes, "low": low.rstrip("\n"), "cls": cls}))


def test_high_priority_pod_preempts_and_takes_the_node() -> None:
    """The low pod is preempted (gracefully deleted), the urgent pod is nominated, then bound there."""
    result = _run(1, _low("low", "600m"))
    pods = result.pods().set_index("name")
    df = result.to_frame()
    assert list(df.loc[df["event"] == "preempted", "name"].astype(str)) == ["low"]
    assert list(df.loc[df["event"] == "nominated", "name"].astype(str)) == ["urgent"]
    assert pods.loc["low", "terminating"] >= 30
    assert pods.loc["low", "deleted"] > pods.loc["low", "terminating"]
    assert pods.loc["urgent", "bound"] > pods.loc["low", "deleted"]
    assert pods.loc["urgent", "node"] == "w-0"


def test_preemption_policy_never_waits() -> None:
    """A pod with preemptionPolicy Never does not preempt; its message says why."""
    result = _run(1, _low("low", "600m"), cls="never")
    df = result.to_frame()
    messages = set(df.loc[df["event"] == "failedScheduling", "message"].astype(str))
    assert messages == {"0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to "
                        "preemptionPolicy=Never."}
    assert (df["event"] == "preempted").sum() == 0


def test_only_the_victims_needed_are_evicted() -> None:
    """Three low pods (300m each) on 1 cpu: making room for 600m needs just two, the least important."""
    low = _low("p1", "300m", 1) + _low("p2", "300m", 2) + _low("p3", "300m", 3)
    result = _run(1, low)
    df = result.to_frame()
    assert sorted(df.loc[df["event"] == "preempted", "name"].astype(str)) == ["p1", "p2"]


def test_pdb_protected_pod_is_spared_when_another_node_works() -> None:
    """Two nodes, each with a low pod; the one covered by a PodDisruptionBudget is not chosen."""
    low = _low("guarded", "600m", 0, "db") + _low("free", "600m", 0, "batch")
    pdb = ("  - {apiVersion: policy/v1, kind: PodDisruptionBudget, metadata: {name: db},"
           " spec: {minAvailable: 1, selector: {matchLabels: {app: db}}}}\n")
    result = _run(2, low + pdb)
    df = result.to_frame()
    assert list(df.loc[df["event"] == "preempted", "name"].astype(str)) == ["free"]


def test_equal_priority_pods_are_never_victims() -> None:
    """Preemption only evicts lower-priority pods: an equal-priority pod stays."""
    result = _run(1, _low("peer", "600m", 1000))
    df = result.to_frame()
    assert (df["event"] == "preempted").sum() == 0
    msg = str(df.loc[df["event"] == "failedScheduling", "message"].iloc[-1])
    assert msg.endswith("preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.")


def test_a_second_preemptor_respects_the_first_ones_nomination() -> None:
    """Two urgent pods arrive together on a node full of low pods: the second one's dry run
    counts the first one's nominated room (RunFilterPluginsWithNominatedPods), so it needs a
    second victim (p0, whose deletion is in flight, is picked again, as upstream does) and
    both are bound."""
    low = "".join(_low(f"p{i}", "250m", i) for i in range(4))
    text = BASE % {"nodes": 1, "low": low.rstrip("\n"), "cls": "high"}
    text += """  - apiVersion: v1
    kind: Pod
    metadata: {name: urgent-2}
    spec:
      priorityClassName: high
      containers: [{name: c, image: "i:1", resources: {requests: {cpu: 250m}}}]
"""
    result = run(scenario_from_text(text.replace("cpu: 600m", "cpu: 250m")))
    df = result.to_frame()
    assert sorted(set(df.loc[df["event"] == "preempted", "name"].astype(str))) == ["p0", "p1"]
    pods = result.pods().set_index("name")
    assert pods.loc[["urgent", "urgent-2"], "node"].tolist() == ["w-0", "w-0"]
