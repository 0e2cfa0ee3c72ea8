"""Scenario files: load, override, validate -> a frozen, typed ``Scenario``.

A scenario is the KEP-140 shape: a cluster (node pools), the control plane's parameters,
workloads written as real Kubernetes manifests, a timeline of actions and the outputs
wanted. Every problem is reported at load time as ``file:line: field: what was expected``.
"""

from __future__ import annotations

import copy
import difflib
import types
import typing
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from sim.api.batch import JOB_NAME_LABEL  # set by the Job controller on its pods
from sim.api.manifests import parse_manifest
from sim.api.objects import (
    CronJob,
    DaemonSet,
    Deployment,
    FailureSpec,
    Job,
    Pod,
    RendezvousSpec,
    ReplicaSet,
    Service,
    StatefulSet,
    TrainingSpec,
    WorkloadBehavior,
    key_of,
)
from sim.api.quantity import QuantityError, resource_value
from sim.config import ControlPlane, Model
from sim.distributions import ByteSize, Dist, Duration
from sim.faults import (
    ApiServerRestartAction,
    EtcdLeaderLossAction,
    EtcdSlowDiskAction,
    NodeCrashAction,
    NodeRecoverAction,
    PartitionAction,
    RegistryOutageAction,
    RegistrySlowdownAction,
    ZoneOutageAction,
    fault_problem,
)
from sim.overrides import (
    ManifestOverride,
    apply_manifest_overrides,
    apply_override,
    parse_override,
    split_overrides,
)
from sim.workloads.spec import ServingBehavior, ServingConfig, TrafficSource
from sim.workloads.usage import Load, Profile, WorkloadUsage, external_metric_conflict
from sim.yamlio import Located, SourceError, load_documents, load_text

__all__ = [
    "ACTIONS",
    "Behavior",
    "Failure",
    "ImageBehavior",
    "NodeGroupBounds",
    "NodePool",
    "Outputs",
    "Scenario",
    "ScenarioError",
    "Workload",
    "load_scenario",
    "parse_override",
]

ScenarioError = SourceError
PLOTS = ("timeline", "pods", "allocation", "controlplane", "serving")


def _check_quantity(value: str | int | float) -> str | int | float:
    """One resource amount; checked per key so an error names e.g. ``capacity.cpu``."""
    try:
        resource_value("", value)  # validity does not depend on the resource's name
    except QuantityError as exc:
        raise ValueError(str(exc)) from None
    return value


Quantity = Annotated[str | int | float, AfterValidator(_check_quantity)]


class TaintSpec(Model):
    """A node taint, as in ``kubectl taint``."""

    key: str
    value: str = ""
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]


class NodeGroupBounds(Model):
    """cluster-autoscaler node group size bounds (``--nodes=min:max:pool``)."""

    min: int = Field(ge=0)
    max: int = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> NodeGroupBounds:
        if self.max < self.min:
            raise ValueError(f"max ({self.max}) is below min ({self.min})")
        return self


class NodePool(Model):
    """A group of identical nodes: ``count`` nodes named ``<name>-<i>``."""

    name: str = Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    count: int = Field(ge=0)
    capacity: dict[str, Quantity] = Field(
        description="cpu, memory, pods and extended resources such as nvidia.com/gpu."
    )
    allocatable: dict[str, Quantity] | None = Field(
        None, description="Defaults to capacity (no system reservations)."
    )
    labels: dict[str, str] = Field(default_factory=dict)
    taints: list[TaintSpec] = Field(default_factory=list)
    zones: list[str] = Field(
        default_factory=list, description="Nodes spread round-robin; sets topology.kubernetes.io/zone."
    )
    price_per_hour: float = Field(0.0, ge=0, description="Price of one node-hour.")
    images: list[str] | dict[str, ByteSize] = Field(
        default_factory=list,
        description="Images already on every node: names (each of the kubelet's defaultImageSize) "
        "or a mapping of name to size, e.g. {\"vllm/vllm-openai:v0.6.3\": 8Gi}.",
    )

    autoscaling: NodeGroupBounds | None = Field(
        None, description="A cluster-autoscaler node group: {min, max}; count is its initial size.")

    @model_validator(mode="after")
    def _count_within_bounds(self) -> NodePool:
        bounds = self.autoscaling
        if bounds is not None and not bounds.min <= self.count <= bounds.max:
            raise ValueError(f"count {self.count} is outside autoscaling bounds [{bounds.min}, {bounds.max}]")
        return self

    @field_validator("capacity")
    @classmethod
    def _needs_cpu_memory(cls, value: dict[str, Any]) -> dict[str, Any]:
        missing = [r for r in ("cpu", "memory") if r not in value]
        if missing:
            raise ValueError(f"capacity needs {' and '.join(missing)}")
        return value


