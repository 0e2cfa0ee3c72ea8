"""Faults as timeline actions: models the failures chaos tests inject into a real cluster
(cf. test/e2e/framework node reboots and network partitions, etcd-io/etcd robustness tests).

Each fault acts on the component a real failure hits, never through the API server, and
the control plane then reacts as it would:

- ``nodeCrash`` (by name, pool or zone; optional ``recoverAfter``): the machine stops. Its
  kubelet renews no lease and posts nothing; its containers die. ``nodeRecover`` boots it:
  lease and Ready=True at once, then its pods start again (or finish being deleted).
- ``zoneOutage``: every node of a zone crashes (power or network loss of the whole zone).
- ``partition``: the node is cut off from the API server; its pods keep running but the
  control plane hears nothing, so after the grace period it is Unknown and its pods are
  evicted and replaced while still running (a split brain until it heals).
- ``etcdLeaderLoss``: no commits for a raft election (about 1-2 s); writes queue.
- ``etcdSlowDisk``: the WAL fsync latency follows ``fsync`` for ``duration``.
- ``apiServerRestart``: requests wait for ``duration``, then every watch re-lists.
- ``registrySlowdown`` / ``registryOutage``: pull bandwidth times ``factor``, or pulls fail
  (ErrImagePull, then ImagePullBackOff 10 s doubling to 300 s) until it is back.

What the rest of the model does in reaction lives with each component (kubelet.py,
nodelease.py, etcd.py, apiserver.py, images.py, controllers/nodelifecycle.py and
controllers/tainteviction.py); this module only selects targets and flips switches, and
records a ``Fault`` event for each start and end.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, model_validator

from sim.clock import call_later
from sim.config import Model
from sim.distributions import Dist, Duration

if TYPE_CHECKING:
    import simpy

    from sim.apiserver import ApiServer
    from sim.images import ImageRegistry
    from sim.kubelet import Kubelet
    from sim.scenario import Scenario
    from sim.trace import Trace

__all__ = [
    "FAULT_ACTIONS",
    "ApiServerRestartAction",
    "EtcdLeaderLossAction",
    "EtcdSlowDiskAction",
    "Faults",
    "NodeCrashAction",
    "NodeRecoverAction",
    "PartitionAction",
    "RegistryOutageAction",
    "RegistrySlowdownAction",
    "ZoneOutageAction",
    "fault_problem",
    "recovery_time_s",
    "select_nodes",
]

POOL_LABEL, ZONE_LABEL = "kubesim.io/node-pool", "topology.kubernetes.io/zone"


# ---------------------------------------------------------------------------- actions

class _Fault(Model):
    at: Duration


class _NodeFault(_Fault):
    """Nodes by name, or by pool and/or zone (the first ``count`` of them in name order)."""

    nodes: list[str] = Field(default_factory=list, description="Node names, e.g. gpu-0.")
    pool: str | None = Field(None, description="Every node of this pool (with zone: of both).")
    zone: str | None = Field(None, description="Every node in this zone.")
    count: int | None = Field(None, ge=1, description="Only the first N selected nodes, in name order.")

    @model_validator(mode="after")
    def _some_selector(self) -> _NodeFault:
        if not self.nodes and self.pool is None and self.zone is None:
            raise ValueError("name the nodes: give nodes, pool or zone")
        return self


class NodeCrashAction(_NodeFault):
    """Nodes go down: kubelet and containers stop, no heartbeats."""

    action: Literal["nodeCrash"]
    recover_after: Duration | None = Field(None, description="Boot again after this long; default: never.")


class NodeRecoverAction(_NodeFault):
    """Crashed nodes boot again."""

    action: Literal["nodeRecover"]


class PartitionAction(_NodeFault):
    """Nodes lose the API server but keep running their pods."""

    action: Literal["partition"]
    recover_after: Duration | None = Field(None, description="Heal after this long; default: never.")


class ZoneOutageAction(_Fault):
    """Every node of a zone goes down."""

    action: Literal["zoneOutage"]
    zone: str
    recover_after: Duration | None = Field(None, description="The zone comes back after this long.")


class EtcdLeaderLossAction(_Fault):
    """The etcd leader fails: no commits until a new one is elected (electionTimeout + randomised)."""

    action: Literal["etcdLeaderLoss"]


class EtcdSlowDiskAction(_Fault):
    """The etcd members' disks slow down: WAL fsync follows ``fsync`` for ``duration``."""

    action: Literal["etcdSlowDisk"]
    fsync: Dist = Field(description="fsync latency while the disk is slow, "
                                    "e.g. {dist: lognormal, median: 40ms, p99: 200ms}.")
    duration: Duration


