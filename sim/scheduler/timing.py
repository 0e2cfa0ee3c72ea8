"""How long one scheduling cycle takes: calibrated to kube-scheduler's published throughput
(test/integration/scheduler_perf/*/performance-config.yaml, Kubernetes 1.35/1.36 era).

A cycle costs a fixed part (queue pop, snapshot, assume) plus a per-node part for every node
the filters evaluate and every feasible node the scores visit. Pods whose inter-pod
(anti-)affinity terms must be checked against the pods already placed cost much more per
node, as upstream's thresholds show:

=================================  ==============  ===============================
scheduler_perf workload (5000 nodes) floor, pods/s   what the model gives
=================================  ==============  ===============================
SchedulingBasic                     680             base + 500 x (1.2 + 0.8) us
SchedulingNodeAffinity              220             every node evaluated (5000)
required pod anti-affinity          60              + 30 us per node evaluated
required pod affinity               35              + 55 us per node evaluated
preferred (anti-)affinity           90              + 20 us per node scored
=================================  ==============  ===============================

The floors are what CI enforces, so real runs are somewhat faster; the model aims at the
same order, which is what capacity questions about the scheduler need.
"""

from __future__ import annotations

from sim.api.objects import PodSpec
from sim.config import SchedulerConfig

__all__ = ["cycle_cost"]


def cycle_cost(config: SchedulerConfig, spec: PodSpec, evaluated: int, scored: int) -> float:
    """Seconds one scheduling cycle takes for a pod with ``spec``."""
    filter_per_node = config.per_node_cost
    score_per_node = config.per_scored_node_cost
    anti, affinity = spec.pod_anti_affinity, spec.pod_affinity
    if affinity.required:
        filter_per_node += config.pod_affinity_filter_cost
    elif anti.required:
        filter_per_node += config.pod_anti_affinity_filter_cost
    if affinity.preferred or anti.preferred:
        score_per_node += config.preferred_affinity_score_cost
    return config.cycle_base + filter_per_node * evaluated + score_per_node * (scored if scored > 1 else 0)
