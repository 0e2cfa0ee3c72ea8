"""Taint eviction controller: which toleration decides, and when pods on a dead node go."""

from __future__ import annotations

import pytest

from sim.api.objects import Taint, Toleration
from sim.controllers.tainteviction import eviction_delay, min_toleration_seconds, no_execute_taints
from sim.engine import run
from sim.scenario import scenario_from_text

UNREACHABLE = Taint("node.kubernetes.io/unreachable", effect="NoExecute")
NOT_READY = Taint("node.kubernetes.io/not-ready", effect="NoExecute")
DEFAULT_UNREACHABLE = Toleration("node.kubernetes.io/unreachable", "Exists", effect="NoExecute",
                                 toleration_seconds=300)
DEFAULT_NOT_READY = Toleration("node.kubernetes.io/not-ready", "Exists", effect="NoExecute", toleration_seconds=300)


@pytest.mark.parametrize(("taints", "tolerations", "delay"), [
    ([UNREACHABLE], [DEFAULT_NOT_READY, DEFAULT_UNREACHABLE], 300.0),
    ([UNREACHABLE], [], 0.0),
    ([UNREACHABLE], [DEFAULT_NOT_READY], 0.0),
    ([UNREACHABLE], [Toleration("node.kubernetes.io/unreachable", "Exists", effect="NoExecute")], None),
    ([UNREACHABLE], [Toleration(operator="Exists")], None),
    ([UNREACHABLE, NOT_READY], [Toleration("node.kubernetes.io/not-ready", "Exists",
                                           effect="NoExecute", toleration_seconds=30),
                                DEFAULT_UNREACHABLE], 30.0),
    ([UNREACHABLE], [Toleration("node.kubernetes.io/unreachable", "Exists", effect="NoExecute",
                                toleration_seconds=30), DEFAULT_UNREACHABLE], 30.0),
    ([UNREACHABLE], [Toleration("node.kubernetes.io/unreachable", "Exists", effect="NoExecute",
                                toleration_seconds=-5)], 0.0),
], ids=["default-300", "no-toleration", "other-key-only", "forever", "tolerate-everything", "shortest-of-two-taints",
        "first-match-wins", "negative-is-now"])
def test_eviction_delay(taints: list[Taint], tolerations: list[Toleration], delay: float | None) -> None:
    """Each taint takes its first tolerating toleration; the shortest tolerationSeconds among them decides."""
    assert eviction_delay(taints, tolerations) == delay


def test_min_toleration_seconds_of_nothing_is_now() -> None:
    """getMinTolerationTime of no tolerations is 0 (evict at once), of unlimited ones None (never)."""
    assert min_toleration_seconds([]) == 0.0
    assert min_toleration_seconds([Toleration(operator="Exists")]) is None


def test_no_execute_taints_keep_only_that_effect() -> None:
    """Only NoExecute taints evict; NoSchedule ones only keep new pods away."""
    assert no_execute_taints([Taint("a"), UNREACHABLE, Taint("b", effect="PreferNoSchedule")]) == (UNREACHABLE,)


TOLERATIONS = """
name: tolerations
duration: 7m
cluster:
  nodePools:
  - {name: w, count: 3, capacity: {cpu: "8", memory: 16Gi}, zones: [a, b, c]}
workloads:
- name: pods
  manifests:
  - {apiVersion: v1, kind: Pod, metadata: {name: default-300}, spec: {nodeName: w-0, containers: [{name: c, image: x}]}}
  - apiVersion: v1
    kind: Pod
    metadata: {name: short-30}
    spec:
      nodeName: w-0
      containers: [{name: c, image: x}]
      tolerations: [{key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 30}]
  - apiVersion: v1
    kind: Pod
    metadata: {name: forever}
    spec:
      nodeName: w-0
      containers: [{name: c, image: x}]
      tolerations: [{key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute}]
timeline:
- {at: 30s, action: nodeCrash, nodes: [w-0]}
"""


def test_pods_on_a_dead_node_go_when_their_toleration_runs_out() -> None:
    """After the unreachable taint: default pods go 300 s later, 30 s ones 30 s later, unlimited ones never."""
    trace = run(scenario_from_text(TOLERATIONS)).trace
    tainted = next(e["t"] for e in trace.events()
                   if e["event"] == "tainted" and "unreachable:NoExecute" in e["message"])
    evicted = {e["name"]: e for e in trace.events() if e["event"] == "evicted"}
    assert set(evicted) == {"default-300", "short-30"}
    assert evicted["default-300"]["t"] == pytest.approx(tainted + 300, abs=0.05)
    assert evicted["short-30"]["t"] == pytest.approx(tainted + 30, abs=0.05)
    assert evicted["short-30"]["reason"] == "TaintManagerEviction"
    # the graceful delete leaves the pod Terminating: its kubelet is dead and cannot finish it
    terminating = {e["name"] for e in trace.events() if e["event"] == "terminating"}
    deleted = {e["name"] for e in trace.events() if e["event"] == "deleted" and e["kind"] == "Pod"}
    assert terminating == {"default-300", "short-30"}
    assert not deleted
