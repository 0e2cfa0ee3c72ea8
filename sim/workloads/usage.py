"""How busy a workload's pods are: the source of the CPU and custom metrics the HPA scales on.

Stands in for the application (a real cluster's cgroup CPU counters and Prometheus series)
until the serving model drives usage from traffic. A workload's ``behavior`` says it:

```yaml
behavior:
  cpuUsage: {total: 2}                 # 2 cores of work split evenly across Ready pods
  podMetrics:
    requests_per_second: {perPod: 10}  # every running pod reports 10
  externalMetrics:
    queue_messages: [{at: 0s, value: 30}, {at: 2m, value: 120}]
```

A value is a quantity (``300m``, ``2``) or steps ``[{at, value}, ...]`` (scenario time;
each value holds until the next step, 0 before the first). ``perPod`` loads every running
pod alike; ``total`` is split across the workload's Ready pods (what a Service in front of
them does) while running pods that are not Ready use ``unready`` (default 0). Anything
that implements ``UsageSource`` (the serving model, later) can replace ``ProfileUsage``.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Protocol

from pydantic import AfterValidator, Field, model_validator

from sim.api.objects import RUNNING, Pod
from sim.api.quantity import QuantityError, cpu_millis
from sim.config import Model
from sim.distributions import Duration

if TYPE_CHECKING:
    from sim.scenario import Scenario

__all__ = [
    "Load",
    "LoadSpec",
    "ProfileUsage",
    "RunningPods",
    "Step",
    "StepProfile",
    "UsageSource",
    "WorkloadUsage",
    "external_metric_conflict",
    "units",
]


def units(value: str | int | float) -> float:
    """A quantity as a float, at the milli resolution the metrics APIs carry (``MilliValue``)."""
    return cpu_millis(value) / 1000


def _check_amount(value: str | int | float) -> str | int | float:
    try:
        if units(value) < 0:
            raise ValueError(f"must not be negative, got {value!r}")
    except QuantityError as exc:
        raise ValueError(str(exc)) from None
    return value


Amount = Annotated[str | int | float, AfterValidator(_check_amount)]


class Step(Model):
    """From ``at`` (scenario time) on, the value is ``value``."""

    at: Duration
    value: Amount


Profile = Amount | list[Step]


class Load(Model):
    """A per-pod quantity: the same on every running pod, or a total split across Ready pods."""

    per_pod: Profile | None = Field(None, description="Every running pod uses/reports this.")
    total: Profile | None = Field(None, description="Split evenly across the workload's Ready pods.")
    unready: Amount = Field(0, description="A running pod that is not Ready (with total).")

    @model_validator(mode="after")
    def _one_mode(self) -> Load:
        if (self.per_pod is None) == (self.total is None):
            raise ValueError("set exactly one of perPod and total")
        return self


# ---------------------------------------------------------------------------- runtime form

@dataclass(frozen=True, slots=True)
class StepProfile:
    """A piecewise-constant function of scenario time."""

    times: tuple[float, ...]
    values: tuple[float, ...]

    @classmethod
    def of(cls, profile: Any) -> StepProfile:
        """From a scenario value: a constant or a list of steps."""
        if isinstance(profile, list):
            steps = sorted((s.at, units(s.value)) for s in profile)
            return cls(tuple(t for t, _ in steps), tuple(v for _, v in steps))
        return cls((0.0,), (units(profile),))

    def at(self, t: float) -> float:
        """The value at time ``t`` (0 before the first step)."""
        i = bisect.bisect_right(self.times, t)
        return self.values[i - 1] if i else 0.0


@dataclass(frozen=True, slots=True)
class LoadSpec:
    """The runtime form of ``Load``."""

    per_pod: StepProfile | None
    total: StepProfile | None
    unready: float = 0.0

    @classmethod
    def of(cls, load: Load) -> LoadSpec:
        """From the scenario model."""
        return cls(None if load.per_pod is None else StepProfile.of(load.per_pod),
                   None if load.total is None else StepProfile.of(load.total), units(load.unready))

    def value(self, ready: bool, ready_pods: int, t: float) -> float:
        """One pod's share at ``t``: per pod, or the total over the Ready pods."""
        if self.per_pod is not None:
            return self.per_pod.at(t)
        if not ready or self.total is None:
            return self.unready
        return self.total.at(t) / max(ready_pods, 1)

    @property
    def change_times(self) -> tuple[float, ...]:
        """When the profile steps."""
        return (self.per_pod or self.total or StepProfile((), ())).times


@dataclass(frozen=True, slots=True)
class WorkloadUsage:
    """What one workload's pods use and report; carried by their spec's behaviour."""

    workload: str
    cpu: LoadSpec | None = None
    pod_metrics: tuple[tuple[str, LoadSpec], ...] = ()
    external_metrics: tuple[tuple[str, StepProfile], ...] = ()

    @classmethod
    def of(cls, workload: str, cpu: Load | None, pod_metrics: dict[str, Load],
           external_metrics: dict[str, Any]) -> WorkloadUsage | None:
        """From a workload's behaviour fields; None when it describes no usage at all."""
        if cpu is None and not pod_metrics and not external_metrics:
            return None
        return cls(workload, None if cpu is None else LoadSpec.of(cpu),
                   tuple((name, LoadSpec.of(pod_metrics[name])) for name in sorted(pod_metrics)),
                   tuple((name, StepProfile.of(external_metrics[name])) for name in sorted(external_metrics)))


