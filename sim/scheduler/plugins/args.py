"""Typed plugin args (models ``config/v1/types_pluginargs.go``): validated when a scenario loads."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

__all__ = ["ArgsModel", "NodeResourcesBalancedAllocationArgs", "NodeResourcesFitArgs", "ResourceSpec",
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
