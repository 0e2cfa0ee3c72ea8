"""API objects as the simulated API server stores them.

Models the subset of ``k8s.io/api`` (core/v1 Pod, Node, Service; apps/v1 ReplicaSet,
Deployment) that the control plane acts on. Pods made from one template share a frozen
``PodSpec``, so 150,000 pods cost one spec per template rather than one per pod.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sim.api.selectors import Selector

__all__ = [
    "Container",
    "Deployment",
    "DeploymentStrategy",
    "Node",
    "ObjectMeta",
    "OwnerReference",
    "Pod",
    "PodSpec",
    "PodTemplate",
    "PodDisruptionBudget",
    "PodGroup",
    "PriorityClass",
    "Probe",
    "RendezvousSpec",
    "ReplicaSet",
    "Service",
    "Taint",
    "Toleration",
    "WorkloadBehavior",
    "key_of",
]

# Pod phases (core/v1 PodPhase)
PENDING, RUNNING, SUCCEEDED, FAILED = "Pending", "Running", "Succeeded", "Failed"


@dataclass(frozen=True, slots=True)
class OwnerReference:
    """metadata.ownerReferences[] with controller=true."""

    kind: str
    name: str
    uid: int


@dataclass(slots=True)
class ObjectMeta:
    """metadata: identity, labels and lifecycle timestamps (seconds of simulated time)."""

    name: str
    namespace: str = "default"
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    owner: OwnerReference | None = None
    uid: int = 0
    resource_version: int = 0
    generation: int = 1
    creation_time: float = 0.0
    deletion_time: float | None = None
    deletion_grace_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class Taint:
    """spec.taints[] on a node."""

    key: str
    value: str = ""
    effect: str = "NoSchedule"

    def __str__(self) -> str:
        value = f"={self.value}" if self.value else ""
        return f"{self.key}{value}:{self.effect}"


@dataclass(frozen=True, slots=True)
class Toleration:
    """spec.tolerations[] on a pod; models ``ToleratesTaint`` in core/v1 helpers."""

    key: str = ""
    operator: str = "Equal"
    value: str = ""
    effect: str = ""
    toleration_seconds: float | None = None

    def tolerates(self, taint: Taint) -> bool:
        """Upstream rule: empty effect matches all effects; empty key with Exists matches all."""
        if self.effect and self.effect != taint.effect:
            return False
        if self.key and self.key != taint.key:
            return False
        if self.operator == "Exists":
            return True
        return self.operator in ("", "Equal") and self.value == taint.value


@dataclass(frozen=True, slots=True)
class Probe:
    """A readiness probe's timing (the action is modelled by the workload's behaviour)."""

    initial_delay_seconds: float = 0.0
    period_seconds: float = 10.0
    timeout_seconds: float = 1.0
    success_threshold: int = 1
    failure_threshold: int = 3


@dataclass(frozen=True, slots=True)
class Container:
    """spec.containers[]: image, requests (scheduler units) and readiness probe."""

    name: str
    image: str
    requests: tuple[tuple[str, int], ...] = ()
    limits: tuple[tuple[str, int], ...] = ()
    image_pull_policy: str = "IfNotPresent"
    readiness_probe: Probe | None = None
    host_ports: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class RendezvousSpec:
    """Distributed-training workers that start work only once ``world_size`` of them run.

    Workers are one job when they share a namespace and the value of label ``group_label``.
    """

    group_label: str
    world_size: int


@dataclass(frozen=True, slots=True)
class WorkloadBehavior:
    """What a manifest cannot say: image sizes and how long the app takes to start."""

    image_size: int | None = None
    container_start: Any = None  # Dist
    readiness: Any = None  # Dist: app warm-up before its readiness probe can pass
    run_duration: Any = None  # Dist or None: runs forever
    stop_time: Any = None  # Dist: SIGTERM to exit
    rendezvous: RendezvousSpec | None = None  # None: work starts when the container runs


@dataclass(frozen=True, slots=True)
class PodSpec:
    """The scheduling-relevant, immutable part of a pod, shared by pods of one template."""

    containers: tuple[Container, ...]
    init_containers: tuple[Container, ...] = ()
    requests: tuple[tuple[str, int], ...] = ()
    node_selector: tuple[tuple[str, str], ...] = ()
    required_node_affinity: tuple[Selector, ...] = ()
    preferred_node_affinity: tuple[tuple[int, Selector], ...] = ()
    tolerations: tuple[Toleration, ...] = ()
    node_name: str = ""
    scheduler_name: str = "default-scheduler"
    priority: int = 0
    priority_class_name: str = ""
    preemption_policy: str = "PreemptLowerPriority"
    restart_policy: str = "Always"
    termination_grace_period_seconds: float = 30.0
    behavior: WorkloadBehavior = field(default_factory=WorkloadBehavior)

    @property
    def request_map(self) -> dict[str, int]:
        """Effective pod requests: max(sum of containers, any init container), per resource."""
        return dict(self.requests)


@dataclass(slots=True)
class Pod:
    """A pod: shared spec plus its own binding and status."""

    meta: ObjectMeta
    spec: PodSpec
    node_name: str = ""
    phase: str = PENDING
    ready: bool = False
    reason: str = ""
    message: str = ""
    nominated_node_name: str = ""
    start_time: float | None = None
    ready_time: float | None = None
    kind: str = "Pod"

    @property
    def terminating(self) -> bool:
        """Deletion requested (deletionTimestamp set)."""
        return self.meta.deletion_time is not None

    @property
    def active(self) -> bool:
        """Counts toward a controller's replicas: not terminal and not being deleted."""
        return self.phase not in (SUCCEEDED, FAILED) and self.meta.deletion_time is None


