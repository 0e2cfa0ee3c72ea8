"""The simulation: wires the control plane from a scenario and runs it on SimPy.

Components talk only through the simulated API server, as in Kubernetes: the timeline
(a user with kubectl) creates objects, controllers and the scheduler watch and write them,
kubelets run what is bound to their node. Every component draws from its own random
stream derived from the seed, so a scenario and a seed give the same trace every time.
"""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.api.client import Client
from sim.api.objects import Node, ObjectMeta, Taint
from sim.api.quantity import resource_value
from sim.apiserver import ApiServer
from sim.billing import Billing
from sim.clock import Environment
from sim.config import KUBERNETES_VERSION
from sim.controllers.clusterautoscaler import ClusterAutoscaler, NodeGroup
from sim.controllers.cronjob import CronJobController
from sim.controllers.daemonset import DaemonSetController
from sim.controllers.deployment import DeploymentController
from sim.controllers.disruption import DisruptionController
from sim.controllers.endpointslice import EndpointSliceController
from sim.controllers.garbagecollector import GarbageCollector
from sim.controllers.hpa import HorizontalController
from sim.controllers.job import JobController
from sim.controllers.nodelifecycle import NodeLifecycleController
from sim.controllers.replicaset import ReplicaSetController
from sim.controllers.statefulset import StatefulSetController
from sim.controllers.tainteviction import TaintEvictionController
from sim.controllers.ttlafterfinished import TTLAfterFinishedController
from sim.controllers.volume import PersistentVolumeController
from sim.distributions import Sampler
from sim.faults import Faults
from sim.images import ImageRegistry
from sim.kubelet import Kubelet, _Samplers
from sim.kubeproxy import KubeProxy
from sim.metrics_server import MetricsAdapter, MetricsServer
from sim.network import Network, NetworkConfig
from sim.nodelease import LeaseHeartbeats
from sim.nodestatus import IMAGE_CACHE_UPDATE_PERIOD, node_status_images, runtime_image_name
from sim.rng import Streams
from sim.scenario import NodePool, Scenario
from sim.scheduler import kernels
from sim.scheduler.scheduler import Scheduler
from sim.timeline import Timeline
from sim.trace import Trace
from sim.workloads.training import SPEED_LABEL, Rendezvous
from sim.workloads.usage import ProfileUsage, RunningPods

if TYPE_CHECKING:
    from sim.controllers.kpa import KnativeAutoscaler
    from sim.workloads.system import ServingSystem

__all__ = ["Result", "Simulation", "build_node", "build_nodes", "run"]

POOL_LABEL = "kubesim.io/node-pool"
ZONE_LABEL = "topology.kubernetes.io/zone"
DEFAULT_MAX_PODS = 110
ALLOCATION_MATRIX_MAX_NODES = 1000


def build_nodes(pools: list[NodePool], default_image_size: int = 50 * 1024**2,
                max_images: int = 50) -> list[Node]:
    """Node objects for every pool: names ``<pool>-<i>``, zones round-robin, standard labels,
    and the pool's images in status.images under their runtime names."""
    return [build_node(pool, i, default_image_size, max_images) for pool in pools for i in range(pool.count)]


def build_node(pool: NodePool, index: int, default_image_size: int = 50 * 1024**2,
               max_images: int = 50) -> Node:
    """The ``index``-th node of a pool (also a cluster-autoscaler template or new node)."""
    sizes = pool.images if isinstance(pool.images, dict) else dict.fromkeys(pool.images, default_image_size)
    images = node_status_images({runtime_image_name(name): size for name, size in sizes.items()}, max_images)
    capacity = {name: resource_value(name, qty) for name, qty in pool.capacity.items()}
    capacity.setdefault("pods", DEFAULT_MAX_PODS)
    allocatable = dict(capacity)
    for name, qty in (pool.allocatable or {}).items():
        allocatable[name] = resource_value(name, qty)
    taints = tuple(Taint(t.key, t.value, t.effect) for t in pool.taints)
    name = f"{pool.name}-{index}"
    labels = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
              "kubernetes.io/arch": "amd64", POOL_LABEL: pool.name, **pool.labels}
    if pool.zones:
        labels[ZONE_LABEL] = pool.zones[index % len(pool.zones)]
    return Node(meta=ObjectMeta(name=name, namespace="", labels=labels),
                allocatable=allocatable, capacity=capacity, taints=taints,
                pool=pool.name, price_per_hour=pool.price_per_hour, images=images)


