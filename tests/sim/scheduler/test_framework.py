"""The scheduling cycle: how many nodes to find, round robin, FitError text, weights, ties.

Follows pkg/scheduler/schedule_one.go (numFeasibleNodesToFind, findNodesThatPassFilters,
selectHost) and framework/types.go (FitError.Error), as summarised in CALIBRATION.md
1.2-1.4.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from builders import make_node, make_pod, make_table, pod_info

from sim.scheduler.framework import Profile, fit_error_message, num_feasible_nodes_to_find, schedule_pod
from sim.scheduler.plugins.registry import default_profile
from sim.scheduler.plugins.taint_toleration import TaintToleration

ZONE = "topology.kubernetes.io/zone"


# ------------------------------------------------------------------ numFeasibleNodesToFind

@pytest.mark.parametrize(("nodes", "percentage", "want"), [
    pytest.param(50, 0, 50, id="50-below-minimum"),
    pytest.param(99, 0, 99, id="99-below-minimum"),
    pytest.param(100, 0, 100, id="100"),  # pct 50 - 100//125 = 50 -> 50, raised to 100
    pytest.param(200, 0, 100, id="200"),  # pct 50 - 1 = 49 -> 200*49//100 = 98, raised to 100
    pytest.param(500, 0, 230, id="500"),  # pct 50 - 4 = 46 -> 230
    pytest.param(1000, 0, 420, id="1000"),  # pct 50 - 8 = 42 -> 420
    pytest.param(2000, 0, 680, id="2000"),  # pct 50 - 16 = 34 -> 680
    pytest.param(5000, 0, 500, id="5000"),  # pct 50 - 40 = 10 -> 500
    pytest.param(6000, 0, 300, id="6000"),  # pct 50 - 48 = 2 -> raised to 5 -> 300
    pytest.param(6250, 0, 312, id="6250"),  # pct 50 - 50 = 0 -> 5 -> 6250*5//100 = 312
    pytest.param(15000, 0, 750, id="15000"),  # pct negative -> 5 -> 750
    pytest.param(1000, 50, 500, id="explicit-50pct"),
    pytest.param(1000, 5, 100, id="explicit-raised-to-100"),  # 50 -> 100
    pytest.param(50, 10, 50, id="explicit-ignored-below-100-nodes"),
])
def test_num_feasible_nodes_to_find(nodes, percentage, want) -> None:
    """Adaptive percentageOfNodesToScore matches upstream's worked values."""
    assert num_feasible_nodes_to_find(nodes, percentage) == want


# ------------------------------------------------------------------ FitError

@pytest.mark.parametrize(("reasons", "want"), [
    pytest.param({"Insufficient cpu": 3}, "0/3 nodes are available: 3 Insufficient cpu.", id="one-reason"),
    # "count reason" strings sorted as strings (Go sort.Strings): "1 n..." < "10 I..." < "2 I..."
    pytest.param({"Insufficient memory": 2, "Insufficient cpu": 10,
                  "node(s) had untolerated taint {a: b}": 1},
                 "0/3 nodes are available: 1 node(s) had untolerated taint {a: b}, 10 Insufficient cpu, "
                 "2 Insufficient memory.", id="lexicographic-not-numeric"),
])
def test_fit_error_message(reasons, want) -> None:
    """The histogram is "count reason" pairs sorted as strings, then a full stop."""
    assert fit_error_message(3, reasons) == want


def test_fit_error_counts_first_failing_filter_per_node() -> None:
    """Each node is counted under the first filter it fails; one filter may give several reasons."""
    gpu = ("nvidia.com/gpu", "present", "NoSchedule")
    nodes = [
        make_node("cordoned").capacity(cpu="8", memory="8Gi").label(ZONE, "a").taint(*gpu).unschedulable().obj(),
        make_node("gpu-0").capacity(cpu="8", memory="8Gi").taint(*gpu).obj(),
        make_node("gpu-1").capacity(cpu="8", memory="8Gi").taint(*gpu).obj(),
        make_node("zone-b").capacity(cpu="8", memory="8Gi").label(ZONE, "b").obj(),
        make_node("small-0").capacity(cpu="1", memory="1Gi").label(ZONE, "a").obj(),
        make_node("small-1").capacity(cpu="1", memory="1Gi").label(ZONE, "a").obj(),
    ]
    table = make_table(nodes)
    pod = make_pod().req(cpu="2", memory="2Gi").node_selector({ZONE: "a"}).obj()
    result = schedule_pod(default_profile(), pod_info(table, pod), table, 0, np.random.default_rng(0))
    assert result.node_row == -1
    assert result.message == (
        "0/6 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, "
        "1 node(s) were unschedulable, 2 Insufficient cpu, 2 Insufficient memory, "
        "2 node(s) had untolerated taint {nvidia.com/gpu: present}.")


# ------------------------------------------------------------------ round robin

def identical(n: int, tainted: range = range(0)):
    nodes = []
    for i in range(n):
        wrapper = make_node(f"n{i:03d}").capacity(cpu="4", memory="8Gi")
        if i in tainted:
            wrapper.taint("dedicated", "x", "NoSchedule")
        nodes.append(wrapper.obj())
    return make_table(nodes)


