"""NodeResourcesFit: Filter reasons and the LeastAllocated / MostAllocated scores.

Cases follow pkg/scheduler/framework/plugins/noderesources/{fit,least_allocated,
most_allocated}.go and CALIBRATION.md 1.5. Scores are worked out by hand in integer
arithmetic: per resource ``(alloc - req) * 100 // alloc`` (LeastAllocated) or
``min(req, alloc) * 100 // alloc`` (MostAllocated), then ``sum(s*w) // sum(w)``, where req
includes the incoming pod and, for cpu/memory, uses the non-zero defaults (100m, 200Mi) for
containers that set no request.
"""

from __future__ import annotations

import numpy as np
import pytest
from builders import filter_reasons, make_node, make_pod, make_table, scores

from sim.scheduler.plugins.node_resources_fit import NodeResourcesFit, least_allocated, most_allocated

Mi = 1024 * 1024


def node(name: str, cpu: str | int = "4", memory: str | int = "8Gi", **extra: str | int):
    return make_node(name).capacity({"cpu": cpu, "memory": memory, **extra}).obj()


# ------------------------------------------------------------------ Filter

FILTER_CASES = [
    pytest.param([node("n1")], [], make_pod().req(cpu="1", memory="1Gi").obj(),
                 {"n1": []}, id="fits-empty-node"),
    # 4000m - 3500m = 500m free < 1000m requested
    pytest.param([node("n1")], [(make_pod("a").req(cpu="3500m").obj(), "n1")],
                 make_pod().req(cpu="1").obj(),
                 {"n1": ["Insufficient cpu"]}, id="insufficient-cpu"),
    # free exactly equals the request: 4000m - 3000m = 1000m >= 1000m
    pytest.param([node("n1")], [(make_pod("a").req(cpu="3").obj(), "n1")],
                 make_pod().req(cpu="1").obj(), {"n1": []}, id="exact-fit"),
    pytest.param([node("n1", memory="2Gi")], [], make_pod().req(cpu="1", memory="3Gi").obj(),
                 {"n1": ["Insufficient memory"]}, id="insufficient-memory"),
    pytest.param([node("n1", cpu="1", memory="1Gi")], [], make_pod().req(cpu="2", memory="2Gi").obj(),
                 {"n1": ["Insufficient cpu", "Insufficient memory"]}, id="both-reasons-on-one-node"),
    # the non-zero defaults are for scoring only: a best-effort pod fits a full node
    pytest.param([node("n1", cpu="1", memory="1Gi")], [(make_pod("a").req(cpu="1", memory="1Gi").obj(), "n1")],
                 make_pod().container().obj(), {"n1": []}, id="best-effort-fits-full-node"),
    # extended resources: a node without the resource has 0 of it
    pytest.param([node("cpu-0"), node("gpu-0", **{"nvidia.com/gpu": 4})], [],
                 make_pod().req({"nvidia.com/gpu": 1}, cpu="1").obj(),
                 {"cpu-0": ["Insufficient nvidia.com/gpu"], "gpu-0": []}, id="gpu-only-on-gpu-node"),
    # 4 GPUs, 3 used, 2 wanted
    pytest.param([node("gpu-0", **{"nvidia.com/gpu": 4})],
                 [(make_pod("a").req({"nvidia.com/gpu": 3}).obj(), "gpu-0")],
                 make_pod().req({"nvidia.com/gpu": 2}).obj(),
                 {"gpu-0": ["Insufficient nvidia.com/gpu"]}, id="gpu-exhausted"),
    # pods: 2 allowed, 2 present; applies even to a pod requesting nothing
    pytest.param([node("n1", pods=2)], [(make_pod("a").container().obj(), "n1"),
                                        (make_pod("b").container().obj(), "n1")],
                 make_pod().container().obj(), {"n1": ["Too many pods"]}, id="too-many-pods"),
    pytest.param([node("n1", pods=2)], [(make_pod("a").container().obj(), "n1")],
                 make_pod().container().obj(), {"n1": []}, id="last-pod-slot"),
    # explicit zero requests are not checked against a full node
    pytest.param([node("n1", cpu="1")], [(make_pod("a").req(cpu="1").obj(), "n1")],
                 make_pod().req(cpu="0", memory="0").obj(), {"n1": []}, id="explicit-zero-request"),
    # init containers: max(sum of containers, largest init) = max(500m, 2000m) = 2000m > 1000m
    pytest.param([node("n1", cpu="1")], [], make_pod().req(cpu="500m").init_req(cpu="2").obj(),
                 {"n1": ["Insufficient cpu"]}, id="init-container-dominates"),
]


