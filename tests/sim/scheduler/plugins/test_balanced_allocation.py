"""NodeResourcesBalancedAllocation: score = int((1 - std of requested fractions) * 100).

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
    # cpu 3000/4000 = 0.75, memory 5000/10000 = 0.5: std = 0.25/2 = 0.125 -> 87.5 -> 87
    # cpu 3000/6000 = 0.5, memory 0.5: std 0 -> 100
    pytest.param([node("n1", "4"), node("n2", "6")], [], make_pod().req(cpu="3", memory=5000).obj(),
                 {"n1": 87, "n2": 100}, id="upstream-example"),
    # existing 1000m/2000 + pod 1000m/3000: 2000/4000 = 0.5, 5000/10000 = 0.5 -> 100
    pytest.param([node("n1")], [(make_pod("a").req(cpu="1", memory=2000).obj(), "n1")],
                 make_pod().req(cpu="1", memory=3000).obj(), {"n1": 100}, id="existing-pods-count"),
    # 3000m + 2000m = 5000m / 4000m = 1.25 capped to 1; memory 0.5: std 0.25 -> 75
    pytest.param([node("n1")], [(make_pod("a").req(cpu="3", memory=0).obj(), "n1")],
                 make_pod().req(cpu="2", memory=5000).obj(), {"n1": 75}, id="fraction-capped-at-one"),
    # actual requests, not the 200Mi default: cpu 2000/4000 = 0.5, memory 0/4Gi = 0: std 0.25 -> 75
    #   (with the default it would be 200Mi/4Gi = 0.0488 -> std 0.2256 -> 77)
    pytest.param([node("n1", "4", "4Gi")], [], make_pod().req(cpu="2").obj(), {"n1": 75},
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
    # std = 0.2357 -> (1 - 0.2357) * 100 = 76.4 -> 76; cpu-0 has no GPU -> 0.5, 0.5 -> 100
    pytest.param(make_pod().req({GPU: 4}, cpu="2", memory=5000).obj(), {"cpu-0": 100, "gpu-0": 76},
                 id="three-resources"),
    # GPU not requested: left out on every node -> 0.5, 0.5 -> 100
    #   (counting it as fraction 0 would give std 0.2357 -> 76 on gpu-0)
    pytest.param(make_pod().req(cpu="2", memory=5000).obj(), {"cpu-0": 100, "gpu-0": 100},
                 id="unrequested-extended-resource-skipped"),
    # only a GPU requested is not best-effort: 0, 0, 0.25: mean 1/12, variance (6/144)/3 = 1/72,
    # std = 0.1179 -> 88.2 -> 88; cpu-0: 0, 0 -> 100
    pytest.param(make_pod().req({GPU: 1}).obj(), {"cpu-0": 100, "gpu-0": 88}, id="gpu-only-pod"),
])
def test_balanced_allocation_extended_resources(pod, want) -> None:
    """With a GPU in the resource list, std is over three fractions only when the pod asks for GPUs."""
    table = make_table([node("cpu-0"), node("gpu-0", **{GPU: 4})])
    assert scores(WITH_GPU, table, pod) == want


def test_single_resource_has_no_spread() -> None:
    """With one configured resource the std is 0, so every node scores 100."""
    table = make_table([node("n1"), node("n2", "1")])
    assert scores(BalancedAllocation(resources=("cpu",)), table, make_pod().req(cpu="1").obj()) == {
        "n1": 100, "n2": 100}
