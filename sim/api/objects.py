"""API objects as the simulated API server stores them.

Models the subset of ``k8s.io/api`` (core/v1 Pod, Node, Service; apps/v1 ReplicaSet,
Deployment, StatefulSet, ControllerRevision; batch/v1 Job) that the control plane acts on.
Pods made from one template share a frozen ``PodSpec``, so 150,000 pods cost one spec per
template rather than one per pod.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sim.api.selectors import Selector

__all__ = [
    "ConfigRef",
    "Container",
    "ControllerRevision",
    "CronJob",
    "DaemonSet",
    "Deployment",
    "DeploymentCondition",
    "DeploymentStrategy",
    "HostPort",
    "FailureSpec",
    "Job",
    "JobCondition",
    "Node",
    "ObjectMeta",
    "OwnerReference",
    "PersistentVolumeClaim",
    "Pod",
    "PodSpec",
    "PodTemplate",
    "PodAffinity",
    "PodAffinityTerm",
    "PodDisruptionBudget",
    "PodFailurePolicyRule",
    "PodGroup",
    "PriorityClass",
    "Probe",
    "RendezvousSpec",
    "ReplicaSet",
    "Service",
    "StatefulSet",
    "StorageClass",
    "Taint",
    "Toleration",
    "TrainingSpec",
    "TopologySpreadConstraint",
    "WorkloadBehavior",
    "key_of",
]

# Pod phases (core/v1 PodPhase)
PENDING, RUNNING, SUCCEEDED, FAILED = "Pending", "Running", "Succeeded", "Failed"
SELECTED_NODE_ANNOTATION = "volume.kubernetes.io/selected-node"  # set by the scheduler


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
class HostPort:
    """A container port published on the node (ports[] with hostPort > 0)."""

    port: int
    protocol: str = "TCP"
    host_ip: str = ""

    @property
    def key(self) -> tuple[str, str, int]:
        """(host IP, protocol, port) with upstream's defaults: 0.0.0.0 (all addresses) and TCP."""
        return (self.host_ip or "0.0.0.0", self.protocol or "TCP", self.port)


@dataclass(frozen=True, slots=True)
class Container:
    """spec.containers[]: image, requests (scheduler units) and readiness probe."""

    name: str
    image: str
    requests: tuple[tuple[str, int], ...] = ()
    limits: tuple[tuple[str, int], ...] = ()
    image_pull_policy: str = "IfNotPresent"
    readiness_probe: Probe | None = None
    host_ports: tuple[HostPort, ...] = ()
    restart_policy: str = ""  # init containers only: "Always" makes a sidecar


@dataclass(frozen=True, slots=True)
class RendezvousSpec:
    """Distributed-training workers that start work only once ``world_size`` of them run.

    Workers are one job when they share a namespace and the value of label ``group_label``.
    """

    group_label: str
    world_size: int


@dataclass(frozen=True, slots=True)
class FailureSpec:
    """How the app exits non-zero: each run of its (first) container fails with ``probability``.

    A failing run exits with ``exit_code`` after ``after`` seconds of work; ``indexes``, if
    set, limits failures to pods of those Job completion indexes.
    """

    probability: float = 1.0
    exit_code: int = 1
    after: Any = None  # Dist
    indexes: frozenset[int] | None = None


@dataclass(frozen=True, slots=True)
class TrainingSpec:
    """A data-parallel training job's work: steps, per-step compute, gradient all-reduce and
    checkpoints every ``checkpoint_interval`` steps taking ``checkpoint_write`` seconds."""

    steps: int
    step_compute: Any  # Dist
    gradient_bytes: int
    checkpoint_interval: int
    checkpoint_write: Any  # Dist