class ApiServerRestartAction(_Fault):
    """kube-apiserver restarts: requests wait, then every informer re-lists."""

    action: Literal["apiServerRestart"]
    duration: Duration = Field(20.0, description="Time until it serves again.")


class RegistrySlowdownAction(_Fault):
    """The image registry serves at ``factor`` times the configured pull bandwidth."""

    action: Literal["registrySlowdown"]
    factor: float = Field(gt=0, description="Bandwidth multiplier, e.g. 0.1 for ten times slower.")
    duration: Duration | None = Field(None, description="Default: until the end of the run.")


class RegistryOutageAction(_Fault):
    """The image registry is down: pulls fail with ErrImagePull and back off."""

    action: Literal["registryOutage"]
    duration: Duration | None = Field(None, description="Default: until the end of the run.")


FAULT_ACTIONS = (NodeCrashAction, NodeRecoverAction, PartitionAction, ZoneOutageAction, EtcdLeaderLossAction,
                 EtcdSlowDiskAction, ApiServerRestartAction, RegistrySlowdownAction, RegistryOutageAction)
FaultAction = (NodeCrashAction | NodeRecoverAction | PartitionAction | ZoneOutageAction | EtcdLeaderLossAction
               | EtcdSlowDiskAction | ApiServerRestartAction | RegistrySlowdownAction | RegistryOutageAction)


# ---------------------------------------------------------------------------- targets

def select_nodes(action: Any, nodes: list[tuple[str, str, str]]) -> list[str]:
    """Names of the (name, pool, zone) nodes an action picks, in name order."""
    if isinstance(action, ZoneOutageAction):
        return sorted(name for name, _, zone in nodes if zone == action.zone)
    wanted = set(action.nodes)
    picked = sorted(name for name, pool, zone in nodes
                    if name in wanted or ((action.pool is not None or action.zone is not None)
                                          and action.pool in (None, pool) and action.zone in (None, zone)))
    return picked[: action.count] if action.count is not None else picked


def _scenario_nodes(scenario: Scenario) -> list[tuple[str, str, str]]:
    return [(f"{p.name}-{i}", p.name, p.zones[i % len(p.zones)] if p.zones else "")
            for p in scenario.cluster.node_pools for i in range(p.count)]


def fault_problem(action: Any, scenario: Scenario) -> tuple[str, str] | None:
    """(field, message) if a fault names nodes, pools or zones the cluster lacks."""
    nodes = _scenario_nodes(scenario)
    if not isinstance(action, _NodeFault | ZoneOutageAction):
        return None
    pools = sorted({pool for _, pool, _ in nodes})
    zones = sorted({zone for _, _, zone in nodes if zone})
    names = {name for name, _, _ in nodes}
    for name in getattr(action, "nodes", []):
        if name not in names:
            return "nodes", f"no node {name!r} (nodes are named <pool>-<i>, e.g. {nodes[0][0] if nodes else 'w-0'})"
    pool = getattr(action, "pool", None)
    if pool is not None and pool not in pools:
        return "pool", f"no node pool {pool!r}; pools: {', '.join(pools)}"
    if action.zone is not None and action.zone not in zones:
        return "zone", f"no zone {action.zone!r}; zones: {', '.join(zones) or 'none (pools set no zones)'}"
    if not select_nodes(action, nodes):
        return "pool", "selects no node (no node is in both that pool and that zone)"
    return None


# ---------------------------------------------------------------------------- injection

