"""Summary figures of a run, computed from its trace (so a real trace gets the same ones).

Pod startup follows SIG-Scalability's SLI: from creation to all containers started as
observed via watch, excluding image pulls (SLO: p99 <= 5 s). Pod ready time is what users
wait for: creation to Ready, pulls included.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from sim.trace import Trace
from sim.workloads.training import Rendezvous

if TYPE_CHECKING:
    from sim.engine import Simulation

__all__ = ["DEFAULT_REPORT_METRICS", "METRICS", "SERVING_REPORT_METRICS", "pod_latencies", "pod_state_series",
           "ready_over_time", "summarize", "trace_metrics"]

METRICS: dict[str, tuple[str, str]] = {
    "pods_created": ("Pods created", ""),
    "pods_scheduled": ("Pods scheduled", ""),
    "pods_ready": ("Pods ready", ""),
    "pods_pending_at_end": ("Pods still pending at the end", ""),
    "pod_startup_p50_s": ("Pod startup p50 (SLI, excl. image pulls)", "s"),
    "pod_startup_p99_s": ("Pod startup p99 (SLO: <= 5 s)", "s"),
    "pod_ready_p50_s": ("Created to Ready p50", "s"),
    "pod_ready_p99_s": ("Created to Ready p99", "s"),
    "scheduling_latency_p50_s": ("Created to scheduled p50", "s"),
    "scheduling_latency_p99_s": ("Created to scheduled p99", "s"),
    "image_pull_p50_s": ("Image pull p50", "s"),
    "scheduling_throughput_pods_per_s": ("Scheduling throughput (avg of busy seconds)", "pods/s"),
    "scheduling_throughput_peak_pods_per_s": ("Scheduling throughput (peak second)", "pods/s"),
    "scheduling_attempts": ("Scheduling attempts", ""),
    "scheduler_busy_fraction": ("Scheduler busy fraction", ""),
    "apiserver_requests": ("API mutating requests", ""),
    "apiserver_request_p99_s": ("API request latency p99", "s"),
    "apiserver_peak_queued": ("API requests queued (peak)", ""),
    "etcd_writes": ("etcd writes", ""),
    "etcd_commit_p50_s": ("etcd commit latency p50", "s"),
    "etcd_commit_p99_s": ("etcd commit latency p99", "s"),
    "etcd_db_size_bytes": ("etcd db size", "bytes"),
    "training_jobs_completed": ("Training jobs completed", ""),
    "training_jct_mean_s": ("Training job completion time (mean)", "s"),
    "training_lost_steps": ("Training steps lost to failures", ""),
    "training_goodput": ("Training goodput (useful time / job time)", ""),
    "cost_per_hour": ("Cluster cost per hour", "$"),
    "cost_total": ("Cluster cost of this run (every VM while it ran)", "$"),
    "serving_mode": ("Serving simulation mode", ""),
    "requests_offered": ("Requests offered", ""),
    "requests_served": ("Requests served", ""),
    "requests_dropped": ("Requests dropped (queue full, no endpoints, ingress)", ""),
    "requests_timed_out": ("Requests timed out in queue", ""),
    "drop_rate": ("Drop rate", ""),
    "timeout_rate": ("Timeout rate", ""),
    "throughput_rps": ("Throughput (served)", "req/s"),
    "latency_p50_s": ("Request latency p50", "s"),
    "latency_p95_s": ("Request latency p95", "s"),
    "latency_p99_s": ("Request latency p99", "s"),
    "slo_attainment": ("SLO attainment (served within the SLO latency)", ""),
    "requests_queue_full": ("Dropped: queue full", ""),
    "requests_no_endpoints": ("Dropped: no ready endpoints", ""),
    "requests_ingress_overload": ("Dropped: ingress controller over capacity", ""),
    "requests_no_route": ("Dropped: no Ingress rule (404)", ""),
    "serving_replica_hours": ("Model-server replica-hours (ready)", "h"),
    "serving_cost": ("Cost of the serving pods' share of their nodes", "$"),
    "serving_cost_per_1k_requests": ("Serving cost per 1,000 requests served", "$"),
}
"""Every summary figure a scenario's ``outputs.metrics`` can pick: (label, unit)."""

DEFAULT_REPORT_METRICS = ("pods_created", "pods_ready", "pods_pending_at_end", "pod_startup_p50_s",
                          "pod_startup_p99_s", "pod_ready_p50_s", "pod_ready_p99_s",
                          "scheduling_throughput_pods_per_s", "apiserver_request_p99_s", "etcd_commit_p99_s",
                          "cost_per_hour", "cost_total")
