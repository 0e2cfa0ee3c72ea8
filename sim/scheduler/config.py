"""Scheduler profiles as a scenario writes them: models KubeSchedulerConfiguration v1
(``staging/src/k8s.io/kube-scheduler/config/v1/types.go`` and ``types_pluginargs.go``).

A profile names its ``schedulerName``, enables or disables plugins (``multiPoint`` for all
extension points, ``score`` to set or drop score weights) and passes plugin args through
``pluginConfig``. Unknown plugin names and bad args are load-time errors.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

__all__ = ["PluginConfig", "PluginRef", "PluginSet", "Plugins", "ProfileConfig"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True)


class PluginRef(_Model):
    """A plugin by name, with an optional score weight."""

    name: str
    weight: int | None = Field(None, ge=0, le=100)


class PluginSet(_Model):
    """Plugins to enable (appended after the defaults) and to disable (``*`` = all defaults)."""

    enabled: list[PluginRef] = Field(default_factory=list)
    disabled: list[PluginRef] = Field(default_factory=list)


class Plugins(_Model):
    """Which plugins run: ``multiPoint`` for every extension point they implement, ``score``
    and ``filter`` for just one."""

    multi_point: PluginSet = Field(default_factory=PluginSet)
    filter: PluginSet = Field(default_factory=PluginSet)
    score: PluginSet = Field(default_factory=PluginSet)


class PluginConfig(_Model):
    """Args for one plugin, e.g. NodeResourcesFit's scoringStrategy."""

    name: str
    args: dict[str, Any] = Field(default_factory=dict)


class ProfileConfig(_Model):
    """One scheduling profile."""

    scheduler_name: str = "default-scheduler"
    percentage_of_nodes_to_score: int | None = Field(None, ge=0, le=100)
    plugins: Plugins = Field(default_factory=Plugins)
    plugin_config: list[PluginConfig] = Field(default_factory=list)

    @model_validator(mode="after")
    def _known_plugins(self) -> ProfileConfig:
        from sim.scheduler.plugins.registry import REGISTRY, validate_args

        names = [ref.name for s in (self.plugins.multi_point, self.plugins.filter, self.plugins.score)
                 for ref in (*s.enabled, *s.disabled)] + [pc.name for pc in self.plugin_config]
        for name in names:
            if name != "*" and name not in REGISTRY:
                import difflib

                close = difflib.get_close_matches(name, list(REGISTRY), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise ValueError(f"unknown scheduler plugin {name!r}{hint}")
        for pc in self.plugin_config:
            validate_args(pc.name, pc.args)
        return self


ScoringType = Literal["LeastAllocated", "MostAllocated", "RequestedToCapacityRatio"]