@dataclass
class Result:
    """A finished run: the trace, its summary figures and the simulation that made them."""

    scenario: Scenario
    seed: int
    trace: Trace
    summary: dict[str, Any]
    simulation: Simulation = field(repr=False)

    def to_frame(self) -> Any:
        """The trace's events as a pandas DataFrame."""
        return self.trace.to_frame()

    def pods(self) -> Any:
        """One row per pod with its lifecycle times."""
        return self.trace.pods_frame()


class Simulation:
    """One run of a scenario: build with a scenario (and seed), then ``run()``."""

    def __init__(self, scenario: Scenario, seed: int | None = None) -> None:
        self.scenario = scenario
        self.seed = scenario.seed if seed is None else seed
        self.env = Environment()
        self.streams = Streams(self.seed)
        self.trace = Trace({"scenario": scenario.name, "seed": self.seed, "source": "kubesim",
                            "kubernetesVersion": KUBERNETES_VERSION, "duration_s": scenario.duration})
        cp = scenario.control_plane
        env, streams = self.env, self.streams
        self.api = ApiServer(env, cp, streams, self.trace)
        self.nodes = build_nodes(scenario.cluster.node_pools, cp.kubelet.default_image_size,
                                 cp.kubelet.node_status_max_images)
        self.billing = Billing()
        for node in self.nodes:
            self.billing.start(node.meta.name, node.price_per_hour, 0.0)
        self.scheduler = Scheduler(env, self.api, cp.scheduler, self._resource_names(),
                                   streams.get("scheduler"), self.trace, scenario.outputs.decisions)
        if kernels.worth_loading(len(self.nodes), _expected_pods(scenario)):
            kernels.load()  # the scheduler's compiled loops: loaded with the cluster, not in its first cycles
        kcm = cp.controller_manager

        def kcm_client(name: str) -> Client:
            # Each controller of kube-controller-manager gets its own clientset from the
            # controller client builder (ClientOrDie("<name>")), and with it its own
            # token bucket of --kube-api-qps / --kube-api-burst: one busy controller
            # never throttles another.
            return Client(name, kcm.qps, kcm.burst)

        self.kcm_clients = {name: kcm_client(name) for name in (
            "replicaset-controller", "deployment-controller", "job-controller", "ttl-after-finished-controller",
            "statefulset-controller", "cronjob-controller", "daemon-set-controller", "generic-garbage-collector",
            "persistent-volume-binder",
            "horizontal-pod-autoscaler", "node-controller", "taint-eviction-controller")}
        clients = self.kcm_clients
        sync_latency = Sampler(kcm.sync_latency, streams.get("controller-manager"))
        self.replicaset_controller = ReplicaSetController(
            env, self.api, clients["replicaset-controller"], kcm.concurrent_replicaset_syncs, sync_latency,
            kcm.burst_replicas, streams.get("replicaset"))
        self.deployment_controller = DeploymentController(
            env, self.api, clients["deployment-controller"], kcm.concurrent_deployment_syncs, sync_latency)
        self.job_controller = JobController(env, self.api, clients["job-controller"], kcm.concurrent_job_syncs,
                                            sync_latency, streams.get("job"))
        self.ttl_after_finished_controller = TTLAfterFinishedController(
            env, self.api, clients["ttl-after-finished-controller"], kcm.concurrent_ttl_after_finished_syncs,
            sync_latency)
        self.cron_job_controller = CronJobController(
            env, self.api, clients["cronjob-controller"], kcm.concurrent_cron_job_syncs, sync_latency, self.trace,
            scenario.start_time.timestamp())
        self.daemon_set_controller = DaemonSetController(
            env, self.api, clients["daemon-set-controller"], kcm.concurrent_daemonset_syncs, sync_latency,
            streams.get("daemonset"), self.trace)
        self.statefulset_controller = StatefulSetController(
            env, self.api, clients["statefulset-controller"], kcm.concurrent_statefulset_syncs, sync_latency)
        self.garbage_collector = GarbageCollector(env, self.api, clients["generic-garbage-collector"])
        self.volume_controller = PersistentVolumeController(
            env, self.api, clients["persistent-volume-binder"], sync_latency,
            Sampler(kcm.volume_provisioning, streams.get("volume-provisioning")), streams.get("persistentvolume"),
            self.trace)
        self.horizontal_controller = HorizontalController(env, self.api, clients["horizontal-pod-autoscaler"], kcm,
                                                          sync_latency, self.trace)
        self.metrics_server, self.metrics_adapter = self._start_metrics_pipeline()
        self.endpointslice_controller = EndpointSliceController(
            env, self.api, Client("endpointslice-controller", kcm.qps, kcm.burst),
            kcm.concurrent_service_endpoint_syncs, Sampler(kcm.sync_latency, streams.get("endpointslice-sync")),
            kcm.max_endpoints_per_slice, kcm.endpoint_updates_batch_period, streams.get("endpointslice"),
            self.trace)
        self.disruption_controller = DisruptionController(
            env, self.api, Client("disruption-controller", kcm.qps, kcm.burst),
            Sampler(kcm.sync_latency, streams.get("disruption-sync")))
        self.kube_proxy = KubeProxy(env, self.api, cp.kube_proxy, streams.get("kube-proxy"), self.trace)
        self.endpoints = self.kube_proxy  # what each Service routes to, over time (for serving models)
        self.leases = LeaseHeartbeats(env, self.api, cp.kubelet, streams.get("node-lease"))
        self.node_lifecycle_controller = NodeLifecycleController(env, self.api, clients["node-controller"], kcm,
                                                                 self.leases, self.trace)
        self.taint_eviction_controller = TaintEvictionController(env, self.api, clients["taint-eviction-controller"],
                                                                 self.trace)
        network = Network(self.nodes, NetworkConfig(**scenario.cluster.network.model_dump()))
        speeds = {n.meta.name: float(n.meta.labels.get(SPEED_LABEL, 1.0)) for n in self.nodes}
        self.rendezvous = Rendezvous(env, self.trace, streams.get("training"), network, speeds)
        self.registry = ImageRegistry()
        self.kubelets = self._start_kubelets()
        if self.metrics_server is not None:
            self.metrics_server.reachable = self._kubelet_reachable
        self.cluster_autoscaler = self._start_cluster_autoscaler()
        self.faults = Faults(env, self.api, self.kubelets, self.registry, self.trace)
        self.timeline = Timeline(env, self.api, scenario, self.trace, self.faults)
        interval = scenario.outputs.sample_interval or max(1.0, scenario.duration / 600)
        self.sample_interval = interval
        self.serving, self.autoscalers = self._start_serving()
        env.process(self._sample())
        env.process(self._compact())
        self.wall_time_s = 0.0

    def _kubelet_reachable(self, node: str) -> bool:
        kubelet = self.kubelets.get(node)
        return kubelet is not None and not kubelet.crashed and not kubelet.partitioned

    def _start_metrics_pipeline(self) -> tuple[MetricsServer | None, MetricsAdapter | None]:
        """metrics-server and the custom/external metrics adapter, fed by the workloads' usage."""
        enabled = self.scenario.control_plane.metrics_server.enabled
        if enabled is None:
            enabled = any(obj.kind == "HorizontalPodAutoscaler" for _, obj in self.scenario.objects)
        if not enabled:
            return None, None
        running = RunningPods()
        usage = ProfileUsage.from_scenario(self.scenario, running)
        server = MetricsServer(self.env, self.api, self.scenario.control_plane.metrics_server, usage, running)
        adapter = MetricsAdapter(self.env, self.api, usage, running)
        server.start()
        return server, adapter

    def _resource_names(self) -> list[str]:
        names = {name for node in self.nodes for name in node.allocatable}
        names |= {name for pool in self.scenario.cluster.node_pools for name in pool.capacity}
        names |= {name for _, obj in self.scenario.objects for name, _ in _requests_of(obj)}
        return sorted(names)

    def _start_kubelets(self) -> dict[str, Kubelet]:
        rng = self.streams.get("kubelet")
        samplers = _Samplers(self.scenario.control_plane.kubelet, rng, self.streams.get("container-failures"))
        self._samplers = samplers
        period = self.scenario.control_plane.kubelet.pleg_relist_period
        phases = rng.uniform(0, period, len(self.nodes)).tolist()
        # when each kubelet's node-status loop (10 s) and image-cache loop (30 s) tick
        status_rng = self.streams.get("node-status")
        status = status_rng.uniform(0, self.scenario.control_plane.kubelet.node_status_update_frequency,
                                    len(self.nodes)).tolist()
        cache = status_rng.uniform(0, IMAGE_CACHE_UPDATE_PERIOD, len(self.nodes)).tolist()
        config_rng = self.streams.get("kubelet-config")
        kubelets = {}
        for slot, (node, phase, status_phase, cache_phase) in enumerate(
                zip(self.nodes, phases, status, cache, strict=True)):
            kubelet = Kubelet(self.env, self.api, node, self.scenario.control_plane.kubelet, samplers,
                              self.trace, phase, self.rendezvous, (status_phase, cache_phase), self.registry,
                              self.leases, slot, config_rng=config_rng)
            kubelet.register()
            kubelets[node.meta.name] = kubelet
        self.leases.add_nodes(len(self.nodes), [node.meta.name for node in self.nodes])
        return kubelets

    # ------------------------------------------------------------------ cluster-autoscaler
    def _start_cluster_autoscaler(self) -> ClusterAutoscaler | None:
        """cluster-autoscaler over the pools that have autoscaling bounds (none: not run)."""
        pools = [p for p in self.scenario.cluster.node_pools if p.autoscaling is not None]
        if not pools:
            return None
        kubelet = self.scenario.control_plane.kubelet
        groups = [NodeGroup(p.name, p.autoscaling.min, p.autoscaling.max,  # type: ignore[union-attr]
                            build_node(p, 0, kubelet.default_image_size, kubelet.node_status_max_images))
                  for p in pools]
        self._pools = {p.name: p for p in pools}
        self._new_node_rng = self.streams.get("cluster-autoscaler-nodes")
        return ClusterAutoscaler(self.env, self.api, self.scenario.control_plane.cluster_autoscaler, groups,
                                 {p.name: p.count for p in pools}, self.scheduler.table.resources, self,
                                 self.streams.get("cluster-autoscaler"), self.trace)

    def order_node(self, group: str, index: int) -> None:
        """Cloud provider: a VM of ``group`` is requested; it is billed from now (its boot included)."""
        self.billing.start(f"{group}-{index}", self._pools[group].price_per_hour, self.env.now)

    def create_node(self, group: str, index: int) -> None:
        """Cloud provider: a new VM of ``group`` booted; its kubelet starts and registers the Node."""
        kcfg = self.scenario.control_plane.kubelet
        node = build_node(self._pools[group], index, kcfg.default_image_size, kcfg.node_status_max_images)
        rng = self._new_node_rng
        phases = (float(rng.uniform(0, kcfg.node_status_update_frequency)),
                  float(rng.uniform(0, IMAGE_CACHE_UPDATE_PERIOD)))
        slot = len(self.leases.names)
        kubelet = Kubelet(self.env, self.api, node, kcfg, self._samplers, self.trace,
                          float(rng.uniform(0, kcfg.pleg_relist_period)), self.rendezvous, phases,
                          self.registry, self.leases, slot)
        self.leases.add_nodes(1, [node.meta.name])
        self.nodes.append(node)
        self.rendezvous.add_node(node)
        self.kubelets[node.meta.name] = kubelet
        kubelet.register()

    def delete_node(self, name: str) -> None:
        """Cloud provider: the VM is deleted; its kubelet and lease heartbeat stop, and its billing."""
        self.billing.stop(name, self.env.now)
        kubelet = self.kubelets.pop(name, None)
        if kubelet is not None:
            kubelet.crash()

    def _start_serving(self) -> tuple[ServingSystem | None, list[KnativeAutoscaler]]:
        """The traffic's data path and the concurrency autoscalers, if the scenario has traffic."""
        if not self.scenario.traffic:
            return None, []
        from sim.controllers.kpa import KnativeAutoscaler
        from sim.workloads.system import ServingSystem

        serving = ServingSystem(self.env, self.api, self.scenario, self.streams, self.trace, self.sample_interval,
                                self.kube_proxy)
        self._feed_metrics_pipeline(serving)
        return serving, [KnativeAutoscaler(self.env, self.api, serving, spec, self.trace)
                         for spec in self.scenario.serving.autoscalers]

    def _feed_metrics_pipeline(self, serving: ServingSystem) -> None:
        """Serving pods report CPU and request metrics from their traffic to the HPA's pipeline."""
        from sim.workloads.podmetrics import ServingUsage

        if self.metrics_server is not None:
            self.metrics_server.source = ServingUsage(self.metrics_server.source, serving)
            serving.on_scrape.append(self.metrics_server.advance)
        if self.metrics_adapter is not None:
            self.metrics_adapter.source = ServingUsage(self.metrics_adapter.source, serving)

    # ------------------------------------------------------------------ sampling
    def _sample(self):  # type: ignore[no-untyped-def]
        trace, api, table = self.trace, self.api, self.scheduler.table
        etcd_seen = api_seen = 0
        gpu_col = table.column.get("nvidia.com/gpu")
        order: tuple[int, np.ndarray, list[str]] | None = None
        amounts: tuple[int, np.ndarray, np.ndarray | None] | None = None
        while True:
            now = self.env.now
            trace.sample("apiserver_inflight", now, api.inflight)
            trace.sample("apiserver_queued", now, api.queued)
            trace.sample("etcd_db_size_bytes", now, api.db_size_bytes)
            trace.sample("scheduler_pending", now, len(self.scheduler.queue))
            commits = np.array(api.etcd.commit_latencies[etcd_seen:], dtype=np.float64)
            etcd_seen += len(commits)
            trace.sample("etcd_commit_p99_s", now, percentile(commits, 99) if len(commits) else np.nan)
            lat = np.array(api.latencies[api_seen:], dtype=np.float64)
            api_seen += len(lat)
            trace.sample("apiserver_request_p99_s", now, percentile(lat, 99) if len(lat) else np.nan)
            n = table.n
            if 0 < n <= ALLOCATION_MATRIX_MAX_NODES:
                if order is None or order[0] != n:  # the rows by node name, until a node joins
                    rows = np.array(sorted(range(n), key=table.names.__getitem__), dtype=np.int64)
                    order = (n, rows, [table.names[r] for r in rows])
                    amounts = None
                _, rows, names = order
                if amounts is None or amounts[0] != table.version:  # their allocatable, until a node changes
                    amounts = (table.version, np.maximum(table.allocatable[rows], 1),
                               table.allocatable[rows, gpu_col] > 0 if gpu_col is not None else None)
                _, alloc, has_gpu = amounts
                trace.sample_row("node_cpu_allocation", names, now, table.requested[rows, 0] / alloc[:, 0])
                if gpu_col is not None:
                    gpu = np.where(has_gpu, table.requested[rows, gpu_col] / alloc[:, gpu_col], np.nan)
                    trace.sample_row("node_gpu_allocation", names, now, gpu)
            yield self.env.timeout(self.sample_interval)

    def _record_pod_series(self) -> None:
        """Pending/running/ready pod counts at the sample times, derived from the events."""
        from sim.metrics import pod_state_series

        times = np.array(self.trace.series["apiserver_inflight"].t) if "apiserver_inflight" in self.trace.series \
            else np.zeros(0)
        for name, (t, v) in pod_state_series(self.trace).items():
            at = np.searchsorted(t, times, side="right") - 1
            values = np.where(at >= 0, v[np.maximum(at, 0)] if len(v) else 0.0, 0.0)
            for when, value in zip(times.tolist(), values.tolist(), strict=True):
                self.trace.sample(f"pods_{name}", when, value)

    def _compact(self):  # type: ignore[no-untyped-def]
        while True:
            yield self.env.timeout(self.scenario.control_plane.etcd.compaction_interval)
            self.api.etcd.compact()

    # ------------------------------------------------------------------ run
    def run(self, progress: Callable[[float], None] | None = None, steps: int = 200) -> Result:
        """Run to the scenario's duration; ``progress`` gets the fraction done after each step."""
        from sim.metrics import summarize

        duration = self.scenario.duration
        start = time.perf_counter()
        # The run allocates many short-lived objects and few reference cycles: the collector's
        # full passes over a large heap cost more than they find. Collect the young generations
        # once per step instead (the run's memory stays bounded), and restore it afterwards.
        collecting = gc.isenabled()
        gc.disable()
        try:
            for i in range(1, steps + 1):
                self.env.run(until=duration * i / steps)
                gc.collect(1)
                if progress is not None:
                    progress(i / steps)
        finally:
            if collecting:
                gc.enable()
        if self.serving is not None:
            self.serving.finish()  # the last requests and the serving figures count as simulation
        self.wall_time_s = time.perf_counter() - start
        self._record_pod_series()
        summary = summarize(self)
        return Result(self.scenario, self.seed, self.trace, summary, self)