SERVING_REPORT_METRICS = ("requests_offered", "throughput_rps", "latency_p50_s", "latency_p95_s", "latency_p99_s",
                          "drop_rate", "timeout_rate", "slo_attainment", "serving_replica_hours", "serving_cost",
                          "serving_cost_per_1k_requests")
"""Added to the default report when the scenario has traffic."""


def _pct(values: np.ndarray, q: float) -> float | None:
    values = values[~np.isnan(values)]
    return round(float(np.percentile(values, q)), 6) if len(values) else None


def pod_latencies(pods: Any) -> dict[str, np.ndarray]:
    """Per-pod latency arrays (seconds) from a pods frame; NaN where a step never happened."""
    pull = (pods["pulled"] - pods["pulling"]).fillna(0).clip(lower=0).to_numpy(dtype=float)
    started = pods["started"].to_numpy(dtype=float)
    created = pods["created"].to_numpy(dtype=float)
    return {
        "startup": started - created - pull,
        "ready": pods["ready"].to_numpy(dtype=float) - created,
        "scheduling": pods["scheduled"].to_numpy(dtype=float) - created,
        "pull": np.where(np.isnan(pods["pulling"].to_numpy(dtype=float)), np.nan, pull),
    }


def _count_over_time(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Step series of how many [start, end) intervals are open; NaN start = never, NaN end = open."""
    began = ~np.isnan(starts)
    starts, ends = starts[began], ends[began]
    closed = ~np.isnan(ends)
    times = np.concatenate([starts, ends[closed]])
    steps = np.concatenate([np.ones(len(starts)), -np.ones(int(closed.sum()))])
    order = np.lexsort((steps, times))  # at equal times, closings first
    return times[order], np.cumsum(steps[order])


READY_ENDS = ("notReady", "terminating", "deleted", "failed", "succeeded")
"""Pod events after which the API no longer shows the pod Ready (until its next ``ready``)."""


def ready_over_time(trace: Trace, name_prefix: str = "", namespace: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Step series (t, count) of Ready pods, following each pod through ready / not-ready
    transitions (a node marked NotReady, a pod deleted, ...); optionally only pods whose
    name starts with ``name_prefix``."""
    frame = trace.to_frame()
    if frame.empty:
        return np.zeros(0), np.zeros(0)
    events = frame["event"].astype(str)
    keep = (frame["kind"] == "Pod").to_numpy() & events.isin(("ready", *READY_ENDS)).to_numpy()
    if name_prefix:
        keep &= frame["name"].astype(str).str.startswith(name_prefix).to_numpy()
    if namespace is not None:
        keep &= (frame["namespace"] == namespace).to_numpy()
    t = frame["t"].to_numpy()[keep]
    key = (frame["namespace"].cat.codes.to_numpy().astype(np.int64) << 32
           | frame["name"].cat.codes.to_numpy().astype(np.int64))[keep]
    ready = (events.to_numpy() == "ready")[keep]
    order = np.lexsort((np.arange(len(t)), t, key))  # per pod, in time (then record) order
    key, ready, t = key[order], ready[order], t[order]
    before = np.concatenate([[False], ready[:-1]])
    before[np.concatenate([[True], key[1:] != key[:-1]])] = False  # each pod starts not ready
    delta = ready.astype(np.int64) - before.astype(np.int64)
    changed = delta != 0
    t, delta = t[changed], delta[changed]
    by_time = np.lexsort((delta, t))  # at equal times, drops first
    return t[by_time], np.cumsum(delta[by_time]).astype(np.float64)


def pod_state_series(trace: Trace) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Pending, running and ready pod counts over time, derived from the events."""
    pods = trace.pods_frame()
    if pods.empty:
        return {name: (np.zeros(0), np.zeros(0)) for name in ("pending", "running", "ready")}
    col = {name: pods[name].to_numpy(dtype=float) for name in pods.columns if name not in ("namespace", "name", "node")}
    ended = np.fmin(np.fmin(col["deleted"], col["succeeded"]), col["failed"])
    return {
        "pending": _count_over_time(col["created"], np.fmin(col["bound"], col["deleted"])),
        "running": _count_over_time(col["started"], ended),
        "ready": ready_over_time(trace),
    }


def trace_metrics(trace: Trace) -> dict[str, Any]:
    """Pod counts and latency percentiles of any trace, simulated or real."""
    pods = trace.pods_frame()
    lat = pod_latencies(pods) if len(pods) else {k: np.zeros(0) for k in ("startup", "ready", "scheduling", "pull")}
    bound = pods["bound"].dropna().to_numpy() if len(pods) else np.zeros(0)
    created = pods["created"].dropna().to_numpy() if len(pods) else np.zeros(0)
    buckets = np.bincount(np.floor(bound).astype(np.int64)) if len(bound) else np.zeros(0, np.int64)
    active = buckets[buckets > 0]
    final_pending = int((pods["bound"].isna() & pods["deleted"].isna()).sum()) if len(pods) else 0
    return {
        "pods_created": int(len(created)),
        "pods_scheduled": int(len(bound)),
        "pods_ready": int(pods["ready"].notna().sum()) if len(pods) else 0,
        "pods_pending_at_end": final_pending,
        "pod_startup_p50_s": _pct(lat["startup"], 50),
        "pod_startup_p99_s": _pct(lat["startup"], 99),
        "pod_ready_p50_s": _pct(lat["ready"], 50),
        "pod_ready_p99_s": _pct(lat["ready"], 99),
        "scheduling_latency_p50_s": _pct(lat["scheduling"], 50),
        "scheduling_latency_p99_s": _pct(lat["scheduling"], 99),
        "image_pull_p50_s": _pct(lat["pull"], 50),
        "scheduling_throughput_pods_per_s": round(float(active.mean()), 3) if len(active) else None,
        "scheduling_throughput_peak_pods_per_s": int(active.max()) if len(active) else None,
    }


def training_metrics(sim: Simulation) -> dict[str, Any]:
    """Job completion time, lost work and goodput of the training jobs (if any)."""
    rendezvous = getattr(sim, "rendezvous", None)
    stats = rendezvous.stats if rendezvous is not None else {}
    trained = [s for s in stats.values() if s.step_s > 0]
    # a job whose workers never all joined never trained, but it is a training job all the same
    jobs = {key for key, s in stats.items() if s.step_s > 0} | {
        Rendezvous.job_of(pod) for pod in sim.api.store.list("Pod")
        if pod.spec.behavior.training is not None and pod.spec.behavior.rendezvous is not None}
    if not jobs:
        return {}
    done = [s for s in trained if s.completed is not None]
    jct = [s.completed - s.first_created for s in done]  # type: ignore[operator]
    useful = sum(s.steps_done * s.step_s for s in done)
    return {
        "training_jobs": len(jobs),
        "training_jobs_completed": len(done),
        "training_jct_mean_s": round(float(np.mean(jct)), 3) if jct else None,
        "training_jct_max_s": round(float(np.max(jct)), 3) if jct else None,
        "training_lost_steps": int(sum(s.lost_steps for s in trained)),
        "training_restarts": int(sum(s.restarts for s in trained)),
        "training_goodput": round(useful / sum(jct), 4) if jct and sum(jct) > 0 else None,
    }


def summarize(sim: Simulation) -> dict[str, Any]:
    """The summary.json figures of a finished simulation."""
    trace, api = sim.trace, sim.api
    scenario = sim.scenario
    cost_per_hour = sum(p.count * p.price_per_hour for p in scenario.cluster.node_pools)
    commits = np.array(api.etcd.commit_latencies, dtype=np.float64)
    requests = np.array(api.latencies, dtype=np.float64)
    # SimPy numbers every scheduled event; the next id is the count processed so far.
    events = next(sim.env._eid)  # noqa: SLF001
    summary: dict[str, Any] = {
        "scenario": scenario.name,
        "seed": sim.seed,
        "kubernetes_version": trace.header.get("kubernetesVersion"),
        "sim_time_s": scenario.duration,
        "wall_time_s": round(sim.wall_time_s, 3),
        "events": int(events),
        "events_per_wall_s": round(events / sim.wall_time_s) if sim.wall_time_s > 0 else None,
        "nodes": len(sim.nodes),
        **trace_metrics(trace),
        "scheduling_attempts": sim.scheduler.attempts,
        "scheduler_busy_fraction": round(sim.scheduler.busy_s / scenario.duration, 4),
        "apiserver_requests": len(requests),
        "apiserver_request_p99_s": _pct(requests, 99),
        "apiserver_peak_queued": api.peak_queue,
        "etcd_writes": api.etcd.writes,
        "etcd_commit_p50_s": _pct(commits, 50),
        "etcd_commit_p99_s": _pct(commits, 99),
        "etcd_db_size_bytes": api.db_size_bytes,
        **training_metrics(sim),
        "cost_per_hour": round(cost_per_hour, 4),
        "cost_total": round(sim.billing.total(scenario.duration), 4),
    }
    if getattr(sim, "serving", None) is not None:
        summary.update(sim.serving.finish())
    return summary