@dataclass(frozen=True, slots=True)
class PodTemplate:
    """spec.template of a workload: labels, annotations and the shared spec."""

    labels: tuple[tuple[str, str], ...]
    annotations: tuple[tuple[str, str], ...]
    spec: PodSpec
    hash: str


@dataclass(slots=True)
class Node:
    """A node: allocatable resources, labels, taints and readiness."""

    meta: ObjectMeta
    allocatable: dict[str, int]
    capacity: dict[str, int]
    taints: tuple[Taint, ...] = ()
    unschedulable: bool = False
    ready: bool = True
    pool: str = ""
    price_per_hour: float = 0.0
    images: frozenset[str] = frozenset()
    kind: str = "Node"


@dataclass(frozen=True, slots=True)
class DeploymentStrategy:
    """spec.strategy: RollingUpdate (maxSurge / maxUnavailable as int or percent) or Recreate."""

    type: str = "RollingUpdate"
    max_surge: int | str = "25%"
    max_unavailable: int | str = "25%"


@dataclass(slots=True)
class ReplicaSet:
    """apps/v1 ReplicaSet with its status counters."""

    meta: ObjectMeta
    replicas: int
    selector: Selector
    template: PodTemplate
    min_ready_seconds: float = 0.0
    status_replicas: int = 0
    ready_replicas: int = 0
    available_replicas: int = 0
    kind: str = "ReplicaSet"


@dataclass(slots=True)
class Deployment:
    """apps/v1 Deployment."""

    meta: ObjectMeta
    replicas: int
    selector: Selector
    template: PodTemplate
    strategy: DeploymentStrategy = field(default_factory=DeploymentStrategy)
    min_ready_seconds: float = 0.0
    revision_history_limit: int = 10
    progress_deadline_seconds: float = 600.0
    paused: bool = False
    raw_template: dict[str, Any] = field(default_factory=dict)
    status_replicas: int = 0
    updated_replicas: int = 0
    ready_replicas: int = 0
    available_replicas: int = 0
    kind: str = "Deployment"


@dataclass(slots=True)
class Service:
    """core/v1 Service: a selector over pods and its ports."""

    meta: ObjectMeta
    selector: Selector
    ports: tuple[int, ...] = ()
    type: str = "ClusterIP"
    kind: str = "Service"


@dataclass(slots=True)
class PriorityClass:
    """scheduling.k8s.io/v1 PriorityClass (cluster-scoped)."""

    meta: ObjectMeta
    value: int
    global_default: bool = False
    preemption_policy: str = "PreemptLowerPriority"
    kind: str = "PriorityClass"


@dataclass(slots=True)
class PodDisruptionBudget:
    """policy/v1 PodDisruptionBudget: minAvailable or maxUnavailable over selected pods."""

    meta: ObjectMeta
    selector: Selector
    min_available: int | str | None = None
    max_unavailable: int | str | None = None
    kind: str = "PodDisruptionBudget"


@dataclass(slots=True)
class PodGroup:
    """scheduling.x-k8s.io/v1alpha1 PodGroup (coscheduling): all-or-nothing placement."""

    meta: ObjectMeta
    min_member: int
    schedule_timeout_seconds: float | None = None  # None: Coscheduling's permitWaitingTimeSeconds
    kind: str = "PodGroup"


def key_of(obj: Any) -> tuple[str, str, str]:
    """The store key (kind, namespace, name) of an object."""
    return (obj.kind, obj.meta.namespace, obj.meta.name)