class Rendezvous(Model):
    """Distributed training: workers block at rendezvous (like torch.distributed init) until
    ``worldSize`` workers of their job are Running; only then does ``runDuration`` start."""

    group_label: str = Field(JOB_NAME_LABEL, description="Label whose value names the job of a worker.")
    world_size: int = Field(ge=1, description="Workers of one job that must all be running.")


class Failure(Model):
    """The app exits non-zero: each run (a pod's container start, or restart) fails with
    ``probability``, after working for ``after``; a pod with restartPolicy Never then ends
    Failed, OnFailure and Always restart the container with CrashLoopBackOff."""

    probability: float = Field(1.0, ge=0, le=1, description="Chance that one run fails (1: every run).")
    exit_code: int = Field(1, ge=1, le=255, description="The failing container's exit code.")
    after: Dist = Field(
        default_factory=lambda: Dist(dist="constant", value=0),
        description="Work before the crash, from when the app starts working (after rendezvous).",
    )
    indexes: list[int] | None = Field(
        None, description="Only pods with these Job completion indexes fail (default: every pod)."
    )

    def to_object(self) -> FailureSpec:
        """The frozen form carried by pod specs."""
        return FailureSpec(self.probability, self.exit_code, self.after,
                           None if self.indexes is None else frozenset(self.indexes))


class Training(Model):
    """The work of a distributed training job (needs ``rendezvous``): ``steps`` synchronous
    steps of ``stepCompute`` plus a ring all-reduce of ``gradientSize`` over the job's
    placement, and a checkpoint every ``checkpointInterval`` steps."""

    steps: int = Field(ge=1)
    step_compute: Dist = Field(description="GPU compute per step on a node of relative speed 1.")
    gradient_size: ByteSize = Field(description="Bytes all-reduced per step (e.g. 2 x parameters in bf16).")
    checkpoint_interval: int = Field(0, ge=0, description="Steps between checkpoints; 0 = never.")
    checkpoint_write: Dist = Field(default_factory=lambda: Dist(dist="constant", value="30s"))


class ImageBehavior(Model):
    """How pods running one image differ from the workload's behaviour (e.g. a broken version)."""

    image_size: ByteSize | None = Field(None, description="Bytes to pull for this image.")
    container_start: Dist | None = Field(None, description="CreateContainer + StartContainer.")
    readiness: Dist | None = Field(None, description="App warm-up before a readiness probe can pass.")
    never_ready: bool = Field(False, description="The readiness probe never passes (a bad version).")

    def overrides(self) -> tuple[tuple[str, Any], ...]:
        """(WorkloadBehavior field, value) for every field this image sets."""
        pairs = (("image_size", self.image_size), ("container_start", self.container_start),
                 ("readiness", self.readiness), ("never_ready", self.never_ready or None))
        return tuple((name, value) for name, value in pairs if value is not None)


