"""Plugin registry and the default profile: models pkg/scheduler/framework/plugins/registry.go
and pkg/scheduler/apis/config/v1/default_plugins.go (filter order and score weights).

Plugins of the default profile that are not modelled yet (NodePorts, volume plugins,
PodTopologySpread, InterPodAffinity, ImageLocality, DefaultPreemption) are listed in
``NOT_MODELLED`` so reports can say so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sim.scheduler.framework import Profile
from sim.scheduler.plugins import names
from sim.scheduler.plugins.balanced_allocation import BalancedAllocation
from sim.scheduler.plugins.node_affinity import NodeAffinity
from sim.scheduler.plugins.node_name import NodeName
from sim.scheduler.plugins.node_resources_fit import NodeResourcesFit
from sim.scheduler.plugins.node_unschedulable import NodeUnschedulable
from sim.scheduler.plugins.taint_toleration import TaintToleration

__all__ = ["DEFAULT_FILTERS", "DEFAULT_SCORE_WEIGHTS", "NOT_MODELLED", "REGISTRY", "default_profile"]

REGISTRY: dict[str, Callable[[], Any]] = {
    names.NODE_UNSCHEDULABLE: NodeUnschedulable,
    names.NODE_NAME: NodeName,
    names.TAINT_TOLERATION: TaintToleration,
    names.NODE_AFFINITY: NodeAffinity,
    names.NODE_RESOURCES_FIT: NodeResourcesFit,
    names.NODE_RESOURCES_BALANCED_ALLOCATION: BalancedAllocation,
}

DEFAULT_FILTERS = (names.NODE_UNSCHEDULABLE, names.NODE_NAME, names.TAINT_TOLERATION,
                   names.NODE_AFFINITY, names.NODE_RESOURCES_FIT)
DEFAULT_SCORE_WEIGHTS = {names.TAINT_TOLERATION: 3, names.NODE_AFFINITY: 2,
                         names.NODE_RESOURCES_FIT: 1, names.NODE_RESOURCES_BALANCED_ALLOCATION: 1}
NOT_MODELLED = ("NodePorts", "VolumeRestrictions", "NodeVolumeLimits", "VolumeBinding", "VolumeZone",
                "PodTopologySpread", "InterPodAffinity", "DefaultPreemption", "ImageLocality")


def default_profile(scheduler_name: str = "default-scheduler", percentage_of_nodes_to_score: int = 0) -> Profile:
    """The default-scheduler profile with upstream's filter order and score weights."""
    instances = {name: factory() for name, factory in REGISTRY.items()}
    return Profile(
        scheduler_name=scheduler_name,
        filters=[instances[name] for name in DEFAULT_FILTERS],
        scores=[(instances[name], weight) for name, weight in DEFAULT_SCORE_WEIGHTS.items()],
        percentage_of_nodes_to_score=percentage_of_nodes_to_score,
    )
