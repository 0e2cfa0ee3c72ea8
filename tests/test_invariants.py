"""Property tests: invariants of whole simulations over random clusters and workloads.

Hypothesis draws 1-3 node pools (cpu, memory, max pods, GPUs, labels, taints) and a few
Deployments and bare Pods (requests, tolerations, nodeSelectors, a scale action), runs the
full control plane for 90 simulated seconds, and checks the outcome against the scenario's
own manifests, recomputed here without the scheduler's NodeTable:

(a) at every bind, no node's bound, not-yet-deleted pods request more than its allocatable;
(b) every pod ends started, deleted, or pending with a FailedScheduling reason and truly
    fitting no node;
(c) no pod is bound twice;
(d) pods land only on nodes whose NoSchedule/NoExecute taints they tolerate and whose labels
    match their nodeSelector.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.engine import Simulation
from sim.scenario import scenario_from_text

MI, GI = 1024**2, 1024**3
CPU = {"0": 0, "100m": 100, "250m": 250, "500m": 500, "1": 1000, "2": 2000, "4": 4000, "8": 8000}
MEMORY = {"0": 0, "128Mi": 128 * MI, "512Mi": 512 * MI, "1Gi": GI, "2Gi": 2 * GI, "4Gi": 4 * GI,
          "8Gi": 8 * GI, "16Gi": 16 * GI}
GPU = "nvidia.com/gpu"
POOL_LABEL = "kubesim.io/node-pool"
DURATION = 90

TAINTS = [
    {"key": "dedicated", "value": "web", "effect": "NoSchedule"},
    {"key": "dedicated", "value": "batch", "effect": "NoSchedule"},
    {"key": GPU, "value": "present", "effect": "NoSchedule"},
    {"key": "spot", "value": "", "effect": "PreferNoSchedule"},
    {"key": "maintenance", "value": "", "effect": "NoExecute"},
]
TOLERATIONS = [
    {"key": "dedicated", "operator": "Equal", "value": "web", "effect": "NoSchedule"},
    {"key": "dedicated", "operator": "Exists"},
    {"key": GPU, "operator": "Exists", "effect": "NoSchedule"},
    {"key": "maintenance", "operator": "Exists", "effect": "NoExecute"},
    {"operator": "Exists"},
]
SELECTORS = [None, {"tier": "web"}, {"tier": "batch"}, {POOL_LABEL: "pool-0"}]


# ------------------------------------------------------------------ strategies

@st.composite
def pools(draw: st.DrawFn) -> list[dict[str, Any]]:
    out = []
    for i in range(draw(st.integers(1, 3))):
        capacity: dict[str, Any] = {"cpu": draw(st.sampled_from(["1", "2", "4", "8"])),
                                    "memory": draw(st.sampled_from(["2Gi", "4Gi", "8Gi", "16Gi"])),
                                    "pods": draw(st.sampled_from([3, 8, 110]))}
        gpus = draw(st.sampled_from([0, 0, 1, 2, 4]))
        if gpus:
            capacity[GPU] = gpus
        taints = draw(st.lists(st.sampled_from(TAINTS), max_size=2,
                               unique_by=lambda t: (t["key"], t["effect"])))
        out.append({"name": f"pool-{i}", "count": draw(st.integers(1, 3)), "capacity": capacity,
                    "labels": {"tier": draw(st.sampled_from(["web", "batch"]))}, "taints": taints})
    return out


@st.composite
def pod_specs(draw: st.DrawFn) -> dict[str, Any]:
    requests: dict[str, Any] = {}
    cpu = draw(st.sampled_from([None, "0", "100m", "250m", "500m", "1", "2"]))
    memory = draw(st.sampled_from([None, "128Mi", "512Mi", "1Gi", "4Gi"]))
    gpus = draw(st.sampled_from([0, 0, 0, 1, 2]))
    if cpu is not None:
        requests["cpu"] = cpu
    if memory is not None:
        requests["memory"] = memory
    if gpus:
        requests[GPU] = gpus
    container: dict[str, Any] = {"name": "c", "image": "registry.k8s.io/pause:3.10"}
    if requests:
        container["resources"] = {"requests": requests}
    spec: dict[str, Any] = {"containers": [container]}
    tolerations = draw(st.lists(st.sampled_from(TOLERATIONS), max_size=2, unique_by=str))
    if tolerations:
        spec["tolerations"] = tolerations
    selector = draw(st.sampled_from(SELECTORS))
    if selector:
        spec["nodeSelector"] = selector
    return spec


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    workloads, timeline = [], []
    for i in range(draw(st.integers(1, 3))):
        name = f"d{i}"
        workloads.append({"name": name, "at": f"{draw(st.integers(0, 10))}s", "manifests": [{
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": draw(st.integers(1, 6)), "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": draw(pod_specs())}}}]})
        if draw(st.booleans()):
            timeline.append({"at": f"{draw(st.integers(15, 40))}s", "action": "scale",
                             "target": f"deployment/{name}", "replicas": draw(st.integers(0, 6))})
    for i in range(draw(st.integers(0, 2))):
        workloads.append({"name": f"p{i}", "at": f"{draw(st.integers(0, 10))}s", "manifests": [{
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"p{i}"}, "spec": draw(pod_specs())}]})
    return {"name": "random", "seed": draw(st.integers(0, 2**16)), "duration": f"{DURATION}s",
            "cluster": {"nodePools": draw(pools())}, "workloads": workloads, "timeline": timeline}


# ------------------------------------------------------------------ independent model

def amount(resource: str, qty: Any) -> int:
    if resource == "cpu":
        return CPU[str(qty)]
    if resource == "memory":
        return MEMORY[str(qty)]
    return int(qty)


def tolerates(toleration: dict[str, str], taint: dict[str, str]) -> bool:
    """core/v1 ToleratesTaint, written out again."""
    if toleration.get("effect") and toleration["effect"] != taint["effect"]:
        return False
    if toleration.get("key") and toleration["key"] != taint["key"]:
        return False
    if toleration.get("operator") == "Exists":
        return True
    return toleration.get("value", "") == taint["value"]


class Model:
    """Nodes and pod manifests of one scenario, as the test (not the scheduler) sees them."""

    def __init__(self, data: dict[str, Any], sim: Simulation) -> None:
        self.alloc: dict[str, dict[str, int]] = {}
        self.taints: dict[str, list[dict[str, str]]] = {}
        for pool in data["cluster"]["nodePools"]:
            for i in range(pool["count"]):
                name = f"{pool['name']}-{i}"
                self.alloc[name] = {r: amount(r, q) for r, q in pool["capacity"].items()}
                self.taints[name] = pool["taints"]
        self.labels = {n.meta.name: n.meta.labels for n in sim.nodes}
        self.specs: dict[str, dict[str, Any]] = {}
        for workload in data["workloads"]:
            manifest = workload["manifests"][0]
            is_pod = manifest["kind"] == "Pod"
            spec = manifest["spec"] if is_pod else manifest["spec"]["template"]["spec"]
            self.specs[manifest["metadata"]["name"] + ("" if is_pod else "-")] = spec

    def spec_of(self, pod: str) -> dict[str, Any]:
        if pod in self.specs:
            return self.specs[pod]
        return self.specs[pod.split("-")[0] + "-"]

    def requests(self, pod: str) -> dict[str, int]:
        reqs = self.spec_of(pod)["containers"][0].get("resources", {}).get("requests", {})
        return {"pods": 1, **{r: amount(r, q) for r, q in reqs.items()}}

    def placement_ok(self, pod: str, node: str) -> bool:
        spec = self.spec_of(pod)
        tolerations = spec.get("tolerations", [])
        for taint in self.taints[node]:
            if taint["effect"] in ("NoSchedule", "NoExecute") and not any(tolerates(t, taint) for t in tolerations):
                return False
        return all(self.labels[node].get(k) == v for k, v in (spec.get("nodeSelector") or {}).items())

    def fits(self, pod: str, node: str, used: dict[str, int]) -> bool:
        free_ok = all(q == 0 or used.get(r, 0) + q <= self.alloc[node].get(r, 0)
                      for r, q in self.requests(pod).items())
        return free_ok and self.placement_ok(pod, node)


def replay(model: Model, events: list[dict[str, Any]]) -> tuple[dict[str, dict[str, int]], dict[str, str]]:
    """Node usage over the trace, asserting (a) at every bind; returns final usage and bindings."""
    used: dict[str, dict[str, int]] = defaultdict(Counter)
    bound: dict[str, str] = {}
    for e in events:
        if e["kind"] != "Pod":
            continue
        pod = e["name"]
        if e["event"] == "bound":
            node = e["node"]
            bound[pod] = node
            for r, q in model.requests(pod).items():
                used[node][r] += q
                assert used[node][r] <= model.alloc[node].get(r, 0), (
                    f"(a) t={e['t']:.3f} {node} over {r}: {used[node][r]} > {model.alloc[node].get(r, 0)}")
        elif e["event"] in ("deleted", "succeeded", "failed") and pod in bound:
            for r, q in model.requests(pod).items():
                used[bound[pod]][r] -= q
            del bound[pod]
    return used, bound


# ------------------------------------------------------------------ the property

@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_simulation_invariants(data: dict[str, Any]) -> None:
    """Capacity, liveness, single binding and placement hold for random clusters and workloads."""
    sim = Simulation(scenario_from_text(yaml.safe_dump(data, sort_keys=False)))
    result = sim.run()
    model = Model(data, sim)
    events = list(result.trace.events())
    used, _ = replay(model, events)  # (a)

    binds = Counter(e["name"] for e in events if e["kind"] == "Pod" and e["event"] == "bound")
    assert all(n == 1 for n in binds.values()), f"(c) bound twice: {binds}"

    pods = result.trace.pods_frame()
    failed_attempts = dict(zip(pods["name"], pods["attempts"], strict=True))
    for row in pods.itertuples():
        if row.bound == row.bound:  # bound (not NaN)
            assert model.placement_ok(row.name, row.node), f"(d) {row.name} on {row.node}"
        if row.deleted == row.deleted or row.terminating == row.terminating:
            continue  # removed by a scale-down
        if row.bound == row.bound:
            assert row.started == row.started, f"(b) {row.name} bound to {row.node} but never started"
            continue
        # still pending: it was tried, told why, and really fits nowhere
        assert failed_attempts[row.name] >= 1, f"(b) {row.name} pending without a FailedScheduling"
        stored = sim.api.store.get("Pod", row.namespace, row.name)
        assert stored is not None
        assert stored.reason == "Unschedulable"
        assert stored.message.startswith("0/")
        fitting = [n for n in model.alloc if model.fits(row.name, n, used[n])]
        assert not fitting, f"(b) {row.name} pending at the end but fits {fitting}: {stored.message}"