class Behavior(Model):
    """Per-workload behaviour that a manifest cannot express."""

    image_size: ByteSize | None = Field(None, description="Bytes to pull per image (default: kubelet's).")
    container_start: Dist = Field(
        default_factory=lambda: Dist(dist="lognormal", median="500ms", p99="2s"),
        description="CreateContainer + StartContainer in the runtime.",
    )
    readiness: Dist = Field(
        default_factory=lambda: Dist(dist="constant", value=0),
        description="App warm-up after start before a readiness probe can pass (e.g. model load).",
    )
    run_duration: Dist | None = Field(None, description="Pods exit after this (Jobs); default: run forever.")
    stop_time: Dist = Field(
        default_factory=lambda: Dist(dist="constant", value="500ms"),
        description="SIGTERM to exit; capped by terminationGracePeriodSeconds.",
    )
    rendezvous: Rendezvous | None = Field(None, description="Training workers wait for their peers.")
    failure: Failure | None = Field(None, description="The app exits non-zero (default: never).")
    cpu_usage: Load | None = Field(None, description="CPU its pods use, in cores (what metrics-server "
                                   "measures), e.g. {total: 2} or {perPod: 300m}.")
    pod_metrics: dict[str, Load] = Field(
        default_factory=dict, description="Custom per-pod metrics (HPA type Pods), by name.")
    external_metrics: dict[str, Profile] = Field(
        default_factory=dict, description="External metrics (HPA type External), by name.")
    training: Training | None = Field(None, description="Training steps and checkpoints (with rendezvous).")
    images: dict[str, ImageBehavior] = Field(
        default_factory=dict, description="Per-image overrides, keyed by the full image name (e.g. a "
        "version whose pods never become ready); the first image of a pod that has one applies.")
    serving: ServingBehavior | None = Field(None, description="A model server: what it does with requests.")

    @model_validator(mode="after")
    def _training_needs_rendezvous(self) -> Behavior:
        if self.training is not None and self.rendezvous is None:
            raise ValueError("training needs rendezvous (the job's workers and its world size)")
        return self

    def to_object(self, workload: str = "") -> WorkloadBehavior:
        """The frozen form carried by pod specs."""
        rdzv, tr = self.rendezvous, self.training
        training = None if tr is None else TrainingSpec(tr.steps, tr.step_compute, tr.gradient_size,
                                                        tr.checkpoint_interval, tr.checkpoint_write)
        return WorkloadBehavior(self.image_size, self.container_start, self.readiness,
                                self.run_duration, self.stop_time,
                                None if rdzv is None else RendezvousSpec(rdzv.group_label, rdzv.world_size),
                                None if self.failure is None else self.failure.to_object(),
                                WorkloadUsage.of(workload, self.cpu_usage, self.pod_metrics,
                                                 self.external_metrics),
                                training,
                                by_image=tuple((image, b.overrides()) for image, b in self.images.items()),
                                serving=self.serving)


class Workload(Model):
    """A named set of manifests (files relative to the scenario, or inline) applied at ``at``."""

    name: str
    manifests: list[str | dict[str, Any]] = Field(min_length=1)
    namespace: str = "default"
    at: Duration = 0.0
    behavior: Behavior = Field(default_factory=Behavior)


class _Action(Model):
    at: Duration
    target: str = Field(description="kind/name, e.g. deployment/model-server.")
    namespace: str = "default"

    @field_validator("target")
    @classmethod
    def _kind_name(cls, value: str) -> str:
        if value.count("/") != 1 or not all(value.split("/")):
            raise ValueError(f"expected kind/name such as deployment/model-server, got {value!r}")
        return value

    @property
    def target_key(self) -> tuple[str, str, str]:
        """(Kind, namespace, name) with the kind capitalised as the API spells it."""
        kind, name = self.target.split("/")
        return (_KIND_NAMES.get(kind.lower(), kind), self.namespace, name)


_KIND_NAMES = {"pod": "Pod", "deployment": "Deployment", "replicaset": "ReplicaSet",
               "service": "Service", "deploy": "Deployment", "rs": "ReplicaSet", "svc": "Service",
               "persistentvolumeclaim": "PersistentVolumeClaim", "pvc": "PersistentVolumeClaim",
               "job": "Job", "cronjob": "CronJob", "cj": "CronJob",
               "horizontalpodautoscaler": "HorizontalPodAutoscaler", "hpa": "HorizontalPodAutoscaler",
               "statefulset": "StatefulSet", "sts": "StatefulSet", "daemonset": "DaemonSet", "ds": "DaemonSet",
               "configmap": "ConfigMap", "cm": "ConfigMap", "secret": "Secret",
               "node": "Node", "no": "Node", "nodepool": "NodePool"}
_NODE_KINDS = ("Node", "NodePool")  # cluster-scoped targets of cordon, uncordon and drain


class ScaleAction(_Action):
    """Set spec.replicas of a Deployment, ReplicaSet or StatefulSet (``kubectl scale``)."""

    action: Literal["scale"]
    replicas: int = Field(ge=0)


class SetImageAction(_Action):
    """Change a container image of a Deployment, StatefulSet or DaemonSet (``kubectl set image``), starting a
    rollout."""

    action: Literal["setImage"]
    image: str
    container: str | None = Field(None, description="Default: the first container.")


class DeleteAction(_Action):
    """Delete an object (``kubectl delete``); pods terminate gracefully."""

    action: Literal["delete"]


class RollbackAction(_Action):
    """Roll a Deployment back (``kubectl rollout undo``): to the previous revision, or to ``toRevision``."""

    action: Literal["rollback"]
    to_revision: int | None = Field(None, ge=1, description="Default: the previous revision.")


