"""The cycle-cost model reproduces the order of kube-scheduler's scheduler_perf throughput."""

from __future__ import annotations

import pytest

from sim.api.objects import Container, PodAffinity, PodAffinityTerm, PodSpec
from sim.api.selectors import Selector
from sim.config import SchedulerConfig
from sim.scheduler.framework import num_feasible_nodes_to_find
from sim.scheduler.timing import cycle_cost

NODES = 5000
TERM = PodAffinityTerm("kubernetes.io/hostname", Selector())


def _spec(**affinity: PodAffinity) -> PodSpec:
    return PodSpec(containers=(Container("c", "i"),), **affinity)  # type: ignore[arg-type]


@pytest.mark.parametrize(("spec", "evaluated", "floor"), [
    # SchedulingBasic: 500 nodes evaluated (adaptive 10% of 5000), all feasible and scored.
    (_spec(), num_feasible_nodes_to_find(NODES, 0), 680),
    # SchedulingNodeAffinity: few nodes match, so the search evaluates all 5000.
    (_spec(), NODES, 220),
    (_spec(pod_anti_affinity=PodAffinity(required=(TERM,))), num_feasible_nodes_to_find(NODES, 0), 60),
    (_spec(pod_affinity=PodAffinity(required=(TERM,))), num_feasible_nodes_to_find(NODES, 0), 35),
    (_spec(pod_affinity=PodAffinity(preferred=((1, TERM),))), num_feasible_nodes_to_find(NODES, 0), 90),
], ids=["basic", "node-affinity", "required-anti-affinity", "required-affinity", "preferred-affinity"])
def test_modelled_throughput_is_near_the_published_floor(spec: PodSpec, evaluated: int, floor: int) -> None:
    """Within [0.6, 2] x the CI floor: the same order as the real scheduler at 5000 nodes."""
    scored = min(evaluated, num_feasible_nodes_to_find(NODES, 0))
    pods_per_s = 1 / cycle_cost(SchedulerConfig(), spec, evaluated, scored)
    assert 0.6 * floor <= pods_per_s <= 2 * floor


def test_single_feasible_node_is_not_scored() -> None:
    """With one feasible node upstream skips scoring, so only filter cost applies."""
    config = SchedulerConfig()
    assert cycle_cost(config, _spec(), 100, 1) == pytest.approx(config.cycle_base + 100 * config.per_node_cost)