@pytest.mark.parametrize(("start", "tainted", "first", "evaluated", "feasible"), [
    # 200 nodes -> look for 100 feasible; start 0: rows 0..99
    pytest.param(0, range(0), 0, 100, 100, id="from-zero"),
    # start 150 wraps: rows 150..199 then 0..49
    pytest.param(150, range(0), 150, 100, 100, id="wraps-around"),
    # rows 0..9 rejected: 100 feasible are rows 10..109; processed = 100 feasible + 10 rejected
    pytest.param(0, range(10), 10, 110, 100, id="rejected-nodes-count-as-processed"),
    # only 50 feasible: every node is processed, all 50 are scored
    pytest.param(0, range(150), 150, 200, 50, id="fewer-feasible-than-wanted"),
])
def test_round_robin_start_index(start, tainted, first, evaluated, feasible) -> None:
    """Filtering starts at the round-robin index and stops after numFeasibleNodesToFind."""
    table = identical(200, tainted)
    pod = make_pod().req(cpu="1").obj()
    result = schedule_pod(default_profile(), pod_info(table, pod), table, start, np.random.default_rng(0))
    assert result.evaluated == evaluated
    assert result.feasible == feasible
    assert int(result.candidates[0]) == first
    assert len(set(result.candidates.tolist())) == feasible


def test_no_score_plugins_takes_first_feasible() -> None:
    """With no score plugins the cycle stops at the first feasible node from the start index."""
    table = identical(10, tainted=range(3, 5))
    profile = Profile("filter-only", filters=[TaintToleration()], scores=[])
    result = schedule_pod(profile, pod_info(table, make_pod().obj()), table, 3, np.random.default_rng(0))
    assert table.names[result.node_row] == "n005"
    assert result.evaluated == 3  # n003, n004 rejected, n005 accepted


def test_single_feasible_node_is_not_scored() -> None:
    """If exactly one node passes the filters it is chosen without running Score."""
    table = identical(5, tainted=range(4))
    pod = make_pod().obj()
    result = schedule_pod(default_profile(), pod_info(table, pod), table, 0, np.random.default_rng(0), explain=True)
    assert table.names[result.node_row] == "n004"
    assert result.feasible == 1
    assert result.scores is None


# ------------------------------------------------------------------ weights and ties

def test_weighted_sum_of_default_plugins() -> None:
    """Total = 3*TaintToleration + 2*NodeAffinity + 1*NodeResourcesFit + 1*BalancedAllocation."""
    table = make_table([
        make_node("a").capacity(cpu="4", memory="8Gi").label(ZONE, "a").taint("t", "", "PreferNoSchedule").obj(),
        make_node("b").capacity(cpu="4", memory="8Gi").label(ZONE, "b").obj(),
    ])
    pod = make_pod().req(cpu="2", memory="4Gi").preferred_term(10, (ZONE, "In", ["a"])).obj()
    result = schedule_pod(default_profile(), pod_info(table, pod), table, 0, np.random.default_rng(0), explain=True)
    # TaintToleration: counts a 1, b 0 -> a 0, b 100; x3 -> 0, 300
    # NodeAffinity: a 10 -> 100, b 0; x2 -> 200, 0
    # NodeResourcesFit: cpu (4000-2000)*100//4000 = 50, memory (8Gi-4Gi)*100//8Gi = 50 -> 50; x1
    # BalancedAllocation (1.36): 0.5, 0.5 -> 100 with the pod, 100 empty -> 50 + (50 + 0) // 2 = 75; x1
    # PodTopologySpread, InterPodAffinity, ImageLocality: nothing to score for a bare pod
    # a: 0 + 200 + 50 + 75 = 325; b: 300 + 0 + 50 + 75 = 425
    order = [table.names[r] for r in result.candidates]
    totals = dict(zip(order, result.scores["total"].tolist(), strict=True))
    assert totals == {"a": 325, "b": 425}
    assert table.names[result.node_row] == "b"


def test_ties_broken_uniformly_at_random() -> None:
    """Among nodes sharing the top score each is picked about equally often."""
    table = make_table([make_node(f"n{i}").capacity(cpu="4", memory="8Gi").obj() for i in range(4)]
                       + [make_node("worse").capacity(cpu="4", memory="8Gi").taint("t", "", "PreferNoSchedule").obj()])
    info = pod_info(table, make_pod().req(cpu="1", memory="1Gi").obj())
    rng = np.random.default_rng(12345)
    draws = 4000
    picks = Counter(table.names[schedule_pod(default_profile(), info, table, 0, rng).node_row] for _ in range(draws))
    assert "worse" not in picks
    assert sorted(picks) == ["n0", "n1", "n2", "n3"]
    # Binomial(4000, 1/4): mean 1000, sd 27; 6 sd either side
    assert all(840 <= count <= 1160 for count in picks.values()), picks


def test_unique_best_always_wins() -> None:
    """A node with a strictly higher total is always chosen, whatever the random stream."""
    table = make_table([make_node("busy").capacity(cpu="4", memory="8Gi").obj(),
                        make_node("idle").capacity(cpu="4", memory="8Gi").obj()],
                       assigned=[(make_pod("a").req(cpu="3", memory="6Gi").obj(), "busy")])
    info = pod_info(table, make_pod().req(cpu="500m", memory="1Gi").obj())
    rng = np.random.default_rng(7)
    assert {table.names[schedule_pod(default_profile(), info, table, 0, rng).node_row] for _ in range(50)} == {"idle"}
