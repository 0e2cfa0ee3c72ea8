"""NodeResourcesBalancedAllocation (1.36): score = 50 + (50 + balance with pod - balance without) // 2,
where balance = int((1 - std of requested fractions) * 100).

Cases follow pkg/scheduler/framework/plugins/noderesources/balanced_allocation.go and
CALIBRATION.md 1.6: fractions use actual requests (no non-zero defaults) including the
incoming pod, capped at 1; two resources give std = |f1 - f2| / 2; best-effort pods are
skipped at PreScore (score 0 everywhere); an extended resource the pod does not request,
or a node does not have, is left out.
"""

from __future__ import annotations

import pytest
from builders import make_node, make_pod, make_table, scores

from sim.scheduler.plugins.balanced_allocation import BalancedAllocation

GPU = "nvidia.com/gpu"


def node(name: str, cpu: str | int = "4", memory: str | int = 10000, **extra: str | int):
    return make_node(name).capacity({"cpu": cpu, "memory": memory, **extra}).obj()


@pytest.mark.parametrize(("nodes", "assigned", "pod", "want"), [
    # with the pod: cpu 3000/4000 = 0.75, memory 0.5: std 0.125 -> 87; empty node: 100
    #   -> 50 + (50 + 87 - 100) // 2 = 68; n2: 0.5, 0.5 -> 100 vs 100 -> 75
    pytest.param([node("n1", "4"), node("n2", "6")], [], make_pod().req(cpu="3", memory=5000).obj(),
                 {"n1": 68, "n2": 75}, id="upstream-example"),
    # without: 1000/4000 = 0.25, 2000/10000 = 0.2 -> std 0.025 -> 97; with: 0.5, 0.5 -> 100
    #   -> 50 + (50 + 100 - 97) // 2 = 76
    pytest.param([node("n1")], [(make_pod("a").req(cpu="1", memory=2000).obj(), "n1")],
                 make_pod().req(cpu="1", memory=3000).obj(), {"n1": 76}, id="existing-pods-count"),
    # with: 5000m/4000m capped to 1, memory 0.5: std 0.25 -> 75; without: 0.75, 0 -> std 0.375 -> 62
    #   -> 50 + (50 + 75 - 62) // 2 = 81
    pytest.param([node("n1")], [(make_pod("a").req(cpu="3", memory=0).obj(), "n1")],
                 make_pod().req(cpu="2", memory=5000).obj(), {"n1": 81}, id="fraction-capped-at-one"),
    # actual requests, not the 200Mi default: cpu 0.5, memory 0: std 0.25 -> 75 vs 100 empty
    #   -> 50 + (50 + 75 - 100) // 2 = 62 (with the default: 0.0488 -> std 0.2256 -> 77 -> 63)
    pytest.param([node("n1", "4", "4Gi")], [], make_pod().req(cpu="2").obj(), {"n1": 62},
                 id="no-non-zero-defaults"),
    # best-effort pod: PreScore Skip -> 0 on every node whatever their load
    pytest.param([node("n1"), node("n2")], [(make_pod("a").req(cpu="3", memory=1000).obj(), "n1")],
                 make_pod().container().obj(), {"n1": 0, "n2": 0}, id="best-effort-skipped"),
    # explicit zero requests are best-effort for this plugin too
    pytest.param([node("n1")], [], make_pod().req(cpu="0", memory="0").obj(), {"n1": 0},
                 id="explicit-zero-skipped"),
])
def test_balanced_allocation(nodes, assigned, pod, want) -> None:
    """Balanced nodes score high; best-effort pods are not scored."""
    assert scores(BalancedAllocation(), make_table(nodes, assigned), pod) == want


WITH_GPU = BalancedAllocation(resources=("cpu", "memory", GPU))


@pytest.mark.parametrize(("pod", "want"), [
    # fractions 0.5, 0.5, 1.0: mean 2/3, variance ((1/6)^2 * 2 + (1/3)^2) / 3 = (6/36) / 3 = 1/18,
    # std = 0.2357 -> 76 vs 100 empty -> 50 + (50 + 76 - 100) // 2 = 63; cpu-0 has no GPU ->
    #   0.5, 0.5 -> 100 vs 100 -> 75
    pytest.param(make_pod().req({GPU: 4}, cpu="2", memory=5000).obj(), {"cpu-0": 75, "gpu-0": 63},
                 id="three-resources"),
    # GPU not requested: left out on every node -> 0.5, 0.5 -> 100 vs 100 -> 75
    #   (counting it as fraction 0 would give std 0.2357 -> 76 on gpu-0)
    pytest.param(make_pod().req(cpu="2", memory=5000).obj(), {"cpu-0": 75, "gpu-0": 75},
                 id="unrequested-extended-resource-skipped"),
    # only a GPU requested is not best-effort: 0, 0, 0.25: mean 1/12, variance (6/144)/3 = 1/72,
    # std = 0.1179 -> 88 vs 100 -> 50 + 38 // 2 = 69; cpu-0: 0, 0 -> 100 vs 100 -> 75
    pytest.param(make_pod().req({GPU: 1}).obj(), {"cpu-0": 75, "gpu-0": 69}, id="gpu-only-pod"),
])
def test_balanced_allocation_extended_resources(pod, want) -> None:
    """With a GPU in the resource list, std is over three fractions only when the pod asks for GPUs."""
    table = make_table([node("cpu-0"), node("gpu-0", **{GPU: 4})])
    assert scores(WITH_GPU, table, pod) == want


def test_single_resource_has_no_spread() -> None:
    """With one configured resource the std is 0 with and without the pod: every node scores 75."""
    table = make_table([node("n1"), node("n2", "1")])
    assert scores(BalancedAllocation(resources=("cpu",)), table, make_pod().req(cpu="1").obj()) == {
        "n1": 75, "n2": 75}
