"""End to end: PodTopologySpread and InterPodAffinity inside the default profile.

Each scenario runs through the whole control plane (Deployment and ReplicaSet controllers,
API server, scheduler, kubelets) and checks where the replicas landed.
"""

from __future__ import annotations

from collections import Counter

import pytest

from sim import run
from sim.scenario import scenario_from_text

POD_SPEC = "containers: [{name: c, image: registry.k8s.io/pause:3.10%s}]"
DEPLOYMENT = """
- name: {name}
  manifests:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {{name: {name}}}
    spec:
      replicas: {replicas}
      selector: {{matchLabels: {{app: {name}}}}}
      template:
        metadata: {{labels: {{app: {name}}}}}
        spec:
{spec}
"""


def scenario(pools: str, workloads: str, seed: int = 0, extra: str = "") -> str:
    """A one-minute scenario text with these node pools and workloads."""
    return f"name: e2e\nseed: {seed}\nduration: 60s\ncluster:\n  nodePools:\n{pools}\n{extra}workloads:{workloads}"


def per_node(result, app: str) -> dict[str, int]:
    """How many running-or-bound pods of ``app`` each node holds."""
    table = result.simulation.scheduler.table
    return {table.names[r]: sum(e.pod.meta.labels.get("app") == app for e in table.pods_on[r].values())
            for r in range(table.n)}


def per_zone(result, app: str) -> Counter[str]:
    """How many pods of ``app`` each zone holds."""
    table = result.simulation.scheduler.table
    zones: Counter[str] = Counter()
    for name, count in per_node(result, app).items():
        zones[table.nodes[table.index[name]].meta.labels.get("topology.kubernetes.io/zone", "")] += count
    return zones


# Zone a has four big nodes that LeastAllocated prefers; b and c have one small node each.
ZONED = """  - {name: big, count: 4, zones: [a], capacity: {cpu: "64", memory: 256Gi}}
  - {name: small, count: 2, zones: [b, c], capacity: {cpu: "4", memory: 16Gi}}"""
SPREAD = """          topologySpreadConstraints:
          - maxSkew: 1
            topologyKey: topology.kubernetes.io/zone
            whenUnsatisfiable: DoNotSchedule
            labelSelector: {matchLabels: {app: web}}
          """ + POD_SPEC % ", resources: {requests: {cpu: 500m, memory: 64Mi}}"


def test_zone_spread_constraint_balances_three_zones() -> None:
    """Six replicas with a zone maxSkew 1 DoNotSchedule constraint end 2/2/2 over three zones."""
    result = run(scenario_from_text(scenario(ZONED, DEPLOYMENT.format(name="web", replicas=6, spec=SPREAD))))
    assert per_zone(result, "web") == {"a": 2, "b": 2, "c": 2}
    assert result.summary["pods_pending_at_end"] == 0
    # Without the constraint LeastAllocated favours the big zone-a nodes (soft defaults only).
    unconstrained = "          " + POD_SPEC % ", resources: {requests: {cpu: 500m, memory: 64Mi}}"
    result = run(scenario_from_text(scenario(ZONED, DEPLOYMENT.format(name="web", replicas=6, spec=unconstrained))))
    assert per_zone(result, "web")["a"] > 2


ANTI = """          affinity:
            podAntiAffinity:
              requiredDuringSchedulingIgnoredDuringExecution:
              - topologyKey: kubernetes.io/hostname
                labelSelector: {matchLabels: {app: cache}}
          """ + POD_SPEC % ""
THREE_NODES = """  - {name: pool, count: 3, capacity: {cpu: "8", memory: 32Gi}}"""


def test_hostname_anti_affinity_one_replica_per_node() -> None:
    """Required hostname anti-affinity puts one replica per node; the rest stay Pending."""
    result = run(scenario_from_text(scenario(THREE_NODES, DEPLOYMENT.format(name="cache", replicas=5, spec=ANTI))))
    assert sorted(per_node(result, "cache").values()) == [1, 1, 1]
    pending = [p for p in result.simulation.api.store.list("Pod") if not p.node_name]
    assert len(pending) == 2
    for pod in pending:
        assert pod.reason == "Unschedulable"
        assert pod.message.startswith("0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules.")


BEST_EFFORT = "          " + POD_SPEC % ""
EQUAL_NODES = """  - {name: pool, count: 3, capacity: {cpu: "64", memory: 256Gi}}"""
WITHOUT_SPREAD = """controlPlane:
  scheduler:
    profiles:
    - plugins:
        multiPoint:
          disabled: [{name: PodTopologySpread}]
"""


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4], ids=[f"seed-{s}" for s in range(5)])
def test_system_default_spreading(seed: int) -> None:
    """With equal nodes the system default constraints spread a Deployment's replicas 2/2/2."""
    # Best-effort pods on 64-core nodes: LeastAllocated scores 99 everywhere and BalancedAllocation
    # skips them, so only PodTopologySpread's hostname default (maxSkew 3) tells the nodes apart.
    workloads = DEPLOYMENT.format(name="web", replicas=6, spec=BEST_EFFORT)
    result = run(scenario_from_text(scenario(EQUAL_NODES, workloads, seed)))
    assert sorted(per_node(result, "web").values()) == [2, 2, 2]


def test_without_spreading_ties_pile_up() -> None:
    """The same Deployment with PodTopologySpread disabled lands unevenly for some seed."""
    workloads = DEPLOYMENT.format(name="web", replicas=6, spec=BEST_EFFORT)
    layouts = [sorted(per_node(run(scenario_from_text(scenario(EQUAL_NODES, workloads, s, WITHOUT_SPREAD))),
                               "web").values()) for s in range(5)]
    assert any(layout != [2, 2, 2] for layout in layouts), layouts


FOLLOWER = """          affinity:
            podAffinity:
              requiredDuringSchedulingIgnoredDuringExecution:
              - topologyKey: topology.kubernetes.io/zone
                labelSelector: {matchLabels: {app: db}}
          """ + POD_SPEC % ""
DB_LATER = """
- name: db
  at: 5s
  manifests:
  - {apiVersion: v1, kind: Pod, metadata: {name: db, labels: {app: db}},
     spec: {containers: [{name: c, image: registry.k8s.io/pause:3.10}]}}
"""


def test_affinity_follows_a_later_pod_promptly() -> None:
    """Pods waiting for their affinity target are requeued when it is bound (AssignedPodAdd)."""
    # Without the event they would sit in unschedulablePods until the five-minute flush.
    pools = """  - {name: pool, count: 3, zones: [a, b, c], capacity: {cpu: "8", memory: 32Gi}}"""
    result = run(scenario_from_text(scenario(pools, DEPLOYMENT.format(name="web", replicas=2, spec=FOLLOWER)
                                             + DB_LATER)))
    events = result.to_frame()
    scheduled = events[events["event"] == "scheduled"].set_index("name")
    db_node, db_time = scheduled.loc["db", "node"], scheduled.loc["db", "t"]
    web = scheduled[scheduled.index.str.startswith("web-")]
    assert len(web) == 2
    assert (web["node"] == db_node).all()
    assert (web["t"] < db_time + 2.0).all()