@pytest.mark.parametrize(("nodes", "assigned", "pod", "want"), FILTER_CASES)
def test_filter(nodes, assigned, pod, want) -> None:
    """Each node passes or fails with upstream's exact reason texts."""
    table = make_table(nodes, assigned)
    got = filter_reasons(NodeResourcesFit(), table, pod)
    assert {k: sorted(v) for k, v in got.items()} == want


def test_filter_resource_no_node_offers() -> None:
    """A requested resource absent from every node fails everywhere as Insufficient <name>."""
    table = make_table([node("n1"), node("n2")])  # no column for example.com/foo
    got = filter_reasons(NodeResourcesFit(), table, make_pod().req({"example.com/foo": 1}).obj())
    assert got == {"n1": ["Insufficient example.com/foo"], "n2": ["Insufficient example.com/foo"]}


# ------------------------------------------------------------------ LeastAllocated

LEAST_CASES = [
    # node 4000m / 10000 B, pod 3000m / 5000 B:
    #   cpu (4000-3000)*100//4000 = 25, memory (10000-5000)*100//10000 = 50, (25+50)//2 = 37
    # node 6000m / 10000 B: cpu (6000-3000)*100//6000 = 50, memory 50 -> 50
    pytest.param([node("n1", "4", 10000), node("n2", "6", 10000)], [],
                 make_pod().req(cpu="3", memory=10000 // 2).obj(), {"n1": 37, "n2": 50}, id="upstream-example"),
    # requested includes pods already there: 3000m + 500m = 3500m -> 500*100//4000 = 12;
    #   memory 5000 + 2500 = 7500 -> 2500*100//10000 = 25; (12+25)//2 = 18
    pytest.param([node("n1", "4", 10000)], [(make_pod("a").req(cpu="3", memory=5000).obj(), "n1")],
                 make_pod().req(cpu="500m", memory=2500).obj(), {"n1": 18}, id="existing-pods-count"),
    # best-effort pod counts 100m / 200Mi: node 1000m / 1000Mi
    #   cpu (1000-100)*100//1000 = 90, memory (1000-200)Mi*100//1000Mi = 80, (90+80)//2 = 85
    pytest.param([node("n1", "1", "1000Mi")], [], make_pod().container().obj(), {"n1": 85},
                 id="non-zero-defaults"),
    # an explicit 0 stays 0: cpu 100, memory 100 -> 100
    pytest.param([node("n1", "1", "1000Mi")], [], make_pod().req(cpu="0", memory="0").obj(), {"n1": 100},
                 id="explicit-zero-stays-zero"),
    # defaults apply per missing resource: cpu 500m set, memory defaults to 200Mi
    #   cpu (1000-500)*100//1000 = 50, memory 80 -> (50+80)//2 = 65
    pytest.param([node("n1", "1", "1000Mi")], [], make_pod().req(cpu="500m").obj(), {"n1": 65},
                 id="default-only-for-missing-resource"),
    # and per container: (200m + 100m) = 300m, (100Mi + 200Mi) = 300Mi -> 70, 70 -> 70
    pytest.param([node("n1", "1", "1000Mi")], [], make_pod().req(cpu="200m", memory="100Mi").container().obj(),
                 {"n1": 70}, id="default-per-container"),
    # existing best-effort pod also counts 100m / 200Mi; incoming 100m / 200Mi explicit:
    #   cpu 200 -> 80, memory 400Mi -> 60, (80+60)//2 = 70
    pytest.param([node("n1", "1", "1000Mi")], [(make_pod("a").container().obj(), "n1")],
                 make_pod().req(cpu="100m", memory="200Mi").obj(), {"n1": 70}, id="existing-best-effort-counts"),
    # init container with defaults: cpu max(100, 800) = 800 -> 20; memory max(200Mi, 200Mi) -> 80; 50
    pytest.param([node("n1", "1", "1000Mi")], [], make_pod().container().init_req(cpu="800m").obj(),
                 {"n1": 50}, id="init-container-non-zero"),
    # over capacity scores 0 for that resource: 3000m + 2000m > 4000m -> 0; memory 5000 -> 50; 25
    pytest.param([node("n1", "4", 10000)], [(make_pod("a").req(cpu="3", memory=0).obj(), "n1")],
                 make_pod().req(cpu="2", memory=5000).obj(), {"n1": 25}, id="over-capacity-is-zero"),
]


@pytest.mark.parametrize(("nodes", "assigned", "pod", "want"), LEAST_CASES)
def test_least_allocated(nodes, assigned, pod, want) -> None:
    """LeastAllocated (default) favours free nodes, with non-zero request defaults."""
    assert scores(NodeResourcesFit(), make_table(nodes, assigned), pod) == want


def test_least_allocated_weights() -> None:
    """Resource weights: cpu 2, memory 1 -> (25*2 + 50*1) // 3 = 100 // 3 = 33."""
    plugin = NodeResourcesFit(resources={"cpu": 2, "memory": 1})
    table = make_table([node("n1", "4", 10000)])
    assert scores(plugin, table, make_pod().req(cpu="3", memory=5000).obj()) == {"n1": 33}


GPU_WEIGHTED = {"cpu": 1, "memory": 1, "nvidia.com/gpu": 2}


@pytest.mark.parametrize(("pod", "want"), [
    # gpu requested: 1 used + 2 = 3 of 4 -> (4-3)*100//4 = 25; cpu 50, memory 50
    #   gpu-0: (50 + 50 + 25*2) // 4 = 150 // 4 = 37; cpu-0 has no gpu -> left out: (50+50)//2 = 50
    pytest.param(make_pod().req({"nvidia.com/gpu": 2}, cpu="2", memory=5000).obj(), {"cpu-0": 50, "gpu-0": 37},
                 id="gpu-requested"),
    # gpu not requested: the extended resource is skipped -> (50+50)//2 = 50 on both
    #   (if counted it would be gpu (4-1)*100//4 = 75 -> (50+50+150)//4 = 62)
    pytest.param(make_pod().req(cpu="2", memory=5000).obj(), {"cpu-0": 50, "gpu-0": 50},
                 id="gpu-not-requested-skipped"),
])
def test_least_allocated_extended_resource(pod, want) -> None:
    """An extended resource is scored only when the pod requests it and the node has it."""
    nodes = [node("cpu-0", "4", 10000), node("gpu-0", "4", 10000, **{"nvidia.com/gpu": 4})]
    table = make_table(nodes, [(make_pod("a").req({"nvidia.com/gpu": 1}, cpu="0", memory=0).obj(), "gpu-0")])
    assert scores(NodeResourcesFit(resources=GPU_WEIGHTED), table, pod) == want


def test_least_allocated_ephemeral_storage_always_scored() -> None:
    """ephemeral-storage is not a scalar resource: scored even when the pod requests none."""
    plugin = NodeResourcesFit(resources={"cpu": 1, "ephemeral-storage": 1})
    # node 4000m / 1000 B storage; pod a uses 900 B storage (and counts 100m cpu by default);
    # incoming pod 2000m cpu, no storage:
    #   cpu (4000-100-2000)*100//4000 = 190000//4000 = 47; storage (1000-900)*100//1000 = 10
    #   -> (47+10)//2 = 28 (skipping storage as if it were an extended resource would give 47)
    table = make_table([node("n1", "4", "1Gi", **{"ephemeral-storage": 1000})],
                       [(make_pod("a").req({"ephemeral-storage": 900}).obj(), "n1")])
    assert scores(plugin, table, make_pod().req(cpu="2").obj()) == {"n1": 28}


# ------------------------------------------------------------------ MostAllocated

@pytest.mark.parametrize(("assigned", "pod", "want"), [
    # cpu 3000*100//4000 = 75, memory 5000*100//10000 = 50 -> 125 // 2 = 62
    pytest.param([], make_pod().req(cpu="3", memory=5000).obj(), 62, id="upstream-example"),
    # 3000m + 2000m = 5000m is clamped to 4000m -> 100; memory 50 -> 75
    pytest.param([(make_pod("a").req(cpu="3", memory=0).obj(), "n1")], make_pod().req(cpu="2", memory=5000).obj(), 75,
                 id="clamped-at-capacity"),
    # best-effort: 100m -> 100*100//4000 = 2; 200Mi > 10000 B -> clamped -> 100; 102 // 2 = 51
    pytest.param([], make_pod().container().obj(), 51, id="non-zero-defaults"),
])
def test_most_allocated(assigned, pod, want) -> None:
    """MostAllocated favours full nodes (bin packing), clamping requests at capacity."""
    plugin = NodeResourcesFit(strategy="MostAllocated")
    assert scores(plugin, make_table([node("n1", "4", 10000)], assigned), pod) == {"n1": want}


@pytest.mark.parametrize(("fn", "requested", "alloc", "want"), [
    pytest.param(least_allocated, 0, 0, 0, id="least-zero-capacity"),
    pytest.param(least_allocated, 5, 4, 0, id="least-over-capacity"),
    pytest.param(least_allocated, 1, 3, 66, id="least-truncates"),  # 2*100//3 = 66
    pytest.param(most_allocated, 0, 0, 0, id="most-zero-capacity"),
    pytest.param(most_allocated, 1, 3, 33, id="most-truncates"),  # 1*100//3 = 33
])
def test_per_resource_scorers(fn, requested, alloc, want) -> None:
    """The per-resource scorers use integer division and guard zero capacity."""
    assert int(fn(np.array([requested]), np.array([alloc]))[0]) == want