@dataclass(frozen=True, slots=True)
class WorkloadBehavior:
    """What a manifest cannot say: image sizes and how long the app takes to start.

    ``by_image`` holds per-image overrides (a bad version that never becomes ready, a bigger
    image); ``for_images`` applies the first one matching a pod's images to the workload's base.
    """

    image_size: int | None = None
    container_start: Any = None  # Dist
    readiness: Any = None  # Dist: app warm-up before its readiness probe can pass
    run_duration: Any = None  # Dist or None: runs forever
    stop_time: Any = None  # Dist: SIGTERM to exit
    rendezvous: RendezvousSpec | None = None  # None: work starts when the container runs
    failure: FailureSpec | None = None  # None: the app never exits non-zero
    usage: Any = None  # WorkloadUsage (sim/workloads/usage.py): CPU and metrics it reports
    training: TrainingSpec | None = None  # with a rendezvous: the work is training steps
    never_ready: bool = False  # the readiness probe never passes (a broken version)
    by_image: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...] = ()  # (image, ((field, value), ...))
    base: WorkloadBehavior | None = None  # the workload's behaviour before an image override
    serving: Any = None  # ServingBehavior or None: what the pod's model server does with requests

    def for_images(self, images: tuple[str, ...]) -> WorkloadBehavior:
        """This workload's behaviour for a pod running ``images`` (first matching override wins)."""
        root = self.base or self
        for image, fields in root.by_image:
            if image in images:
                return replace(root, **dict(fields), base=root)
        return root


@dataclass(frozen=True, slots=True)
class ConfigRef:
    """A pod's use of a ConfigMap or Secret: env valueFrom (``key``), envFrom or a volume.

    ``keys`` are the keys a consumer needs (valueFrom's key, a volume's items); ``where`` names
    the consumer as events do (a container name, or a volume name).
    """

    kind: str  # ConfigMap | Secret
    name: str
    usage: str  # env | volume
    where: str
    keys: tuple[str, ...] = ()
    optional: bool = False