class PauseAction(_Action):
    """Pause a Deployment's rollout (``kubectl rollout pause``); scaling still applies."""

    action: Literal["pause"]


class ResumeAction(_Action):
    """Resume a paused Deployment's rollout (``kubectl rollout resume``)."""

    action: Literal["resume"]


class PatchAction(_Action):
    """Merge-patch an object (``kubectl patch --type merge``): a Deployment's replicas, paused
    or template (e.g. a ``checksum/config`` annotation, which rolls it out), or a ConfigMap's
    or Secret's data."""

    action: Literal["patch"]
    patch: dict[str, Any] = Field(description="A JSON merge patch, e.g. {data: {mode: fast}}.")


class _NodeAction(_Action):
    target: str = Field(description="node/<name>, or nodepool/<pool> for each node of a pool in turn.")

    @property
    def target_key(self) -> tuple[str, str, str]:
        """Nodes are cluster-scoped: no namespace."""
        kind, _, name = super().target_key
        return (kind, "", name)


class CordonAction(_NodeAction):
    """Mark nodes unschedulable (``kubectl cordon``)."""

    action: Literal["cordon"]


class UncordonAction(_NodeAction):
    """Mark nodes schedulable again (``kubectl uncordon``)."""

    action: Literal["uncordon"]


class DrainAction(_NodeAction):
    """``kubectl drain``: cordon, then evict every pod, retrying refused evictions every 5s.

    A nodepool target drains its nodes one after another, each once the previous is drained
    (and uncordoned again after ``uncordonAfter``, if set: a rolling node maintenance)."""

    action: Literal["drain"]
    timeout: Duration = Field(0.0, description="--timeout: give up after this long (0: wait forever).")
    grace_period: int | None = Field(None, ge=0, description="--grace-period (default: each pod's own).")
    force: bool = Field(False, description="--force: also delete pods that have no controller.")
    ignore_daemon_sets: bool = Field(False, description="--ignore-daemonsets: leave DaemonSet pods in place "
                                     "(without it, a node running one cannot be drained).")
    uncordon_after: Duration | None = Field(
        None, description="Uncordon each node this long after it is drained (default: stay cordoned).")


Action = Annotated[ScaleAction | SetImageAction | DeleteAction | RollbackAction | PauseAction | ResumeAction
                   | PatchAction | CordonAction | UncordonAction | DrainAction
                   | NodeCrashAction | NodeRecoverAction | ZoneOutageAction | PartitionAction | EtcdLeaderLossAction
                   | EtcdSlowDiskAction | ApiServerRestartAction | RegistrySlowdownAction | RegistryOutageAction,
                   Field(discriminator="action")]
ACTIONS = ("scale", "setImage", "delete", "rollback", "pause", "resume", "patch", "cordon", "uncordon", "drain",
           "nodeCrash", "nodeRecover", "zoneOutage", "partition", "etcdLeaderLoss", "etcdSlowDisk",
           "apiServerRestart", "registrySlowdown", "registryOutage")
DEPLOYMENT_ACTIONS = (RollbackAction, PauseAction, ResumeAction)


