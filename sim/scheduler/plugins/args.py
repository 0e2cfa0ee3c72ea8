"""Typed plugin args (models ``config/v1/types_pluginargs.go``): validated when a scenario loads."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

__all__ = ["ArgsModel", "CoschedulingArgs", "DefaultSpreadConstraint", "InterPodAffinityArgs",
           "NodeResourcesBalancedAllocationArgs", "NodeResourcesFitArgs", "PodTopologySpreadArgs", "ResourceSpec",
           "ScoringStrategy", "UtilizationShapePoint"]


class ArgsModel(BaseModel):
    """Base of every plugin's args."""

    model_config = ConfigDict(frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True)


class ResourceSpec(ArgsModel):
    """A resource and its weight in a score."""

    name: str
    weight: int = Field(1, ge=1, le=100)


class UtilizationShapePoint(ArgsModel):
    """A point of RequestedToCapacityRatio's scoring function: utilization % -> score 0..10."""

    utilization: int = Field(ge=0, le=100)
    score: int = Field(ge=0, le=10)


class RequestedToCapacityRatioParam(ArgsModel):
    """The shape of the RequestedToCapacityRatio function (utilization ascending)."""

    shape: list[UtilizationShapePoint] = Field(min_length=1)

    @model_validator(mode="after")
    def _ascending(self) -> RequestedToCapacityRatioParam:
        points = [p.utilization for p in self.shape]
        if points != sorted(set(points)):
            raise ValueError("shape utilization values must be strictly increasing")
        return self


def _default_resources() -> list[ResourceSpec]:
    return [ResourceSpec(name="cpu", weight=1), ResourceSpec(name="memory", weight=1)]


class ScoringStrategy(ArgsModel):
    """NodeResourcesFit's scoring: LeastAllocated (default), MostAllocated or RequestedToCapacityRatio."""

    type: Literal["LeastAllocated", "MostAllocated", "RequestedToCapacityRatio"] = "LeastAllocated"
    resources: list[ResourceSpec] = Field(default_factory=_default_resources)
    requested_to_capacity_ratio: RequestedToCapacityRatioParam | None = None

    @model_validator(mode="after")
    def _shape_needed(self) -> ScoringStrategy:
        if self.type == "RequestedToCapacityRatio" and self.requested_to_capacity_ratio is None:
            raise ValueError("RequestedToCapacityRatio needs requestedToCapacityRatio.shape")
        return self


class NodeResourcesFitArgs(ArgsModel):
    """Args of NodeResourcesFit."""

    scoring_strategy: ScoringStrategy = Field(default_factory=ScoringStrategy)


class NodeResourcesBalancedAllocationArgs(ArgsModel):
    """Args of NodeResourcesBalancedAllocation."""

    resources: list[ResourceSpec] = Field(default_factory=_default_resources)


class CoschedulingArgs(ArgsModel):
    """Args of Coscheduling (kubernetes-sigs/scheduler-plugins apis/config/v1/types.go, defaults.go).

    ``permitWaitingTimeSeconds`` is how long a gang member waits at Permit when its PodGroup
    sets no ``scheduleTimeoutSeconds``; ``podGroupBackoffSeconds`` > 0 keeps a group that
    failed out of PreFilter for that long; ``podGroupRejectPercentage`` is the share of
    minMember still unassigned at or below which a failing pod does not reject its group.
    """

    permit_waiting_time_seconds: int = Field(60, ge=0)
    pod_group_backoff_seconds: int = Field(0, ge=0)
    pod_group_reject_percentage: int = Field(10, ge=0, le=100)


class DefaultSpreadConstraint(ArgsModel):
    """One of PodTopologySpreadArgs.defaultConstraints: a topologySpreadConstraint without a
    labelSelector (the selector is deduced per pod from its Services and owner)."""

    max_skew: int = Field(ge=1)
    topology_key: str = Field(min_length=1)
    when_unsatisfiable: Literal["DoNotSchedule", "ScheduleAnyway"]
    min_domains: int | None = Field(None, ge=1)
    node_affinity_policy: Literal["Honor", "Ignore"] | None = None
    node_taints_policy: Literal["Honor", "Ignore"] | None = None
    match_label_keys: list[str] = Field(default_factory=list)
    label_selector: dict | None = None

    @model_validator(mode="after")
    def _no_selector(self) -> DefaultSpreadConstraint:
        if self.label_selector is not None:
            raise ValueError("labelSelector must not be set: it is deduced for each pod")
        return self


class PodTopologySpreadArgs(ArgsModel):
    """Args of PodTopologySpread (validation.ValidatePodTopologySpreadArgs; v1 defaults.go).

    ``defaultingType`` System uses the built-in hostname/zone constraints and then allows no
    ``defaultConstraints``; unset, it is List when constraints are given and System otherwise.
    """

    default_constraints: list[DefaultSpreadConstraint] = Field(default_factory=list)
    defaulting_type: Literal["System", "List"] | None = None

    @model_validator(mode="after")
    def _defaulting(self) -> PodTopologySpreadArgs:
        if self.defaulting_type is None:  # SetDefaults_PodTopologySpreadArgs; the model is frozen
            object.__setattr__(self, "defaulting_type", "List" if self.default_constraints else "System")
        if self.defaulting_type == "System" and self.default_constraints:
            raise ValueError("defaultConstraints must be empty when defaultingType is System")
        pairs = [(c.topology_key, c.when_unsatisfiable) for c in self.default_constraints]
        if len(pairs) != len(set(pairs)):
            raise ValueError("defaultConstraints repeat a (topologyKey, whenUnsatisfiable) pair")
        return self


class InterPodAffinityArgs(ArgsModel):
    """Args of InterPodAffinity: the score weight of existing pods' required affinity terms that
    the incoming pod matches (config/v1 defaults.go: 1), and whether to skip existing pods'
    preferred terms when the pod has none of its own (default false)."""

    hard_pod_affinity_weight: int = Field(1, ge=0, le=100)
    ignore_preferred_terms_of_existing_pods: bool = False
