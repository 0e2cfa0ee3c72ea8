"""The control plane's timings and limits, each defaulting to upstream's value.

Every field here is a knob a what-if can turn (``--set controlPlane.etcd.fsync=10ms``).
Defaults are Kubernetes 1.36's, cited per field; ``CALIBRATION.md`` in the docs lists them
with sources. Latency distributions that upstream does not fix (fsync, RTT, request
handling) default to values typical of a small cloud cluster on SSDs.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from sim.distributions import ByteSize, Dist, Duration
from sim.scheduler.config import ProfileConfig

__all__ = [
    "KUBERNETES_VERSION",
    "ApiServerConfig",
    "ClusterAutoscalerConfig",
    "ControlPlane",
    "ControllerManagerConfig",
    "EtcdConfig",
    "KubeProxyConfig",
    "KubeletConfig",
    "MetricsServerConfig",
    "Model",
    "SchedulerConfig",
]

KUBERNETES_VERSION = "1.36"
"""The upstream release whose defaults and behaviour the model follows."""


class Model(BaseModel):
    """Base for scenario models: frozen, camelCase keys, unknown keys rejected."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True
    )


def _lognormal(median: str, p99: str) -> Dist:
    return Dist(dist="lognormal", median=median, p99=p99)


class EtcdConfig(Model):
    """etcd: raft commit = leader fsync in parallel with the quorum's RTT + follower fsync."""

    members: int = Field(3, ge=1, le=7, description="Cluster size; a write needs a quorum.")
    fsync: Dist = Field(
        default_factory=lambda: _lognormal("2ms", "8ms"),
        description="WAL fdatasync latency (etcd guidance: p99 < 10ms on SSD).",
    )
    rtt: Dist = Field(
        default_factory=lambda: _lognormal("500us", "2ms"),
        description="Leader-follower round trip (same region).",
    )
    heartbeat_interval: Duration = Field(0.1, description="etcd --heartbeat-interval (100ms).")
    election_timeout: Duration = Field(1.0, description="etcd --election-timeout (1000ms).")
    quota_backend_bytes: ByteSize = Field(2 * 1024**3, description="etcd --quota-backend-bytes (2 GiB).")
    compaction_interval: Duration = Field(
        300.0, description="kube-apiserver --etcd-compaction-interval (5m)."
    )


class ApiServerConfig(Model):
    """kube-apiserver: request handling, inflight limits and watch delivery."""

    max_requests_inflight: int = Field(400, ge=1, description="--max-requests-inflight.")
    max_mutating_requests_inflight: int = Field(
        200, ge=1, description="--max-mutating-requests-inflight."
    )
    request_latency: Dist = Field(
        default_factory=lambda: _lognormal("1ms", "5ms"),
        description="Handler time outside etcd: authn/z, admission, (de)serialisation.",
    )
    watch_latency: Dist = Field(
        default_factory=lambda: _lognormal("2ms", "10ms"),
        description="Commit to informer delivery via the watch cache.",
    )


class SchedulerConfig(Model):
    """kube-scheduler (KubeSchedulerConfiguration v1 defaults)."""

    profiles: list[ProfileConfig] = Field(
        default_factory=lambda: [ProfileConfig()],
        description="Scheduling profiles, chosen by a pod's spec.schedulerName.",
    )
    percentage_of_nodes_to_score: int = Field(
        0, ge=0, le=100, description="0 = adaptive (50 - nodes/125, at least 5%)."
    )
    pod_initial_backoff: Duration = Field(1.0, description="podInitialBackoffSeconds (1s).")
    pod_max_backoff: Duration = Field(10.0, description="podMaxBackoffSeconds (10s).")
    qps: float = Field(50.0, gt=0, description="clientConnection.qps (50).")
    burst: int = Field(100, ge=1, description="clientConnection.burst (100).")
    cycle_base: Duration = Field(
        300e-6, description="Fixed cost of one scheduling cycle (queue pop, snapshot, assume)."
    )
    per_node_cost: Duration = Field(
        1.2e-6,
        description="Filter cost per node evaluated (the default plugins, run in parallel).",
    )
    per_scored_node_cost: Duration = Field(
        0.8e-6,
        description="Score cost per feasible node scored. With the base: about 770 pods/s at "
        "5000 nodes (500 evaluated), as scheduler_perf SchedulingBasic (floor 680 pods/s).",
    )
    pod_anti_affinity_filter_cost: Duration = Field(
        30e-6, description="Extra filter cost per node for a pod with required pod anti-affinity "
        "(scheduler_perf: about 60 pods/s at 5000 nodes).")
    pod_affinity_filter_cost: Duration = Field(
        55e-6, description="Extra filter cost per node for a pod with required pod affinity (about 35 pods/s).")
    preferred_affinity_score_cost: Duration = Field(
        20e-6, description="Extra score cost per node for a pod with preferred (anti-)affinity (about 90 pods/s).")
    unschedulable_flush_interval: Duration = Field(
        30.0, description="How often pods long in unschedulablePods are flushed (30s)."
    )
    pod_max_in_unschedulable_pods: Duration = Field(
        300.0, description="DefaultPodMaxInUnschedulablePodsDuration (5m)."
    )