@dataclass(frozen=True, slots=True)
class TopologySpreadConstraint:
    """spec.topologySpreadConstraints[]: at most ``max_skew`` more matching pods in one domain.

    ``label_selector`` None is an unset selector (matches no pod); ``min_domains`` None counts
    as 1, and the inclusion policies None as upstream's defaults (affinity Honor, taints Ignore).
    """

    max_skew: int
    topology_key: str
    when_unsatisfiable: str  # DoNotSchedule (Filter) or ScheduleAnyway (Score)
    label_selector: Selector | None = None
    min_domains: int | None = None
    node_affinity_policy: str | None = None  # Honor | Ignore
    node_taints_policy: str | None = None  # Honor | Ignore
    match_label_keys: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PodAffinityTerm:
    """A podAffinityTerm: pods matching ``label_selector`` in the chosen namespaces, per topology domain.

    Namespaces default to the pod's own when both ``namespaces`` and ``namespace_selector`` are
    unset; a ``namespace_selector`` of ``Selector()`` means every namespace.
    """

    topology_key: str
    label_selector: Selector | None = None  # None: matches no pod
    namespaces: tuple[str, ...] = ()
    namespace_selector: Selector | None = None
    match_label_keys: tuple[str, ...] = ()
    mismatch_label_keys: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PodAffinity:
    """spec.affinity.podAffinity or podAntiAffinity: required terms and weighted preferred terms."""

    required: tuple[PodAffinityTerm, ...] = ()
    preferred: tuple[tuple[int, PodAffinityTerm], ...] = ()  # (weight 1..100, term)

    def __bool__(self) -> bool:
        return bool(self.required or self.preferred)


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
    topology_spread_constraints: tuple[TopologySpreadConstraint, ...] = ()
    pod_affinity: PodAffinity = PodAffinity()
    pod_anti_affinity: PodAffinity = PodAffinity()
    node_name: str = ""
    scheduler_name: str = "default-scheduler"
    priority: int = 0
    priority_class_name: str = ""
    preemption_policy: str = "PreemptLowerPriority"
    restart_policy: str = "Always"
    termination_grace_period_seconds: float = 30.0
    behavior: WorkloadBehavior = field(default_factory=WorkloadBehavior)
    persistent_volume_claims: tuple[str, ...] = ()  # spec.volumes[].persistentVolumeClaim.claimName
    config_refs: tuple[ConfigRef, ...] = ()  # ConfigMaps and Secrets in env, envFrom and volumes
    host_network: bool = False
    # Derived once (a spec is shared by its template's pods and read at every assume):
    host_ports: tuple[HostPort, ...] = field(init=False, repr=False, compare=False)
    """Ports the pod holds on its node: containers' and sidecars' (util.GetHostPorts)."""
    has_pod_affinity: bool = field(init=False, repr=False, compare=False)
    """Whether the pod has any pod affinity or anti-affinity term (NodeInfo.PodsWithAffinity)."""

    def __post_init__(self) -> None:
        sidecars = tuple(p for c in self.init_containers if c.restart_policy == "Always" for p in c.host_ports)
        object.__setattr__(self, "host_ports", sidecars + tuple(p for c in self.containers for p in c.host_ports))
        object.__setattr__(self, "has_pod_affinity", bool(self.pod_affinity) or bool(self.pod_anti_affinity))

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
    restart_count: int = 0  # containerStatuses[].restartCount, summed over containers
    exit_codes: tuple[tuple[str, int], ...] = ()  # (container, exitCode) of terminated containers
    finish_time: float | None = None  # latest containerStatuses[].state.terminated.finishedAt
    conditions: dict[str, str] = field(default_factory=dict)  # other conditions, e.g. DisruptionTarget
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
    """A node: allocatable resources, labels, taints and readiness.

    ``ready_status`` is the Ready condition's status: "True" or "False" as the kubelet
    posts it, "Unknown" once the node lifecycle controller has stopped hearing from it.
    """

    meta: ObjectMeta
    allocatable: dict[str, int]
    capacity: dict[str, int]
    taints: tuple[Taint, ...] = ()
    unschedulable: bool = False
    ready_status: str = "True"
    pool: str = ""
    price_per_hour: float = 0.0
    images: Mapping[str, int] = field(default_factory=dict)  # status.images: name -> sizeBytes
    kind: str = "Node"

    @property
    def ready(self) -> bool:
        """Ready condition is True."""
        return self.ready_status == "True"


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
    raw_template: dict[str, Any] = field(default_factory=dict)  # spec.template as written
    observed_generation: int = 0
    status_replicas: int = 0
    ready_replicas: int = 0
    available_replicas: int = 0
    kind: str = "ReplicaSet"


@dataclass(frozen=True, slots=True)
class DeploymentCondition:
    """status.conditions[] of a Deployment (Progressing, Available); times in simulated seconds."""

    type: str
    status: str  # "True", "False" or "Unknown"
    reason: str
    message: str = ""
    last_update_time: float = 0.0
    last_transition_time: float = 0.0


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
    observed_generation: int = 0
    status_replicas: int = 0
    updated_replicas: int = 0
    ready_replicas: int = 0
    available_replicas: int = 0
    unavailable_replicas: int = 0
    conditions: tuple[DeploymentCondition, ...] = ()
    kind: str = "Deployment"

    def condition(self, type_: str) -> DeploymentCondition | None:
        """The status condition of this type, if any."""
        return next((c for c in self.conditions if c.type == type_), None)


@dataclass(slots=True)
class StatefulSet:
    """apps/v1 StatefulSet: ordinal pods ``<name>-<i>``, each with its own claims."""

    meta: ObjectMeta
    replicas: int
    selector: Selector
    template: PodTemplate
    service_name: str = ""
    pod_management_policy: str = "OrderedReady"  # or Parallel
    update_strategy: str = "RollingUpdate"  # or OnDelete
    partition: int = 0
    min_ready_seconds: float = 0.0
    revision_history_limit: int = 10
    volume_claim_templates: tuple[PersistentVolumeClaim, ...] = ()  # one claim per pod from each
    raw_template: dict[str, Any] = field(default_factory=dict)
    observed_generation: int = 0
    status_replicas: int = 0
    ready_replicas: int = 0
    available_replicas: int = 0
    current_replicas: int = 0
    updated_replicas: int = 0
    current_revision: str = ""
    update_revision: str = ""
    kind: str = "StatefulSet"


