"""Kubernetes manifests (dicts from YAML) -> typed API objects, with located errors.

Models the API server's decoding, defaulting and validation for the kinds the simulator
runs: defaults as ``pkg/apis/core/v1/defaults.go`` and ``pkg/apis/apps/v1/defaults.go`` set
them (requests default to limits, Deployment strategy 25%/25%, probe period 10s, ...);
batch/v1 Jobs are defaulted and validated in ``sim.api.batch``.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

from sim.api.autoscaling import parse_horizontal_pod_autoscaler
from sim.api.batch import parse_cron_job, parse_job
from sim.api.configdata import parse_config_map, parse_config_refs, parse_secret
from sim.api.daemonset import parse_daemon_set
from sim.api.names import ALPHABET
from sim.api.networking import parse_ingress
from sim.api.objects import (
    Container,
    Deployment,
    DeploymentStrategy,
    HostPort,
    ObjectMeta,
    Pod,
    PodDisruptionBudget,
    PodGroup,
    PodSpec,
    PodTemplate,
    PriorityClass,
    Probe,
    ReplicaSet,
    Service,
    Toleration,
    WorkloadBehavior,
)
from sim.api.quantity import QuantityError, resource_value
from sim.api.selectors import NODE_NAME_FIELD, OPERATORS, Requirement, Selector
from sim.api.spread_affinity import parse_pod_affinity, parse_topology_spread
from sim.api.statefulset import parse_stateful_set
from sim.api.storage import parse_persistent_volume_claim, parse_pod_volumes, parse_storage_class
from sim.yamlio import Located, SourceError

__all__ = ["SUPPORTED_KINDS", "parse_manifest", "template_from_raw", "template_hash"]

SUPPORTED_KINDS = {
    "Pod": "v1",
    "Service": "v1",
    "ReplicaSet": "apps/v1",
    "Deployment": "apps/v1",
    "StatefulSet": "apps/v1",
    "DaemonSet": "apps/v1",
    "PriorityClass": "scheduling.k8s.io/v1",
    "PodDisruptionBudget": "policy/v1",
    "PodGroup": "scheduling.x-k8s.io/v1alpha1",
    "StorageClass": "storage.k8s.io/v1",
    "PersistentVolumeClaim": "v1",
    "Job": "batch/v1",
    "CronJob": "batch/v1",
    "HorizontalPodAutoscaler": "autoscaling/v2",
    "ConfigMap": "v1",
    "Secret": "v1",
    "Ingress": "networking.k8s.io/v1",
}
CLUSTER_SCOPED = {"PriorityClass", "StorageClass"}
PROTOCOLS = ("TCP", "UDP", "SCTP")
POD_GROUP_LABEL = "scheduling.x-k8s.io/pod-group"
MAX_USER_PRIORITY = 1_000_000_000  # scheduling.HighestUserDefinablePriority

Path = tuple[str | int, ...]


class _Reader:
    """Reads typed fields out of one manifest document, raising located errors."""

    def __init__(self, doc: Located, base: Path) -> None:
        self.doc = doc
        self.base = base

    def fail(self, path: Path, message: str) -> SourceError:
        return self.doc.error((*self.base, *path), message)

    def mapping(self, value: Any, path: Path) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(path, f"expected a mapping, got {type(value).__name__}")
        return value

    def sequence(self, value: Any, path: Path) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(path, f"expected a list, got {type(value).__name__}")
        return value

    def string(self, value: Any, path: Path, required: bool = False) -> str:
        if value is None:
            if required:
                raise self.fail(path, "required field is missing")
            return ""
        if not isinstance(value, str):
            raise self.fail(path, f"expected a string, got {value!r}")
        return value

    def number(self, value: Any, path: Path, default: float, minimum: float = 0) -> float:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(path, f"expected a number, got {value!r}")
        if value < minimum:
            raise self.fail(path, f"must be >= {minimum:g}, got {value!r}")
        return float(value)

    def labels(self, value: Any, path: Path) -> dict[str, str]:
        out = {}
        for key, val in self.mapping(value, path).items():
            if not isinstance(val, str | int | float) or isinstance(val, bool):
                raise self.fail((*path, key), f"label values are strings, got {val!r}")
            out[str(key)] = str(val)
        return out


def template_hash(template: dict[str, Any]) -> str:
    """A stable short hash of a pod template (the ``pod-template-hash`` label's role)."""
    digest = zlib.crc32(json.dumps(template, sort_keys=True, default=str).encode())
    out = ""
    for _ in range(10):
        digest, rem = divmod(digest, len(ALPHABET))
        out += ALPHABET[rem]
        if digest == 0:
            break
    return out


def _resources(r: _Reader, value: Any, path: Path) -> tuple[tuple[str, int], ...]:
    out = []
    for name, qty in sorted(r.mapping(value, path).items()):
        try:
            out.append((str(name), resource_value(str(name), qty)))
        except QuantityError as exc:
            raise r.fail((*path, name), str(exc)) from None
    return tuple(out)


def _probe(r: _Reader, value: Any, path: Path) -> Probe | None:
    if value is None:
        return None
    m = r.mapping(value, path)
    return Probe(
        initial_delay_seconds=r.number(m.get("initialDelaySeconds"), (*path, "initialDelaySeconds"), 0),
        period_seconds=r.number(m.get("periodSeconds"), (*path, "periodSeconds"), 10, 1),
        timeout_seconds=r.number(m.get("timeoutSeconds"), (*path, "timeoutSeconds"), 1, 1),
        success_threshold=int(r.number(m.get("successThreshold"), (*path, "successThreshold"), 1, 1)),
        failure_threshold=int(r.number(m.get("failureThreshold"), (*path, "failureThreshold"), 3, 1)),
    )


def _host_ports(r: _Reader, value: Any, path: Path, host_network: bool) -> tuple[HostPort, ...]:
    """ports[] with a hostPort; with hostNetwork the hostPort defaults to the containerPort."""
    out = []
    for i, item in enumerate(r.sequence(value, path)):
        p = r.mapping(item, (*path, i))
        if p.get("containerPort") is None:
            raise r.fail((*path, i, "containerPort"), "required field is missing")
        container_port = int(r.number(p.get("containerPort"), (*path, i, "containerPort"), 0, 1))
        if container_port > 65535:
            raise r.fail((*path, i, "containerPort"), f"must be between 1 and 65535, got {container_port}")
        host_port = int(r.number(p.get("hostPort"), (*path, i, "hostPort"), 0))
        if host_port > 65535:
            raise r.fail((*path, i, "hostPort"), f"must be between 0 and 65535, got {host_port}")
        if host_network and host_port == 0:
            host_port = container_port
        protocol = r.string(p.get("protocol"), (*path, i, "protocol")) or "TCP"
        if protocol not in PROTOCOLS:
            raise r.fail((*path, i, "protocol"), f"expected TCP, UDP or SCTP, got {protocol!r}")
        if host_port:
            out.append(HostPort(host_port, protocol, r.string(p.get("hostIP"), (*path, i, "hostIP"))))
    return tuple(out)


def _container(r: _Reader, value: Any, path: Path, host_network: bool = False, init: bool = False) -> Container:
    m = r.mapping(value, path)
    name = r.string(m.get("name"), (*path, "name"), required=True)
    image = r.string(m.get("image"), (*path, "image"), required=True)
    res = r.mapping(m.get("resources"), (*path, "resources"))
    limits = _resources(r, res.get("limits"), (*path, "resources", "limits"))
    requests = dict(_resources(r, res.get("requests"), (*path, "resources", "requests")))
    for name_, amount in limits:  # core/v1 defaulting: requests default to limits
        requests.setdefault(name_, amount)
    tag = image.rsplit("/", 1)[-1]
    default_policy = "Always" if (":" not in tag or tag.endswith(":latest")) and "@" not in tag else "IfNotPresent"
    policy = r.string(m.get("imagePullPolicy"), (*path, "imagePullPolicy")) or default_policy
    if policy not in ("Always", "IfNotPresent", "Never"):
        raise r.fail((*path, "imagePullPolicy"), f"expected Always, IfNotPresent or Never, got {policy!r}")
    restart_policy = r.string(m.get("restartPolicy"), (*path, "restartPolicy"))
    if restart_policy and (not init or restart_policy != "Always"):
        raise r.fail((*path, "restartPolicy"), "only init containers may set restartPolicy, and only to Always"
                     f" (a sidecar), got {restart_policy!r}")
    return Container(
        name=name,
        image=image,
        requests=tuple(sorted(requests.items())),
        limits=limits,
        image_pull_policy=policy,
        readiness_probe=_probe(r, m.get("readinessProbe"), (*path, "readinessProbe")),
        host_ports=_host_ports(r, m.get("ports"), (*path, "ports"), host_network),
        restart_policy=restart_policy,
    )


def _pod_requests(containers: tuple[Container, ...], inits: tuple[Container, ...]) -> tuple[tuple[str, int], ...]:
    total: dict[str, int] = {}
    for c in containers:
        for name, amount in c.requests:
            total[name] = total.get(name, 0) + amount
    for c in inits:
        for name, amount in c.requests:
            total[name] = max(total.get(name, 0), amount)
    return tuple(sorted(total.items()))


def _requirements(r: _Reader, value: Any, path: Path) -> tuple[Requirement, ...]:
    reqs = []
    for i, expr in enumerate(r.sequence(value, path)):
        e = r.mapping(expr, (*path, i))
        op = r.string(e.get("operator"), (*path, i, "operator"), required=True)
        if op not in OPERATORS:
            raise r.fail((*path, i, "operator"), f"expected one of {', '.join(OPERATORS)}, got {op!r}")
        values = tuple(str(v) for v in r.sequence(e.get("values"), (*path, i, "values")))
        reqs.append(Requirement(r.string(e.get("key"), (*path, i, "key"), required=True), op, values))
    return tuple(reqs)


def _label_selector(r: _Reader, value: Any, path: Path) -> Selector:
    m = r.mapping(value, path)
    reqs = [Requirement(k, "In", (v,))
            for k, v in sorted(r.labels(m.get("matchLabels"), (*path, "matchLabels")).items())]
    reqs += _requirements(r, m.get("matchExpressions"), (*path, "matchExpressions"))
    return Selector(tuple(reqs))


def _field_requirements(r: _Reader, value: Any, path: Path) -> tuple[Requirement, ...]:
    """A nodeSelectorTerm's matchFields (ValidateNodeFieldSelectorRequirement: metadata.name,
    In or NotIn, exactly one value)."""
    reqs = []
    for i, expr in enumerate(r.sequence(value, path)):
        e = r.mapping(expr, (*path, i))
        key = r.string(e.get("key"), (*path, i, "key"), required=True)
        if key != "metadata.name":
            raise r.fail((*path, i, "key"), f"only metadata.name is a supported field, got {key!r}")
        op = r.string(e.get("operator"), (*path, i, "operator"), required=True)
        if op not in ("In", "NotIn"):
            raise r.fail((*path, i, "operator"), f"expected In or NotIn for a field, got {op!r}")
        values = tuple(str(v) for v in r.sequence(e.get("values"), (*path, i, "values")))
        if len(values) != 1:
            raise r.fail((*path, i, "values"), "must be only one value when `operator` is 'In' or 'NotIn' for "
                         "node field selector")
        reqs.append(Requirement(NODE_NAME_FIELD, op, values))
    return tuple(reqs)


def _node_selector_term(r: _Reader, value: Any, path: Path) -> Selector:
    term = r.mapping(value, path)
    return Selector(_requirements(r, term.get("matchExpressions"), (*path, "matchExpressions"))
                    + _field_requirements(r, term.get("matchFields"), (*path, "matchFields")))


def _affinity(r: _Reader, value: Any, path: Path) -> tuple[tuple[Selector, ...], tuple[tuple[int, Selector], ...]]:
    na = r.mapping(r.mapping(value, path).get("nodeAffinity"), (*path, "nodeAffinity"))
    base = (*path, "nodeAffinity")
    req_path = (*base, "requiredDuringSchedulingIgnoredDuringExecution")
    required = r.mapping(na.get("requiredDuringSchedulingIgnoredDuringExecution"), req_path)
    terms = tuple(
        _node_selector_term(r, t, (*req_path, "nodeSelectorTerms", i))
        for i, t in enumerate(r.sequence(required.get("nodeSelectorTerms"), (*req_path, "nodeSelectorTerms")))
    )
    pref_path = (*base, "preferredDuringSchedulingIgnoredDuringExecution")
    preferred = []
    for i, t in enumerate(r.sequence(na.get("preferredDuringSchedulingIgnoredDuringExecution"), pref_path)):
        term = r.mapping(t, (*pref_path, i))
        weight = int(r.number(term.get("weight"), (*pref_path, i, "weight"), 1, 1))
        preferred.append((weight, _node_selector_term(r, term.get("preference"), (*pref_path, i, "preference"))))
    return terms, tuple(preferred)


def _tolerations(r: _Reader, value: Any, path: Path) -> tuple[Toleration, ...]:
    out = []
    for i, t in enumerate(r.sequence(value, path)):
        m = r.mapping(t, (*path, i))
        op = r.string(m.get("operator"), (*path, i, "operator")) or "Equal"
        if op not in ("Equal", "Exists"):
            raise r.fail((*path, i, "operator"), f"expected Equal or Exists, got {op!r}")
        seconds = m.get("tolerationSeconds")
        out.append(Toleration(
            key=r.string(m.get("key"), (*path, i, "key")),
            operator=op,
            value=str(m.get("value") or ""),
            effect=r.string(m.get("effect"), (*path, i, "effect")),
            toleration_seconds=None if seconds is None else r.number(seconds, (*path, i, "tolerationSeconds"), 0),
        ))
    return tuple(out)


def parse_pod_spec(r: _Reader, value: Any, path: Path, behavior: WorkloadBehavior) -> PodSpec:
    """core/v1 PodSpec -> the shared, frozen ``PodSpec``."""
    m = r.mapping(value, path)
    host_network = bool(m.get("hostNetwork", False))
    containers = tuple(_container(r, c, (*path, "containers", i), host_network)
                       for i, c in enumerate(r.sequence(m.get("containers"), (*path, "containers"))))
    if not containers:
        raise r.fail((*path, "containers"), "a pod needs at least one container")
    inits = tuple(_container(r, c, (*path, "initContainers", i), host_network, init=True)
                  for i, c in enumerate(r.sequence(m.get("initContainers"), (*path, "initContainers"))))
    required, preferred = _affinity(r, m.get("affinity"), (*path, "affinity"))
    affinity = r.mapping(m.get("affinity"), (*path, "affinity"))
    restart = r.string(m.get("restartPolicy"), (*path, "restartPolicy")) or "Always"
    if restart not in ("Always", "OnFailure", "Never"):
        raise r.fail((*path, "restartPolicy"), f"expected Always, OnFailure or Never, got {restart!r}")
    return PodSpec(
        containers=containers,
        init_containers=inits,
        host_network=host_network,
        requests=_pod_requests(containers, inits),
        node_selector=tuple(sorted(r.labels(m.get("nodeSelector"), (*path, "nodeSelector")).items())),
        required_node_affinity=required,
        preferred_node_affinity=preferred,
        tolerations=_tolerations(r, m.get("tolerations"), (*path, "tolerations")),
        topology_spread_constraints=parse_topology_spread(r, m.get("topologySpreadConstraints"),
                                                          (*path, "topologySpreadConstraints")),
        pod_affinity=parse_pod_affinity(r, affinity.get("podAffinity"), (*path, "affinity", "podAffinity")),
        pod_anti_affinity=parse_pod_affinity(r, affinity.get("podAntiAffinity"),
                                             (*path, "affinity", "podAntiAffinity")),
        node_name=r.string(m.get("nodeName"), (*path, "nodeName")),
        scheduler_name=r.string(m.get("schedulerName"), (*path, "schedulerName")) or "default-scheduler",
        priority=int(r.number(m.get("priority"), (*path, "priority"), 0, -(2**31))),
        priority_class_name=r.string(m.get("priorityClassName"), (*path, "priorityClassName")),
        restart_policy=restart,
        termination_grace_period_seconds=r.number(
            m.get("terminationGracePeriodSeconds"), (*path, "terminationGracePeriodSeconds"), 30),
        behavior=behavior.for_images(tuple(c.image for c in inits + containers)),
        persistent_volume_claims=parse_pod_volumes(r, m.get("volumes"), (*path, "volumes")),
        config_refs=parse_config_refs(r, m, path),
    )


def _meta(r: _Reader, value: Any, namespace: str) -> ObjectMeta:
    m = r.mapping(value, ("metadata",))
    name = r.string(m.get("name"), ("metadata", "name"), required=True)
    return ObjectMeta(
        name=name,
        namespace=r.string(m.get("namespace"), ("metadata", "namespace")) or namespace,
        labels=r.labels(m.get("labels"), ("metadata", "labels")),
        annotations=r.labels(m.get("annotations"), ("metadata", "annotations")),
    )


def parse_template(r: _Reader, value: Any, path: Path, behavior: WorkloadBehavior) -> PodTemplate:
    """spec.template of a ReplicaSet, Deployment or Job."""
    m = r.mapping(value, path)
    if not m:
        raise r.fail(path, "required field is missing")
    meta = r.mapping(m.get("metadata"), (*path, "metadata"))
    labels = r.labels(meta.get("labels"), (*path, "metadata", "labels"))
    return PodTemplate(
        labels=tuple(sorted(labels.items())),
        annotations=tuple(sorted(r.labels(meta.get("annotations"), (*path, "metadata", "annotations")).items())),
        spec=parse_pod_spec(r, m.get("spec"), (*path, "spec"), behavior),
        hash=template_hash(m),
    )


def _workload_common(r: _Reader, spec: dict[str, Any], behavior: WorkloadBehavior) -> tuple[int, Selector, PodTemplate]:
    replicas = int(r.number(spec.get("replicas"), ("spec", "replicas"), 1))
    if spec.get("selector") is None:
        raise r.fail(("spec", "selector"), "required field is missing")
    selector = _label_selector(r, spec.get("selector"), ("spec", "selector"))
    template = parse_template(r, spec.get("template"), ("spec", "template"), behavior)
    if selector.empty or not selector.matches(dict(template.labels)):
        raise r.fail(("spec", "selector"),
                     f"selector {str(selector) or '<empty>'} does not match template labels "
                     f"{dict(template.labels)} (the API server rejects this)")
    return replicas, selector, template


def _strategy(r: _Reader, value: Any) -> DeploymentStrategy:
    m = r.mapping(value, ("spec", "strategy"))
    kind = r.string(m.get("type"), ("spec", "strategy", "type")) or "RollingUpdate"
    if kind not in ("RollingUpdate", "Recreate"):
        raise r.fail(("spec", "strategy", "type"), f"expected RollingUpdate or Recreate, got {kind!r}")
    ru = r.mapping(m.get("rollingUpdate"), ("spec", "strategy", "rollingUpdate"))
    values = []
    for key in ("maxSurge", "maxUnavailable"):
        v = ru.get(key, "25%")
        ok = (isinstance(v, int) and not isinstance(v, bool) and v >= 0) or (
            isinstance(v, str) and v.endswith("%") and v[:-1].isdigit())
        if not ok:
            raise r.fail(("spec", "strategy", "rollingUpdate", key),
                         f"expected a non-negative integer or a percentage like '25%', got {v!r}")
        values.append(v)
    return DeploymentStrategy(kind, values[0], values[1])


def _int_or_percent(r: _Reader, value: Any, path: Path) -> int | str | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.endswith("%") and value[:-1].isdigit():
        return value
    raise r.fail(path, f"expected a non-negative integer or a percentage like '50%', got {value!r}")


def _policy_object(r: _Reader, kind: str, meta: ObjectMeta, m: dict[str, Any],
                   spec: dict[str, Any]) -> PriorityClass | PodDisruptionBudget | PodGroup:
    if kind == "PriorityClass":
        meta.namespace = ""
        value = int(r.number(m.get("value"), ("value",), 0, -(2**31)))
        if value > MAX_USER_PRIORITY:
            raise r.fail(("value",), f"must be <= {MAX_USER_PRIORITY} for user-defined classes, got {value}")
        policy = r.string(m.get("preemptionPolicy"), ("preemptionPolicy",)) or "PreemptLowerPriority"
        if policy not in ("PreemptLowerPriority", "Never"):
            raise r.fail(("preemptionPolicy",), f"expected PreemptLowerPriority or Never, got {policy!r}")
        return PriorityClass(meta, value, bool(m.get("globalDefault", False)), policy)
    if kind == "PodDisruptionBudget":
        min_available = _int_or_percent(r, spec.get("minAvailable"), ("spec", "minAvailable"))
        max_unavailable = _int_or_percent(r, spec.get("maxUnavailable"), ("spec", "maxUnavailable"))
        if (min_available is None) == (max_unavailable is None):
            raise r.fail(("spec",), "set exactly one of minAvailable and maxUnavailable")
        policy = r.string(spec.get("unhealthyPodEvictionPolicy"), ("spec", "unhealthyPodEvictionPolicy")) or None
        if policy not in (None, "IfHealthyBudget", "AlwaysAllow"):
            raise r.fail(("spec", "unhealthyPodEvictionPolicy"),
                         f"expected IfHealthyBudget or AlwaysAllow, got {policy!r}")
        return PodDisruptionBudget(meta, _label_selector(r, spec.get("selector"), ("spec", "selector")),
                                   min_available, max_unavailable, policy)
    min_member = int(r.number(spec.get("minMember"), ("spec", "minMember"), 1, 1))
    raw_timeout = spec.get("scheduleTimeoutSeconds")  # unset: the plugin's permitWaitingTimeSeconds
    timeout = None if raw_timeout is None else r.number(raw_timeout, ("spec", "scheduleTimeoutSeconds"), 60, 1)
    return PodGroup(meta, min_member, timeout)


def parse_manifest(doc: Located, namespace: str, behavior: WorkloadBehavior,
                   base: Path = ()) -> Any:
    """One manifest document -> a typed object; raises ``SourceError`` with file and line."""
    r = _Reader(doc, base)
    data = doc.data
    for part in base:
        data = data[part]
    m = r.mapping(data, ())
    kind = r.string(m.get("kind"), ("kind",), required=True)
    api_version = r.string(m.get("apiVersion"), ("apiVersion",), required=True)
    if kind not in SUPPORTED_KINDS:
        raise r.fail(("kind",), f"unsupported kind {kind!r}; supported: {', '.join(sorted(SUPPORTED_KINDS))}")
    if api_version != SUPPORTED_KINDS[kind]:
        raise r.fail(("apiVersion",), f"{kind} is served as {SUPPORTED_KINDS[kind]!r}, got {api_version!r}")
    meta = _meta(r, m.get("metadata"), namespace)
    spec = r.mapping(m.get("spec"), ("spec",))
    if kind in ("PriorityClass", "PodDisruptionBudget", "PodGroup"):
        return _policy_object(r, kind, meta, m, spec)
    if kind == "StorageClass":
        return parse_storage_class(r, meta, m)
    if kind == "PersistentVolumeClaim":
        return parse_persistent_volume_claim(r, meta, spec)
    if kind == "HorizontalPodAutoscaler":
        return parse_horizontal_pod_autoscaler(r, meta, spec)
    if kind == "ConfigMap":
        return parse_config_map(r, meta, m)
    if kind == "Secret":
        return parse_secret(r, meta, m)
    if kind == "Ingress":
        return parse_ingress(r, meta, spec)
    if kind == "Pod":
        pod_spec = parse_pod_spec(r, spec, ("spec",), behavior)
        return Pod(meta=meta, spec=pod_spec, node_name=pod_spec.node_name)
    if kind == "Job":
        return parse_job(r, meta, spec, parse_template(r, spec.get("template"), ("spec", "template"), behavior))
    if kind == "CronJob":
        return parse_cron_job(r, meta, spec, lambda sub, value, path: parse_template(sub, value, path, behavior))
    if kind == "Service":
        selector = r.labels(spec.get("selector"), ("spec", "selector"))
        ports = tuple(int(p.get("port", 0)) for p in r.sequence(spec.get("ports"), ("spec", "ports"))
                      if isinstance(p, dict))
        return Service(meta=meta, selector=Selector.from_labels(selector), ports=ports,
                       type=r.string(spec.get("type"), ("spec", "type")) or "ClusterIP",
                       publish_not_ready_addresses=bool(spec.get("publishNotReadyAddresses", False)))
    replicas, selector, template = _workload_common(r, spec, behavior)
    min_ready = r.number(spec.get("minReadySeconds"), ("spec", "minReadySeconds"), 0)
    if kind == "DaemonSet":
        if "replicas" in spec:
            raise r.fail(("spec", "replicas"), "a DaemonSet has no replicas: it runs one pod per eligible node")
        return parse_daemon_set(r, meta, spec, selector, template, min_ready)
    if kind == "StatefulSet":
        return parse_stateful_set(r, meta, spec, replicas, selector, template, min_ready)
    if kind == "ReplicaSet":
        return ReplicaSet(meta=meta, replicas=replicas, selector=selector, template=template,
                          min_ready_seconds=min_ready)
    return Deployment(
        meta=meta, replicas=replicas, selector=selector, template=template,
        strategy=_strategy(r, spec.get("strategy")),
        min_ready_seconds=min_ready,
        revision_history_limit=int(r.number(spec.get("revisionHistoryLimit"), ("spec", "revisionHistoryLimit"), 10)),
        progress_deadline_seconds=r.number(spec.get("progressDeadlineSeconds"), ("spec", "progressDeadlineSeconds"),
                                           600),
        paused=bool(spec.get("paused", False)),
        raw_template=spec.get("template") or {},
    )


def template_with_image(raw_template: dict[str, Any], container: str | None, image: str,
                        behavior: WorkloadBehavior) -> tuple[dict[str, Any], PodTemplate]:
    """A workload's template with one container's image changed (``kubectl set image``)."""
    raw = json.loads(json.dumps(raw_template))
    containers = raw.get("spec", {}).get("containers", [])
    target = next((c for c in containers if container is None or c.get("name") == container), None)
    if target is None:
        raise ValueError(f"no container {container!r} in the template")
    target["image"] = image
    return raw, template_from_raw(raw, behavior, "<setImage>")


def template_from_raw(raw: dict[str, Any], behavior: WorkloadBehavior, source: str) -> PodTemplate:
    """Parse a pod template held as a plain mapping (a Deployment's edited spec.template)."""
    return parse_template(_Reader(Located(raw, source), ()), raw, (), behavior)