class ControllerManagerConfig(Model):
    """kube-controller-manager. ``qps``/``burst`` are per controller: each gets its own client and token bucket."""

    qps: float = Field(20.0, gt=0, description="--kube-api-qps (20).")
    burst: int = Field(30, ge=1, description="--kube-api-burst (30).")
    concurrent_replicaset_syncs: int = Field(5, ge=1, description="(5)")
    concurrent_deployment_syncs: int = Field(5, ge=1, description="(5)")
    concurrent_job_syncs: int = Field(5, ge=1, description="--concurrent-job-syncs (5).")
    concurrent_ttl_after_finished_syncs: int = Field(5, ge=1, description="--concurrent-ttl-after-finished-syncs (5).")
    concurrent_cron_job_syncs: int = Field(5, ge=1, description="--concurrent-cron-job-syncs (5).")
    concurrent_daemonset_syncs: int = Field(2, ge=1, description="--concurrent-daemonset-syncs (2).")
    concurrent_statefulset_syncs: int = Field(5, ge=1, description="--concurrent-statefulset-syncs (5).")
    sync_latency: Dist = Field(
        default_factory=lambda: Dist(dist="constant", value="1ms"),
        description="CPU time of one controller sync before its API calls.",
    )
    burst_replicas: int = Field(500, ge=1, description="ReplicaSet BurstReplicas (500 per sync).")
    concurrent_service_endpoint_syncs: int = Field(5, ge=1, description="EndpointSlice workers (5).")
    max_endpoints_per_slice: int = Field(100, ge=1, le=1000, description="--max-endpoints-per-slice (100).")
    endpoint_updates_batch_period: Duration = Field(
        0.0, description="--endpointslice-updates-batch-period (0: a pod change is synced at once).")
    volume_provisioning: Dist = Field(
        default_factory=lambda: _lognormal("5s", "20s"),
        description="A claim's dynamic provisioning: the CSI driver creates the disk and the "
        "PV controller binds it (typical cloud block storage; no upstream default).",
    )
    # Node lifecycle controller: kcm flags, pkg/controller/nodelifecycle/config/v1alpha1/defaults.go
    node_monitor_period: Duration = Field(5.0, gt=0, description="--node-monitor-period (5s).")
    node_monitor_grace_period: Duration = Field(
        50.0, gt=0, description="--node-monitor-grace-period (50s since 1.32; 40s before).")
    node_startup_grace_period: Duration = Field(60.0, gt=0, description="--node-startup-grace-period (60s).")
    node_eviction_rate: float = Field(
        0.1, ge=0, description="--node-eviction-rate: nodes tainted per second in a healthy zone (0.1).")
    secondary_node_eviction_rate: float = Field(
        0.01, ge=0, description="--secondary-node-eviction-rate: in a partially disrupted zone (0.01).")
    large_cluster_size_threshold: int = Field(
        50, ge=0, description="--large-cluster-size-threshold: smaller zones stop tainting when unhealthy (50).")
    unhealthy_zone_threshold: float = Field(
        0.55, ge=0, le=1, description="--unhealthy-zone-threshold: fraction of NotReady nodes (0.55).")
    # HPA flags; defaults from pkg/controller/podautoscaler/config/v1alpha1/defaults.go
    horizontal_pod_autoscaler_sync_period: Duration = Field(
        15.0, gt=0, description="--horizontal-pod-autoscaler-sync-period (15s).")
    horizontal_pod_autoscaler_tolerance: float = Field(
        0.1, ge=0, description="--horizontal-pod-autoscaler-tolerance (0.1).")
    horizontal_pod_autoscaler_downscale_stabilization: Duration = Field(
        300.0, description="--horizontal-pod-autoscaler-downscale-stabilization (5m).")
    horizontal_pod_autoscaler_cpu_initialization_period: Duration = Field(
        300.0, description="--horizontal-pod-autoscaler-cpu-initialization-period (5m).")
    horizontal_pod_autoscaler_initial_readiness_delay: Duration = Field(
        30.0, description="--horizontal-pod-autoscaler-initial-readiness-delay (30s).")
    concurrent_horizontal_pod_autoscaler_syncs: int = Field(
        5, ge=1, description="--concurrent-horizontal-pod-autoscaler-syncs (5).")


