"""Plugin registry and profiles: models pkg/scheduler/framework/plugins/registry.go and
pkg/scheduler/apis/config/v1/default_plugins.go (the multiPoint order and score weights).

``REGISTRY`` maps a plugin name to its factory and args type. ``build_profile`` turns a
scenario's ``ProfileConfig`` into a runnable ``Profile``: upstream's default list, minus
what is disabled, plus what is enabled, with weights overridden and args applied.
Default plugins that kubesim does not model are left out and named by ``not_modelled``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from sim.scheduler.framework import Profile
from sim.scheduler.gang import Coscheduling
from sim.scheduler.plugins import names
from sim.scheduler.plugins.args import (
    ArgsModel,
    CoschedulingArgs,
    InterPodAffinityArgs,
    NodeResourcesBalancedAllocationArgs,
    NodeResourcesFitArgs,
    PodTopologySpreadArgs,
)
from sim.scheduler.plugins.balanced_allocation import BalancedAllocation
from sim.scheduler.plugins.image_locality import ImageLocality
from sim.scheduler.plugins.inter_pod_affinity import InterPodAffinity
from sim.scheduler.plugins.node_affinity import NodeAffinity
from sim.scheduler.plugins.node_name import NodeName
from sim.scheduler.plugins.node_ports import NodePorts
from sim.scheduler.plugins.node_resources_fit import NodeResourcesFit
from sim.scheduler.plugins.node_unschedulable import NodeUnschedulable
from sim.scheduler.plugins.pod_topology_spread import PodTopologySpread
from sim.scheduler.plugins.taint_toleration import TaintToleration
from sim.scheduler.plugins.volume_binding import VolumeBinding, VolumeBindingArgs
from sim.scheduler.plugins.volume_zone import VolumeZone

__all__ = ["DEFAULT_PLUGINS", "NOT_MODELLED", "REGISTRY", "PluginSpec", "build_profile", "default_profile",
           "not_modelled", "register", "validate_args"]


@dataclass(frozen=True)
class PluginSpec:
    """How to build a plugin: a factory taking validated args (or nothing)."""

    factory: Callable[..., Any]
    args: type[ArgsModel] | None = None


REGISTRY: dict[str, PluginSpec] = {}


def register(name: str, factory: Callable[..., Any], args: type[ArgsModel] | None = None) -> None:
    """Add a plugin to the registry (plugin modules call this at import)."""
    REGISTRY[name] = PluginSpec(factory, args)


register(names.NODE_UNSCHEDULABLE, NodeUnschedulable)
register(names.NODE_NAME, NodeName)
register(names.TAINT_TOLERATION, TaintToleration)
register(names.NODE_AFFINITY, NodeAffinity)
register(names.NODE_PORTS, NodePorts)
register(names.VOLUME_BINDING, VolumeBinding.from_args, VolumeBindingArgs)
register(names.VOLUME_ZONE, VolumeZone)
register(names.IMAGE_LOCALITY, ImageLocality)
register(names.NODE_RESOURCES_FIT, NodeResourcesFit.from_args, NodeResourcesFitArgs)
register(names.NODE_RESOURCES_BALANCED_ALLOCATION, BalancedAllocation.from_args,
         NodeResourcesBalancedAllocationArgs)
register(names.POD_TOPOLOGY_SPREAD, PodTopologySpread.from_args, PodTopologySpreadArgs)
register(names.INTER_POD_AFFINITY, InterPodAffinity.from_args, InterPodAffinityArgs)
register(names.COSCHEDULING, Coscheduling, CoschedulingArgs)

def _register_default_preemption() -> None:
    from sim.scheduler.preemption import DefaultPreemption, DefaultPreemptionArgs

    register(names.DEFAULT_PREEMPTION, DefaultPreemption, DefaultPreemptionArgs)


_register_default_preemption()

# The default profile's multiPoint plugins in upstream order, with score weights.
DEFAULT_PLUGINS: tuple[tuple[str, int | None], ...] = (
    (names.SCHEDULING_GATES, None), (names.PRIORITY_SORT, None), (names.NODE_UNSCHEDULABLE, None),
    (names.NODE_NAME, None), (names.TAINT_TOLERATION, 3), (names.NODE_AFFINITY, 2), (names.NODE_PORTS, None),
    (names.NODE_RESOURCES_FIT, 1), (names.VOLUME_RESTRICTIONS, None), (names.NODE_VOLUME_LIMITS, None),
    (names.VOLUME_BINDING, None), (names.VOLUME_ZONE, None), (names.POD_TOPOLOGY_SPREAD, 2),
    (names.INTER_POD_AFFINITY, 2), (names.DEFAULT_PREEMPTION, None),
    (names.NODE_RESOURCES_BALANCED_ALLOCATION, 1), (names.IMAGE_LOCALITY, 1), (names.DEFAULT_BINDER, None),
)
# Built into the loop rather than plugins: queue sort, gates and binding.
_BUILT_IN = {names.SCHEDULING_GATES, names.PRIORITY_SORT, names.DEFAULT_BINDER}


def not_modelled() -> list[str]:
    """Default-profile plugins with no model in kubesim (reports list them)."""
    return [name for name, _ in DEFAULT_PLUGINS if name not in REGISTRY and name not in _BUILT_IN]


NOT_MODELLED = tuple(not_modelled())


def validate_args(name: str, args: dict[str, Any]) -> ArgsModel | None:
    """Validate a plugin's args; raises ValueError naming the plugin."""
    spec = REGISTRY.get(name)
    if spec is None or spec.args is None:
        if args:
            raise ValueError(f"plugin {name} takes no args")
        return None
    try:
        return spec.args.model_validate(args)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ValueError(f"{name} args: {where}: {first['msg']}") from None