def external_metric_conflict(scenario: Scenario) -> tuple[tuple[str | int, ...], str] | None:
    """(field path, message) if two workloads declare one external metric in one namespace."""
    declared: dict[tuple[str, str], str] = {}
    for i, workload in enumerate(scenario.workloads):
        for name in sorted(workload.behavior.external_metrics):
            key = (workload.namespace, name)
            if key in declared:
                return (("workloads", i, "behavior", "externalMetrics", name),
                        f"external metric {name!r} in namespace {workload.namespace!r} is already declared by "
                        f"workload {declared[key]!r}")
            declared[key] = workload.name
    return None


# ---------------------------------------------------------------------------- the interface

class UsageSource(Protocol):
    """What the metrics pipeline asks the workloads (values in cores or metric units)."""

    def cpu_usage(self, pod: Pod, t: float) -> float:
        """Cores the pod's containers use at ``t``."""

    def pods_metric(self, pod: Pod, name: str, t: float) -> float | None:
        """The pod's value of custom metric ``name`` at ``t``; None if it has no such series."""

    def external_metric(self, namespace: str, name: str, t: float) -> float | None:
        """External metric ``name`` in ``namespace`` at ``t``; None if nothing reports it."""

    def change_times(self) -> Iterable[float]:
        """Times at which CPU usage may jump other than when pods start, stop or turn Ready."""


class RunningPods:
    """Pods whose containers run (the kubelets' view), with Ready counts per workload."""

    def __init__(self) -> None:
        self.pods: dict[int, Pod] = {}
        self._ready: Counter[tuple[str, str]] = Counter()
        self._counted: dict[int, tuple[str, str]] = {}

    def observe(self, deleted: bool, pod: Pod) -> None:
        """Take in a pod's latest state from a watch event."""
        uid = pod.meta.uid
        group = self._counted.pop(uid, None)
        if group is not None:
            self._ready[group] -= 1
        if deleted or pod.phase != RUNNING:
            self.pods.pop(uid, None)
            return
        self.pods[uid] = pod
        usage = pod.spec.behavior.usage
        if pod.ready and not pod.terminating and usage is not None:
            group = (pod.meta.namespace, usage.workload)
            self._counted[uid] = group
            self._ready[group] += 1

    def ready_count(self, namespace: str, workload: str) -> int:
        """Ready, not terminating pods of a workload (the endpoints traffic is split over)."""
        return self._ready[(namespace, workload)]


class ProfileUsage:
    """``UsageSource`` from the workloads' declared profiles."""

    def __init__(self, pods: RunningPods, external: dict[tuple[str, str], StepProfile],
                 changes: Iterable[float] = ()) -> None:
        self.pods = pods
        self.external = external
        self._changes = sorted(set(changes))

    @classmethod
    def from_scenario(cls, scenario: Scenario, pods: RunningPods) -> ProfileUsage:
        """Profiles of every workload of the scenario."""
        external: dict[tuple[str, str], StepProfile] = {}
        changes: list[float] = []
        for workload in scenario.workloads:
            usage = workload.behavior.to_object(workload.name).usage
            if usage is None:
                continue
            for name, profile in usage.external_metrics:
                external[(workload.namespace, name)] = profile
            if usage.cpu is not None:
                changes.extend(usage.cpu.change_times)
        return cls(pods, external, changes)

    def cpu_usage(self, pod: Pod, t: float) -> float:
        """The pod's share of its workload's CPU profile (0 for a workload with none)."""
        usage = pod.spec.behavior.usage
        if usage is None or usage.cpu is None:
            return 0.0
        return self._share(pod, usage.workload, usage.cpu, t)

    def pods_metric(self, pod: Pod, name: str, t: float) -> float | None:
        """The pod's share of its workload's custom metric ``name``."""
        usage = pod.spec.behavior.usage
        spec = None if usage is None else dict(usage.pod_metrics).get(name)
        if spec is None:
            return None
        return self._share(pod, usage.workload, spec, t)  # type: ignore[union-attr]

    def external_metric(self, namespace: str, name: str, t: float) -> float | None:
        """A declared external metric's value."""
        profile = self.external.get((namespace, name))
        return None if profile is None else profile.at(t)

    def change_times(self) -> list[float]:
        """Step times of the CPU profiles."""
        return self._changes

    def _share(self, pod: Pod, workload: str, spec: LoadSpec, t: float) -> float:
        ready = pod.ready and not pod.terminating
        return spec.value(ready, self.pods.ready_count(pod.meta.namespace, workload), t)