@dataclass(slots=True)
class DaemonSet:
    """apps/v1 DaemonSet: one pod on every node its template can run on (and tolerates)."""

    meta: ObjectMeta
    selector: Selector
    template: PodTemplate
    update_strategy: str = "RollingUpdate"  # or OnDelete
    max_unavailable: int | str = 1  # an int or a percentage, of the nodes that should run a pod
    max_surge: int | str = 0
    min_ready_seconds: float = 0.0
    revision_history_limit: int = 10
    raw_template: dict[str, Any] = field(default_factory=dict)
    observed_generation: int = 0
    desired_number_scheduled: int = 0
    current_number_scheduled: int = 0
    number_misscheduled: int = 0
    number_ready: int = 0
    updated_number_scheduled: int = 0
    number_available: int = 0
    number_unavailable: int = 0
    kind: str = "DaemonSet"


@dataclass(slots=True)
class ControllerRevision:
    """apps/v1 ControllerRevision: one saved pod template of a StatefulSet, numbered."""

    meta: ObjectMeta
    revision: int
    template: PodTemplate
    raw_template: dict[str, Any] = field(default_factory=dict)
    kind: str = "ControllerRevision"


@dataclass(slots=True)
class Service:
    """core/v1 Service: a selector over pods and its ports."""

    meta: ObjectMeta
    selector: Selector
    ports: tuple[int, ...] = ()
    type: str = "ClusterIP"
    publish_not_ready_addresses: bool = False
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
    """policy/v1 PodDisruptionBudget: minAvailable or maxUnavailable over selected pods.

    The status is the disruption controller's (sim/controllers/disruption.py); the Eviction API
    reads it and records each approved eviction in ``disrupted_pods`` (pod name -> time).
    """

    meta: ObjectMeta
    selector: Selector
    min_available: int | str | None = None
    max_unavailable: int | str | None = None
    unhealthy_pod_eviction_policy: str | None = None  # None: IfHealthyBudget
    current_healthy: int = 0
    desired_healthy: int = 0
    expected_pods: int = 0
    disruptions_allowed: int = 0
    disrupted_pods: dict[str, float] = field(default_factory=dict)
    observed_generation: int = 0
    kind: str = "PodDisruptionBudget"


@dataclass(slots=True)
class PodGroup:
    """scheduling.x-k8s.io/v1alpha1 PodGroup (coscheduling): all-or-nothing placement."""

    meta: ObjectMeta
    min_member: int
    schedule_timeout_seconds: float | None = None  # None: Coscheduling's permitWaitingTimeSeconds
    kind: str = "PodGroup"


@dataclass(slots=True)
class StorageClass:
    """storage.k8s.io/v1 StorageClass (cluster-scoped): who provisions volumes, when and where.

    ``allowed_topologies`` are ORed terms of ``In`` requirements on node labels; empty allows
    every node. The ``storageclass.kubernetes.io/is-default-class`` annotation marks the default.
    """

    meta: ObjectMeta
    provisioner: str
    volume_binding_mode: str = "Immediate"  # or WaitForFirstConsumer
    allowed_topologies: tuple[Selector, ...] = ()
    reclaim_policy: str = "Delete"
    kind: str = "StorageClass"

    @property
    def is_default(self) -> bool:
        """Marked as the cluster's default class."""
        return self.meta.annotations.get("storageclass.kubernetes.io/is-default-class") == "true"