class Outputs(Model):
    """What a run writes besides the trace and summary."""

    metrics: list[str] | None = Field(
        None, description="Summary figures shown in the report and terminal table (default: the standard set).")
    plots: list[Literal["timeline", "pods", "allocation", "controlplane", "serving"]] = Field(
        default_factory=lambda: list(PLOTS))
    sample_interval: Duration | None = Field(None, description="Time-series step; default: duration/600, >= 1s.")
    timeline_pods: int = Field(40, ge=1, description="At most this many pods in the lifecycle plot.")
    decisions: bool = Field(True, description="Record the scheduler's per-pod decisions (for kubesim explain).")

    @field_validator("metrics")
    @classmethod
    def _known_metrics(cls, value: list[str] | None) -> list[str] | None:
        from sim.metrics import METRICS

        for name in value or []:
            if name not in METRICS:
                close = difflib.get_close_matches(name, list(METRICS), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise ValueError(f"unknown metric {name!r}{hint}")
        return value


class NetworkModel(Model):
    """Links of the data-centre network (Gbit/s) and their latencies, for all-reduce costs."""

    nvlink_gbps: float = Field(2400.0, gt=0, description="GPU-to-GPU inside a node (NVLink).")
    node_gbps: float = Field(200.0, gt=0, description="Each node's NIC.")
    rack_uplink_gbps: float = Field(1600.0, gt=0, description="Top-of-rack switch to the zone spine.")
    zone_gbps: float = Field(100.0, gt=0, description="Between zones.")
    nodes_per_rack: int = Field(16, ge=1)
    nvlink_latency: Duration = 2e-6
    node_latency: Duration = 5e-6
    rack_latency: Duration = 10e-6
    zone_latency: Duration = 500e-6


class Cluster(Model):
    """The nodes and the network between them."""

    node_pools: list[NodePool] = Field(min_length=1)
    network: NetworkModel = Field(default_factory=NetworkModel)


def _whole_second_utc(value: datetime) -> datetime:
    """A start time in whole seconds, UTC when it names no offset."""
    value = value.replace(microsecond=0)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


StartTime = Annotated[datetime, AfterValidator(_whole_second_utc)]
DEFAULT_START_TIME = datetime(2026, 1, 1, tzinfo=UTC)


class Scenario(Model):
    """A whole scenario file, validated."""

    name: str
    description: str = ""
    seed: int = Field(0, ge=0)
    duration: Duration
    start_time: StartTime = Field(
        DEFAULT_START_TIME, description="The wall-clock time of simulated t = 0 (RFC 3339, whole seconds; UTC "
        "without an offset), which CronJob schedules are read against. Default 2026-01-01T00:00:00Z (a Thursday).")
    cluster: Cluster
    control_plane: ControlPlane = Field(default_factory=ControlPlane)
    workloads: list[Workload] = Field(default_factory=list)
    timeline: list[Action] = Field(default_factory=list)
    traffic: list[TrafficSource] = Field(default_factory=list, description="Requests sent to Services.")
    serving: ServingConfig = Field(default_factory=ServingConfig)
    outputs: Outputs = Field(default_factory=Outputs)

    _objects: list[tuple[float, Pod | ReplicaSet | Deployment | Service | Job]] = PrivateAttr(default_factory=list)
    _source: str = PrivateAttr(default="<memory>")
    _base_dir: Path = PrivateAttr(default_factory=Path)
    _origins: dict[tuple[str, str, str], tuple[Located, tuple[Any, ...]]] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _unique_names(self) -> Scenario:
        for label, names in (("node pool", [p.name for p in self.cluster.node_pools]),
                             ("workload", [w.name for w in self.workloads]),
                             ("traffic source", [t.name for t in self.traffic])):
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValueError(f"duplicate {label} name {dupes[0]!r}")
        return self

    @property
    def objects(self) -> list[tuple[float, Pod | ReplicaSet | Deployment | Service | Job]]:
        """(apply time, object) for every manifest of every workload, in file order."""
        return self._objects

    def manifests(self) -> list[tuple[float, str, dict[str, Any]]]:
        """(apply time, namespace, manifest) for every object, in ``objects`` order.

        The manifests are copies of the mappings the YAML loader read (``--set`` overrides
        included), for tools that send them to a real API server (``labs.replay``)."""
        out = []
        for at, obj in self._objects:
            doc, base = self._origins[key_of(obj)]
            data = doc.data
            for part in base:
                data = data[part]
            out.append((at, obj.meta.namespace, copy.deepcopy(data)))
        return out

    @property
    def source(self) -> str:
        """The file this scenario came from."""
        return self._source

    @property
    def base_dir(self) -> Path:
        """The folder relative file names in the scenario (manifests, traces) start from."""
        return self._base_dir

    @property
    def node_count(self) -> int:
        """Total nodes over all pools."""
        return sum(p.count for p in self.cluster.node_pools)


# ---------------------------------------------------------------------------- errors

def _unwrap(annotation: Any) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (list, tuple):
        return _unwrap(typing.get_args(annotation)[0])
    if origin is dict:  # a mapping of names to models (behavior.images): the value's fields
        return _unwrap(typing.get_args(annotation)[1])
    if origin in (Union, types.UnionType):
        return [m for arg in typing.get_args(annotation) for m in _unwrap(arg)]
    return [annotation]


def _fields_at(loc: tuple[Any, ...]) -> list[str]:
    """Field names (camelCase) valid at the mapping that holds ``loc[-1]``."""
    models: list[Any] = [Scenario]
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        nxt: list[Any] = []
        for model in models:
            if isinstance(model, type) and issubclass(model, BaseModel):
                for name, info in model.model_fields.items():
                    if part in (name, info.alias):
                        nxt += _unwrap(info.annotation)
        models = nxt or models
    names: list[str] = []
    for model in models:
        if isinstance(model, type) and issubclass(model, BaseModel):
            names += [info.alias or name for name, info in model.model_fields.items()]
    return sorted(set(names))


def _data_path(data: Any, loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """The part of a pydantic ``loc`` that names real keys (drops union tags)."""
    path: list[Any] = []
    node = data
    for part in loc:
        in_dict = isinstance(node, dict) and part in node
        if in_dict or (isinstance(node, list) and isinstance(part, int) and part < len(node)):
            path.append(part)
            node = node[part]
    return tuple(path)


def _first_error(errors: list[Any]) -> dict[str, Any]:
    """The error to report; a missing field spelled wrongly is reported at the misspelling."""
    first = errors[0]
    if first["type"] == "missing":
        parent, wanted = tuple(first["loc"][:-1]), str(first["loc"][-1])
        for error in errors:
            loc = tuple(error["loc"])
            if (error["type"] == "extra_forbidden" and loc[:-1] == parent
                    and difflib.get_close_matches(str(loc[-1]), [wanted], n=1)):
                return error
    return first


def _unique_names_located(doc: Located) -> None:
    """``Scenario._unique_names``, but raising at the line of the second name."""
    data = doc.data
    cluster = data.get("cluster")
    pools = cluster.get("nodePools") if isinstance(cluster, dict) else None
    for label, where, items in (("node pool", ("cluster", "nodePools"), pools),
                                ("workload", ("workloads",), data.get("workloads"))):
        first: dict[str, int] = {}
        for i, item in enumerate(items if isinstance(items, list) else []):
            name = item.get("name") if isinstance(item, dict) else None
            if not isinstance(name, str):
                continue
            if name in first:
                line = doc.line_of((*where, first[name], "name"))
                raise doc.error((*where, i, "name"),
                                f"duplicate {label} name {name!r} (first used at line {line})")
            first[name] = i


def _validate(doc: Located) -> Scenario:
    try:
        return Scenario.model_validate(doc.data)
    except ValidationError as exc:
        _unique_names_located(doc)
        raise _explain(_first_error(exc.errors()), doc) from None


def _explain(error: dict[str, Any], doc: Located) -> SourceError:
    loc = tuple(error["loc"])
    path = _data_path(doc.data, loc)
    kind, msg = error["type"], error["msg"]
    if kind == "extra_forbidden":
        bad = str(loc[-1])
        close = difflib.get_close_matches(bad, _fields_at(loc), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return doc.error(path, f"unknown field {bad!r}{hint}")
    if kind == "missing":
        return doc.error(path, f"required field {str(loc[-1])!r} is missing")
    ctx = error.get("ctx") or {}
    field = str(ctx.get("discriminator", "'action'")).strip("'")
    if kind == "union_tag_invalid" and field == "action":
        return doc.error(path, f"unknown action; expected one of {', '.join(ACTIONS)}")
    if kind == "union_tag_invalid":
        return doc.error(path, f"unknown {field} {ctx.get('tag')!r}; expected one of "
                               f"{str(ctx.get('expected_tags', '')).replace(chr(39), '')}")
    if kind == "union_tag_not_found" and field == "action":
        return doc.error(path, f"missing 'action'; expected one of {', '.join(ACTIONS)}")
    if kind == "union_tag_not_found":
        return doc.error(path, f"missing {field!r}")
    msg = msg.removeprefix("Value error, ")
    got = error.get("input")
    if kind not in ("value_error",) and not isinstance(got, dict | list):
        msg += f", got {got!r}"
    return doc.error(path, msg)


# ---------------------------------------------------------------------------- loading

def load_scenario(path: str | Path, overrides: list[str] | None = None) -> Scenario:
    """Read, override and validate a scenario file and its manifests.

    Raises:
        SourceError: naming the file, line and field of the first problem found.
    """
    path = Path(path)
    docs = load_documents(path)
    if len(docs) != 1 or not isinstance(docs[0].data, dict):
        raise SourceError("a scenario file holds exactly one YAML mapping", str(path),
                          docs[1].first_line if len(docs) > 1 else 1)
    doc = docs[0]
    plain, inside_manifests = split_overrides(doc, overrides or [])
    for parts, value, text in plain:
        apply_override(doc, parts, value, text)
    scenario = _validate(doc)
    scenario._source = str(path)
    scenario._base_dir = path.parent
    scenario._objects = _load_objects(scenario, doc, path.parent, inside_manifests)
    _check_references(scenario, doc)
    return scenario


def scenario_from_text(text: str, name: str = "<text>", base_dir: Path | None = None) -> Scenario:
    """Validate a scenario given as YAML text (notebooks, tests)."""
    docs = load_text(text, name)
    if len(docs) != 1 or not isinstance(docs[0].data, dict):
        raise SourceError("a scenario holds exactly one YAML mapping", name)
    scenario = _validate(docs[0])
    scenario._source = name
    scenario._base_dir = base_dir or Path.cwd()
    scenario._objects = _load_objects(scenario, docs[0], scenario._base_dir)
    _check_references(scenario, docs[0])
    return scenario


def _load_objects(scenario: Scenario, doc: Located, base_dir: Path,
                  overrides: list[ManifestOverride] | None = None) -> list[tuple[float, Any]]:
    sources = _manifest_sources(scenario, doc, base_dir)
    apply_manifest_overrides(overrides or [], [(scenario.workloads[wi].name, m, b) for wi, m, b in sources], doc)
    objects: list[tuple[float, Any]] = []
    seen: dict[tuple[str, str, str], str] = {}
    behaviors = [w.behavior.to_object(w.name) for w in scenario.workloads]
    for wi, mdoc, base in sources:
        workload = scenario.workloads[wi]
        obj = parse_manifest(mdoc, workload.namespace, behaviors[wi], base)
        key = key_of(obj)
        here = f"{mdoc.file}:{mdoc.line_of(base)}"
        if key in seen:
            raise mdoc.error((*base, "metadata", "name"),
                             f"duplicate {key[0]} {key[1]}/{key[2]} (first defined at {seen[key]})")
        seen[key] = here
        scenario._origins[key] = (mdoc, base)
        objects.append((workload.at, obj))
    return objects


def _manifest_sources(scenario: Scenario, doc: Located, base_dir: Path) -> list[tuple[int, Located, tuple[Any, ...]]]:
    """(workload index, document, path of the manifest in it) for every manifest, in file order."""
    sources: list[tuple[int, Located, tuple[Any, ...]]] = []
    for wi, workload in enumerate(scenario.workloads):
        for mi, ref in enumerate(workload.manifests):
            where = ("workloads", wi, "manifests", mi)
            if isinstance(ref, str):
                file = base_dir / ref
                if not file.is_file():
                    raise doc.error(where, f"manifest file {ref!r} not found (looked in {base_dir})")
                sources += [(wi, d, ()) for d in load_documents(file, str(file)) if d.data is not None]
            else:
                sources.append((wi, doc, where))
    return sources


def _check_references(scenario: Scenario, doc: Located) -> None:
    from sim.controllers.job import job_labels
    from sim.workloads.references import serving_reference_problem
    from sim.workloads.training import rendezvous_label_problem

    conflict = external_metric_conflict(scenario)
    if conflict is not None:
        raise doc.error(*conflict)
    by_key = {key_of(obj): obj for _, obj in scenario.objects}
    for _, obj in scenario.objects:
        problem = rendezvous_label_problem(obj)
        if problem is not None:
            mdoc, base = scenario._origins[key_of(obj)]
            raise mdoc.error((*base, *problem[0]), problem[1])
    templates = [dict(o.template.labels) for _, o in scenario.objects
                 if isinstance(o, Deployment | ReplicaSet | StatefulSet | DaemonSet)]
    templates += [{**dict(o.template.labels), **job_labels(o)} for _, o in scenario.objects if isinstance(o, Job)]
    templates += [o.meta.labels for _, o in scenario.objects if isinstance(o, Pod)]
    templates += [dict(o.job_template.template.labels) for _, o in scenario.objects if isinstance(o, CronJob)]
    for _, obj in scenario.objects:
        if isinstance(obj, Service) and not obj.selector.empty \
                and not any(obj.selector.matches(labels) for labels in templates):
            mdoc, base = scenario._origins[key_of(obj)]
            raise mdoc.error((*base, "spec", "selector"),
                             f"Service {obj.meta.name!r} selector {obj.selector} "
                             "matches no pod of the scenario")
    for i, action in enumerate(scenario.timeline):
        if not isinstance(action, _Action):
            problem = fault_problem(action, scenario)
            if problem is not None:
                raise doc.error(("timeline", i, problem[0]), problem[1])
            _check_action_time(scenario, doc, i)
            continue
        where = ("timeline", i, "target")
        if isinstance(action, _NodeAction):
            _check_node_target(scenario, doc, where, action)
            _check_action_time(scenario, doc, i)
            continue
        target = by_key.get(action.target_key)
        if target is None:
            known = sorted(f"{k[0].lower()}/{k[2]}" for k in by_key)
            close = difflib.get_close_matches(action.target.lower(), known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise doc.error(where, f"no object {action.target!r} in namespace {action.namespace!r}{hint}")
        if isinstance(action, ScaleAction) and not isinstance(target, Deployment | ReplicaSet | StatefulSet):
            raise doc.error(where, f"cannot scale a {target.kind}; expected a Deployment, ReplicaSet or StatefulSet")
        if isinstance(action, DEPLOYMENT_ACTIONS) and not isinstance(target, Deployment):
            raise doc.error(where, f"{action.action} needs a Deployment, got a {target.kind}")
        if isinstance(action, SetImageAction):
            if not isinstance(target, Deployment | StatefulSet | DaemonSet):
                raise doc.error(where, f"setImage needs a Deployment, StatefulSet or DaemonSet, got a {target.kind}")
            names = [c.name for c in target.template.spec.containers]
            if action.container is not None and action.container not in names:
                raise doc.error(("timeline", i, "container"),
                                f"no container {action.container!r}; containers: {', '.join(names)}")
        if isinstance(action, PatchAction):
            _check_patch(doc, ("timeline", i, "patch"), action, target)
        _check_action_time(scenario, doc, i)
    problem = serving_reference_problem(scenario)
    if problem is not None:
        raise doc.error(*problem)


def _check_action_time(scenario: Scenario, doc: Located, i: int) -> None:
    action = scenario.timeline[i]
    if action.at > scenario.duration:
        raise doc.error(("timeline", i, "at"),
                        f"action at {action.at:g}s is after the scenario ends ({scenario.duration:g}s)")


def _check_node_target(scenario: Scenario, doc: Located, where: tuple[Any, ...], action: Any) -> None:
    kind, _, name = action.target_key
    if kind not in _NODE_KINDS:
        raise doc.error(where, f"{action.action} acts on node/<name> or nodepool/<pool>, got {action.target!r}")
    pools = [p.name for p in scenario.cluster.node_pools]
    known = pools if kind == "NodePool" else [f"{p.name}-{i}" for p in scenario.cluster.node_pools
                                              for i in range(p.count)]
    if name not in known:
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise doc.error(where, f"no {kind.lower()} {name!r} in the cluster{hint}")


def _check_patch(doc: Located, where: tuple[Any, ...], action: PatchAction, target: Any) -> None:
    from sim.api.batch import cron_job_patch_problem
    from sim.api.manifests import template_from_raw
    from sim.api.patch import merge_patch, patch_problem

    problem = patch_problem(target.kind, action.patch, bool(getattr(target, "immutable", False)))
    if problem is not None:
        raise doc.error((*where, *problem[0]), problem[1])
    if target.kind == "Deployment":
        spec = action.patch.get("spec") or {}
        if "replicas" in spec and (not isinstance(spec["replicas"], int) or spec["replicas"] < 0):
            raise doc.error((*where, "spec", "replicas"), f"expected a non-negative integer, got {spec['replicas']!r}")
        if spec.get("template") is not None:
            try:
                template_from_raw(merge_patch(target.raw_template, spec["template"]),
                                  target.template.spec.behavior, "<patch>")
            except SourceError as exc:
                field = f"{exc.field_path}: " if exc.field_path else ""
                raise doc.error((*where, "spec", "template"), f"the patched template is invalid: "
                                f"{field}{exc.message}") from None
        return
    if target.kind == "CronJob":
        problem = cron_job_patch_problem(target, action.patch.get("spec") or {})
        if problem is not None:
            raise doc.error((*where, "spec", problem[0]), problem[1])
        return
    for field in ("data", "binaryData", "stringData"):
        for key, value in (action.patch.get(field) or {}).items():
            if value is not None and not isinstance(value, str):
                raise doc.error((*where, field, key), f"values are strings; quote {value!r} to make it one")


def json_schema() -> dict[str, Any]:
    """The scenario JSON Schema (``scenarios/schema.json``), for editors and validators."""
    schema = Scenario.model_json_schema(by_alias=True, mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "kubesim scenario"
    return schema