class KubeletConfig(Model):
    """kubelet (KubeletConfiguration v1beta1 defaults) and the container runtime."""

    node_status_update_frequency: Duration = Field(10.0, description="(10s)")
    sync_frequency: Duration = Field(
        60.0, description="syncFrequency (1m): a running pod is re-synced every 1-1.5x this; "
        "mounted ConfigMaps and Secrets are refreshed at these syncs.")
    node_status_report_frequency: Duration = Field(300.0, description="(5m)")
    node_status_max_images: int = Field(
        50, ge=-1, description="nodeStatusMaxImages (50): largest images listed in status.images; -1 all."
    )
    node_lease_duration_seconds: int = Field(40, ge=1, description="(40); renewed every 1/4.")
    kube_api_qps: float = Field(50.0, gt=0, description="kubeAPIQPS (50).")
    kube_api_burst: int = Field(100, ge=1, description="kubeAPIBurst (100).")
    serialize_image_pulls: bool = Field(True, description="One image pull at a time (true).")
    registry_bandwidth: ByteSize = Field(
        100 * 1024**2, gt=0, description="Bytes/s one node pulls from the registry."
    )
    image_pull_overhead: Dist = Field(
        default_factory=lambda: _lognormal("300ms", "1s"),
        description="Registry round trips per pull (manifest, auth) before the bytes flow.",
    )
    sandbox_start: Dist = Field(
        default_factory=lambda: _lognormal("400ms", "1.5s"),
        description="Pod worker start: RunPodSandbox (pause container, CNI) and volumes.",
    )
    container_restart_backoff: Duration = Field(
        10.0, description="CrashLoopBackOff: first back-off before restarting an exited container (10s)."
    )
    max_container_restart_period: Duration = Field(
        300.0, description="crashLoopBackOff.maxContainerRestartPeriod: back-off cap (5m)."
    )
    pleg_relist_period: Duration = Field(
        1.0, description="Generic PLEG relist (1s): container state is seen at the next relist."
    )
    default_image_size: ByteSize = Field(
        50 * 1024**2, gt=0, description="Size of an image a workload does not describe."
    )
    image_pull_policy: Literal["IfNotPresent", "Always", "Never"] | None = Field(
        None, description="Override every container's imagePullPolicy (default: manifest's)."
    )


class MetricsServerConfig(Model):
    """metrics-server and the kubelets' CPU counters: the resource metrics the HPA reads."""

    enabled: bool | None = Field(
        None, description="Run metrics-server (default: when the scenario has an HPA).")
    metric_resolution: Duration = Field(
        15.0, gt=0, description="--metric-resolution, the scrape period (15s in the project's "
        "manifests; the binary's default is 60s).")
    housekeeping_interval: Duration = Field(
        10.0, ge=0, description="The kubelet's cAdvisor housekeeping (10s): a scrape reads "
        "counters from a container's last housekeeping, up to this old; 0 reads them live.")