def _instantiate(name: str, args: dict[str, Any]) -> Any:
    spec = REGISTRY[name]
    if spec.args is None:
        return spec.factory()
    return spec.factory(validate_args(name, args) or spec.args())


def build_profile(config: Any = None, percentage_of_nodes_to_score: int = 0) -> Profile:
    """A runnable Profile from a ``ProfileConfig`` (None: the default-scheduler profile)."""
    from sim.scheduler.config import ProfileConfig

    config = config or ProfileConfig()
    plugins = config.plugins
    disabled_all = any(ref.name == "*" for ref in plugins.multi_point.disabled)
    disabled = {ref.name for ref in plugins.multi_point.disabled}
    order: list[str] = [] if disabled_all else [n for n, _ in DEFAULT_PLUGINS if n not in disabled]
    weights = {n: w for n, w in DEFAULT_PLUGINS if w is not None}
    for ref in plugins.multi_point.enabled:
        if ref.name not in order:
            order.append(ref.name)
        if ref.weight is not None:
            weights[ref.name] = ref.weight
    score_off = {ref.name for ref in plugins.score.disabled}
    score_all_off = "*" in score_off
    for ref in plugins.score.enabled:
        weights[ref.name] = ref.weight if ref.weight is not None else weights.get(ref.name, 1)
        if ref.name not in order:
            order.append(ref.name)
        score_off.discard(ref.name)
    filter_off = {ref.name for ref in plugins.filter.disabled}
    args = {pc.name: pc.args for pc in config.plugin_config}
    instances = {name: _instantiate(name, args.get(name, {})) for name in order if name in REGISTRY}
    enabled_scores = {ref.name for ref in plugins.score.enabled}

    def scores_on(name: str) -> bool:
        return name not in score_off and (not score_all_off or name in enabled_scores)

    percentage = config.percentage_of_nodes_to_score
    return Profile(
        scheduler_name=config.scheduler_name,
        filters=[p for n, p in instances.items() if hasattr(p, "filter") and n not in filter_off],
        scores=[(p, weights.get(n, 1)) for n, p in instances.items() if hasattr(p, "score") and scores_on(n)],
        percentage_of_nodes_to_score=percentage_of_nodes_to_score if percentage is None else percentage,
        pre_filters=[p for p in instances.values() if hasattr(p, "pre_filter")],
        post_filters=[p for p in instances.values() if hasattr(p, "post_filter")],
        permits=[p for p in instances.values() if hasattr(p, "permit")],
        reserves=[p for p in instances.values() if hasattr(p, "reserve")],
        queue_sort=next((p for p in instances.values() if hasattr(p, "sort_key")), None),
    )


def default_profile(scheduler_name: str = "default-scheduler", percentage_of_nodes_to_score: int = 0) -> Profile:
    """The default-scheduler profile with upstream's filter order and score weights."""
    from sim.scheduler.config import ProfileConfig

    return build_profile(ProfileConfig(scheduler_name=scheduler_name), percentage_of_nodes_to_score)