def percentile(values: np.ndarray, q: float) -> float:
    """``float(np.percentile(values, q))`` (its default 'linear' method), the very same float,
    without numpy's general machinery (it ran twice per sample): the two order statistics
    around the virtual index (n - 1) * q / 100, interpolated as numpy's ``_lerp`` does."""
    n = len(values)
    index = (n - 1) * (q / 100)
    below = math.floor(index) if index < n - 1 else -1  # at the top, numpy takes the maximum
    above = below + 1 if below >= 0 else -1
    ordered = np.partition(values, sorted({0, n - 1, below % n, above % n}))
    if math.isnan(ordered[-1]):  # a NaN sorts last: numpy's answer is NaN
        return math.nan
    low, high, t = float(ordered[below]), float(ordered[above]), index - below
    diff = high - low
    return high - diff * (1 - t) if t >= 0.5 else low + diff * t


def _expected_pods(scenario: Scenario) -> int:
    """A rough count of the pods a scenario's objects ask for (replicas, HPA maxima, Job
    completions and parallelism, bare pods): it only decides whether to load compiled code."""
    total = 0
    for _, obj in scenario.objects:
        if obj.kind == "Pod":
            total += 1
        for name in ("replicas", "max_replicas", "completions", "parallelism"):
            value = getattr(obj, name, None)
            if isinstance(value, int):
                total += value
    return total


def _requests_of(obj: Any) -> list[tuple[str, int]]:
    spec = getattr(obj, "spec", None)
    if hasattr(obj, "job_template"):  # a CronJob
        obj = obj.job_template
    if hasattr(obj, "template"):
        spec = obj.template.spec
    return list(getattr(spec, "requests", ()) or ())


def run(scenario: Scenario, seed: int | None = None,
        progress: Callable[[float], None] | None = None) -> Result:
    """Run a scenario once and return its ``Result``."""
    return Simulation(scenario, seed=seed).run(progress)