class ClusterAutoscalerConfig(Model):
    """cluster-autoscaler flags; defaults from cluster-autoscaler/FAQ.md's parameter table (1.36).

    It runs when some node pool has ``autoscaling: {min, max}``."""

    scan_interval: Duration = Field(10.0, gt=0, description="--scan-interval (10s).")
    expander: Literal["least-waste", "random"] = Field(
        "least-waste", description="--expander: which node group grows (least-waste in this model's pin).")
    max_nodes_per_scaleup: int = Field(1000, ge=1, description="--max-nodes-per-scaleup (1000).")
    scale_down_enabled: bool = Field(True, description="--scale-down-enabled (true).")
    scale_down_utilization_threshold: float = Field(
        0.5, ge=0, le=1, description="--scale-down-utilization-threshold: max(cpu, memory) requested / "
        "allocatable below which a node is unneeded (0.5).")
    scale_down_gpu_utilization_threshold: float = Field(
        0.5, ge=0, le=1, description="--scale-down-gpu-utilization-threshold, for GPU nodes (0.5).")
    scale_down_unneeded_time: Duration = Field(
        600.0, ge=0, description="--scale-down-unneeded-time: unneeded this long before removal (10m).")
    scale_down_delay_after_add: Duration = Field(
        600.0, ge=0, description="--scale-down-delay-after-add: no scale-down this soon after a scale-up (10m).")
    scale_down_delay_after_delete: Duration = Field(
        0.0, ge=0, description="--scale-down-delay-after-delete (0s, i.e. the scan interval).")
    max_empty_bulk_delete: int = Field(
        10, ge=1, description="--max-scale-down-parallelism: empty nodes removed at once (10).")
    max_drain_parallelism: int = Field(1, ge=1, description="--max-drain-parallelism: non-empty nodes (1).")
    max_graceful_termination_sec: Duration = Field(
        600.0, ge=0, description="--max-graceful-termination-sec: cap on a drained pod's grace (600).")
    provisioning: Dist = Field(
        default_factory=lambda: _lognormal("3m", "4m"),
        description="Cloud VM creation to kubelet start (typical GCE 3-4 min; no upstream default).")
    qps: float = Field(5.0, gt=0, description="--kube-client-qps (5).")
    burst: int = Field(10, ge=1, description="--kube-client-burst (10).")


class KubeProxyConfig(Model):
    """kube-proxy (KubeProxyConfiguration v1alpha1, iptables/nftables mode).

    Rules are re-synced when a Service or EndpointSlice changes, at least ``minSyncPeriod``
    after the previous sync ended, and in full once an hour. (The ``syncPeriod`` flag, 30s,
    is only the retry interval after a failed sync and the iptables canary check period;
    kubesim's syncs do not fail, so it has no field here.)
    """

    mode: Literal["iptables", "ipvs"] = Field(
        "iptables", description="How serving traffic picks an endpoint: iptables (and nftables) pick "
        "uniformly at random per connection; ipvs round-robins (its default scheduler, rr).")
    min_sync_period: Duration = Field(1.0, description="iptables.minSyncPeriod (1s).")
    sync_duration: Dist = Field(
        default_factory=lambda: _lognormal("20ms", "200ms"),
        description="One syncProxyRules run: compute and iptables-restore the rules "
        "(no upstream default; tens of ms in small clusters).")


class ControlPlane(Model):
    """Every timing and limit of the simulated control plane."""

    etcd: EtcdConfig = Field(default_factory=EtcdConfig)
    api_server: ApiServerConfig = Field(default_factory=ApiServerConfig)
    scheduler: SchedulerConfig = Field(default_factory=SchedulerConfig)
    controller_manager: ControllerManagerConfig = Field(default_factory=ControllerManagerConfig)
    kubelet: KubeletConfig = Field(default_factory=KubeletConfig)
    metrics_server: MetricsServerConfig = Field(default_factory=MetricsServerConfig)
    cluster_autoscaler: ClusterAutoscalerConfig = Field(default_factory=ClusterAutoscalerConfig)
    kube_proxy: KubeProxyConfig = Field(default_factory=KubeProxyConfig)