@dataclass(slots=True)
class PersistentVolumeClaim:
    """core/v1 PersistentVolumeClaim, with the dynamically provisioned volume folded in.

    kubesim does not model PersistentVolume objects: once provisioned, ``volume_name`` names
    the volume and ``zone`` is where it lives (the PV's zone label and node affinity; "" for a
    volume reachable from every node). ``storage_class_name`` None is an unset class (the
    default class is assigned later), "" an explicit "no class".
    """

    meta: ObjectMeta
    storage_class_name: str | None = None
    storage: int = 0  # spec.resources.requests.storage, bytes
    access_modes: tuple[str, ...] = ("ReadWriteOnce",)
    phase: str = "Pending"  # status.phase: Pending, Bound
    volume_name: str = ""  # spec.volumeName once bound
    zone: str = ""
    kind: str = "PersistentVolumeClaim"

    @property
    def selected_node(self) -> str:
        """The scheduler's volume.kubernetes.io/selected-node annotation (WaitForFirstConsumer)."""
        return self.meta.annotations.get(SELECTED_NODE_ANNOTATION, "")


@dataclass(frozen=True, slots=True)
class PodFailurePolicyRule:
    """spec.podFailurePolicy.rules[]: onExitCodes (operator In/NotIn) or onPodConditions."""

    action: str  # FailJob | FailIndex | Ignore | Count
    exit_codes_operator: str = ""  # In | NotIn; "" when the rule matches pod conditions
    exit_codes: tuple[int, ...] = ()
    container_name: str = ""  # "" = any container
    on_pod_conditions: tuple[tuple[str, str], ...] = ()  # (type, status)


@dataclass(frozen=True, slots=True)
class JobCondition:
    """status.conditions[] of a Job (all conditions the controller sets are status True)."""

    type: str  # Complete | Failed | SuccessCriteriaMet | FailureTarget
    reason: str
    message: str
    last_transition_time: float
    status: str = "True"


@dataclass(slots=True)
class Job:
    """batch/v1 Job: spec with upstream defaults, and its status."""

    meta: ObjectMeta
    template: PodTemplate
    parallelism: int = 1
    completions: int | None = 1  # None: work-queue mode
    completion_mode: str = "NonIndexed"  # or Indexed
    backoff_limit: int = 6
    backoff_limit_per_index: int | None = None
    max_failed_indexes: int | None = None
    active_deadline_seconds: float | None = None
    ttl_seconds_after_finished: float | None = None
    pod_failure_policy: tuple[PodFailurePolicyRule, ...] | None = None
    pod_replacement_policy: str = "TerminatingOrFailed"  # Failed when podFailurePolicy is set
    suspend: bool = False
    start_time: float | None = None
    completion_time: float | None = None
    active: int = 0
    ready: int = 0
    terminating: int = 0
    succeeded: int = 0
    failed: int = 0
    completed_indexes: str = ""
    failed_indexes: str | None = None
    conditions: tuple[JobCondition, ...] = ()
    kind: str = "Job"

    def condition(self, type_: str) -> JobCondition | None:
        """The condition of this type, if the Job has it."""
        return next((c for c in self.conditions if c.type == type_), None)

    @property
    def finished(self) -> bool:
        """Complete or Failed (``IsJobFinished``)."""
        return any(c.type in ("Complete", "Failed") and c.status == "True" for c in self.conditions)


@dataclass(slots=True)
class CronJob:
    """batch/v1 CronJob: a schedule that creates Jobs from ``job_template``, and its status.

    ``job_template`` is a Job whose ``meta`` holds the template's labels and annotations;
    each run is a copy with its own metadata. Times (``last_schedule_time``...) are seconds
    of simulated time, like every timestamp here."""

    meta: ObjectMeta
    schedule: str
    job_template: Job
    time_zone: str | None = None
    starting_deadline_seconds: int | None = None
    concurrency_policy: str = "Allow"  # or Forbid, Replace
    suspend: bool = False
    successful_jobs_history_limit: int = 3
    failed_jobs_history_limit: int = 1
    active: tuple[tuple[str, int], ...] = ()  # (name, uid) of the Jobs running, in creation order
    last_schedule_time: float | None = None
    last_successful_time: float | None = None
    kind: str = "CronJob"


def key_of(obj: Any) -> tuple[str, str, str]:
    """The store key (kind, namespace, name) of an object."""
    return (obj.kind, obj.meta.namespace, obj.meta.name)