class Faults:
    """Applies fault actions to the simulated machines, disks, servers and registry."""

    def __init__(self, env: simpy.Environment, api: ApiServer, kubelets: dict[str, Kubelet],
                 registry: ImageRegistry, trace: Trace) -> None:
        self.env = env
        self.api = api
        self.kubelets = kubelets
        self.registry = registry
        self.trace = trace
        self._registry_slow = 0  # overlapping slowdowns: the last one ending restores 1.0

    def _nodes(self) -> list[tuple[str, str, str]]:
        return [(name, k.node.meta.labels.get(POOL_LABEL, ""), k.node.meta.labels.get(ZONE_LABEL, ""))
                for name, k in sorted(self.kubelets.items())]

    def _record(self, name: str, event: str, message: str = "", node: str = "") -> None:
        self.trace.record(self.env.now, "Fault", "", name, event, node, "", message)

    def inject(self, action: Any) -> None:
        """Start the fault ``action`` now (and schedule its end if it has one)."""
        getattr(self, "_" + action.action)(action)

    # ------------------------------------------------------------------ nodes
    def _node_fault(self, action: Any, event: str, apply: str, undo: str | None, after: float | None) -> None:
        names = select_nodes(action, self._nodes())
        for name in names:
            self._record(name, event, _after(after, "recovers"), node=name)
            getattr(self.kubelets[name], apply)()
        if after is not None and undo is not None:
            call_later(self.env, after, self._undo, names, undo)

    def _undo(self, names: list[str], undo: str) -> None:
        event = {"recover": "nodeRecover", "heal": "partitionHealed"}[undo]
        for name in names:
            self._record(name, event, node=name)
            getattr(self.kubelets[name], undo)()

    def _nodeCrash(self, action: NodeCrashAction) -> None:  # noqa: N802 - named after the action
        self._node_fault(action, "nodeCrash", "crash", "recover", action.recover_after)

    def _zoneOutage(self, action: ZoneOutageAction) -> None:  # noqa: N802
        self._record(action.zone, "zoneOutage", _after(action.recover_after, "comes back"))
        self._node_fault(action, "nodeCrash", "crash", "recover", action.recover_after)

    def _nodeRecover(self, action: NodeRecoverAction) -> None:  # noqa: N802
        self._undo(select_nodes(action, self._nodes()), "recover")

    def _partition(self, action: PartitionAction) -> None:
        self._node_fault(action, "partition", "partition", "heal", action.recover_after)

    # ------------------------------------------------------------------ control plane
    def _etcdLeaderLoss(self, action: EtcdLeaderLossAction) -> None:  # noqa: N802
        stall = self.api.etcd.lose_leader()
        self._record("etcd", "etcdLeaderLoss", f"no leader for {stall:.3f}s")
        call_later(self.env, stall, self._record, "etcd", "leaderElected", "a new leader commits again")

    def _etcdSlowDisk(self, action: EtcdSlowDiskAction) -> None:  # noqa: N802
        self.api.etcd.set_fsync(action.fsync)
        self._record("etcd", "etcdSlowDisk", _after(action.duration, "recovers"))
        call_later(self.env, action.duration, self._disk_back)

    def _disk_back(self) -> None:
        self.api.etcd.set_fsync(None)
        self._record("etcd", "diskRecovered")

    def _apiServerRestart(self, action: ApiServerRestartAction) -> None:  # noqa: N802
        back = self.api.restart(action.duration)
        self._record("kube-apiserver", "apiServerRestart", _after(action.duration, "serves again"))
        call_later(self.env, back - self.env.now, self._record, "kube-apiserver", "apiServerReady",
                   "watches re-list")

    # ------------------------------------------------------------------ registry
    def _registrySlowdown(self, action: RegistrySlowdownAction) -> None:  # noqa: N802
        self.registry.bandwidth_factor = action.factor
        self._registry_slow += 1
        self._record("registry", "registrySlowdown", f"bandwidth x{action.factor:g}; "
                     + _after(action.duration, "recovers"))
        if action.duration is not None:
            call_later(self.env, action.duration, self._registry_fast)

    def _registry_fast(self) -> None:
        self._registry_slow -= 1
        if self._registry_slow == 0:
            self.registry.bandwidth_factor = 1.0
            self._record("registry", "registryRecovered", "bandwidth x1")

    def _registryOutage(self, action: RegistryOutageAction) -> None:  # noqa: N802
        self.registry.go_down(self.env.now)
        self._record("registry", "registryOutage", _after(action.duration, "comes back"))
        if action.duration is not None:
            call_later(self.env, action.duration, self._registry_back)

    def _registry_back(self) -> None:
        self.registry.come_back(self.env.now)
        self._record("registry", "registryRecovered")


def _after(seconds: float | None, what: str) -> str:
    return f"{what} after {seconds:g}s" if seconds is not None else ""


# ---------------------------------------------------------------------------- reading the effect

def recovery_time_s(trace: Trace, since: float, name_prefix: str, replicas: int,
                    namespace: str = "default") -> float | None:
    """Seconds from ``since`` (the fault) until ``replicas`` pods named ``name_prefix*`` are
    Ready again, as the API shows them, after the count dropped below it; 0.0 if it never
    dropped, None if it never came back."""
    from sim.metrics import ready_over_time

    dipped = False
    times, counts = ready_over_time(trace, name_prefix, namespace)
    for t, count in zip(times.tolist(), counts.tolist(), strict=True):
        if t < since:
            continue
        if count < replicas:
            dipped = True
        elif dipped:
            return t - since
    return None if dipped else 0.0
