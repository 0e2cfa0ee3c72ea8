"""DaemonSet controller (sim/controllers/daemonset.py) and the components that treat daemon
pods apart: the scheduler (matchFields), kubectl drain, taint eviction, the cluster autoscaler."""

from __future__ import annotations

import pandas as pd
import pytest

from sim.api.selectors import NODE_NAME_FIELD
from sim.controllers.clusterautoscaler import estimate_nodes, simulation_profile
from sim.controllers.daemonset import DAEMON_TOLERATIONS, should_run
from sim.engine import Result, run
from sim.scenario import scenario_from_text
from sim.yamlio import SourceError


def ds_scenario(daemonset: str = "", extra_pools: str = "", timeline: str = "", duration: str = "4m",
                workloads: str = "") -> str:
    return f"""
name: ds
duration: {duration}
cluster:
  nodePools:
  - {{name: cpu, count: 3, capacity: {{cpu: "4", memory: 16Gi}}}}
  - {{name: gpu, count: 2, capacity: {{cpu: "32", memory: 128Gi, nvidia.com/gpu: 4}}, labels: {{accelerator: nvidia}},
     taints: [{{key: nvidia.com/gpu, value: present, effect: NoSchedule}}]}}
{extra_pools}
workloads:
- name: agents
  behavior: {{readiness: 2s}}
  manifests:
  - apiVersion: apps/v1
    kind: DaemonSet
    metadata: {{name: agent}}
    spec:
      selector: {{matchLabels: {{app: agent}}}}
{daemonset}
      template:
        metadata: {{labels: {{app: agent}}}}
        spec:
          containers: [{{name: a, image: "agent:1", resources: {{requests: {{cpu: 500m, memory: 256Mi}}}}}}]
{workloads}
timeline: {"[]" if not timeline else ""}
{timeline}
"""


def pods(result: Result) -> pd.DataFrame:
    return result.trace.pods_frame()


def live_agents(result: Result) -> list:
    return sorted((p for p in result.simulation.api.store.list("Pod") if p.meta.owner and
                   p.meta.owner.kind == "DaemonSet" and p.meta.deletion_time is None), key=lambda p: p.node_name)


def test_one_pod_per_node_it_tolerates_scheduled_by_the_scheduler() -> None:
    """Three untainted nodes get one pod each; the tainted GPU nodes none. Each pod names its
    node by matchFields, carries the daemon tolerations and is bound by the default scheduler."""
    result = run(scenario_from_text(ds_scenario()))
    agents = live_agents(result)
    assert [p.node_name for p in agents] == ["cpu-0", "cpu-1", "cpu-2"]
    for pod in agents:
        [term] = pod.spec.required_node_affinity
        assert [(r.key, r.operator, r.values) for r in term.requirements] == [
            (NODE_NAME_FIELD, "In", (pod.node_name,))]
        assert set(DAEMON_TOLERATIONS) <= set(pod.spec.tolerations)
        assert pod.meta.labels["pod-template-generation"] == "1"
        assert pod.ready
    frame = pods(result).set_index("name")
    assert frame.loc[[p.meta.name for p in agents], "scheduled"].notna().all()
    ds = result.simulation.api.store.get("DaemonSet", "default", "agent")
    assert (ds.desired_number_scheduled, ds.current_number_scheduled, ds.number_ready, ds.number_available,
            ds.updated_number_scheduled, ds.number_misscheduled) == (3, 3, 3, 3, 3, 0)


def test_node_selector_and_tolerations_choose_the_nodes() -> None:
    spec = """      template:
        metadata: {labels: {app: agent}}
        spec:
          nodeSelector: {accelerator: nvidia}
          tolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]"""
    text = ds_scenario().replace("""      template:
        metadata: {labels: {app: agent}}
        spec:""", spec)
    result = run(scenario_from_text(text))
    assert [p.node_name for p in live_agents(result)] == ["gpu-0", "gpu-1"]


def test_rolling_update_replaces_one_node_at_a_time() -> None:
    """maxUnavailable 1: a node's old pod is deleted only once every other node has an
    available pod; the new pod comes on the next sync."""
    timeline = "- {at: 1m, action: setImage, target: daemonset/agent, image: agent:2}"
    result = run(scenario_from_text(ds_scenario(timeline=timeline)))
    frame = pods(result)
    frame = frame[frame["name"].str.startswith("agent-")].sort_values("created")
    old, new = frame[frame["created"] < 60], frame[frame["created"] >= 60]
    assert len(old) == 3
    assert len(new) == 3
    assert new["ready"].notna().all()
    for (_, gone), (_, came) in zip(old.sort_values("deleted").iterrows(), new.iterrows(), strict=True):
        assert gone["deleted"] <= came["created"]  # replaced in place: delete, then create
    for i in range(1, 3):  # the next node waits for the previous replacement to be Ready
        assert old.sort_values("deleted")["deleted"].iloc[i] >= new["ready"].iloc[i - 1]
    assert all(p.meta.labels["pod-template-generation"] == "2" for p in live_agents(result))


def test_surge_runs_the_new_pod_beside_the_old_one() -> None:
    """maxSurge 1, maxUnavailable 0: a new pod starts on a node while the old one still runs;
    the old one is deleted once the new one is available. Every node keeps an available pod."""
    strategy = "      updateStrategy: {rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}"
    timeline = "- {at: 1m, action: setImage, target: daemonset/agent, image: agent:2}"
    result = run(scenario_from_text(ds_scenario(strategy, timeline=timeline)))
    frame = pods(result)
    frame = frame[frame["name"].str.startswith("agent-")]
    new = frame[frame["created"] >= 60]
    assert len(new) == 3
    for _, pod in new.iterrows():
        old = frame[(frame["node"] == pod["node"]) & (frame["created"] < 60)].iloc[0]
        assert old["terminating"] >= pod["ready"] > pod["created"] > 60  # overlap, then the old goes
    assert all(p.meta.labels["pod-template-generation"] == "2" for p in live_agents(result))


@pytest.mark.parametrize(("ignore", "drained"), [(False, False), (True, True)])
def test_drain_refuses_daemon_pods_unless_told_to_ignore_them(ignore: bool, drained: bool) -> None:
    timeline = f"- {{at: 30s, action: drain, target: node/cpu-0, ignoreDaemonSets: {str(ignore).lower()}}}"
    result = run(scenario_from_text(ds_scenario(timeline=timeline)))
    df = result.to_frame()
    node = df[(df["kind"] == "Node") & (df["name"] == "cpu-0") & df["event"].isin(["drained", "drainFailed"])]
    assert node["event"].tolist() == ["drained" if drained else "drainFailed"]
    if not drained:
        assert "cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore)" in node["message"].iloc[0]
    assert "cpu-0" in [p.node_name for p in live_agents(result)]  # left in place either way


def test_daemon_pods_outlive_a_node_failure_and_land_on_cordoned_nodes() -> None:
    """Daemon pods tolerate not-ready/unreachable NoExecute without a limit: not evicted after
    300 s like other pods. They also tolerate unschedulable: a DaemonSet created after a
    cordon still runs on the cordoned node."""
    timeline = ("- {at: 10s, action: cordon, target: node/cpu-2}\n"
                "- {at: 30s, action: nodeCrash, nodes: [cpu-0]}")
    text = ds_scenario(timeline=timeline, duration="10m").replace("  behavior: {readiness: 2s}",
                                                                   "  at: 20s\n  behavior: {readiness: 2s}")
    result = run(scenario_from_text(text))
    assert [p.node_name for p in live_agents(result)] == ["cpu-0", "cpu-1", "cpu-2"]
    df = result.to_frame()
    assert not ((df["kind"] == "Pod") & (df["reason"] == "TaintManagerEviction")).any()


def test_cluster_autoscaler_counts_daemon_pods_on_template_nodes() -> None:
    """A 3.8-core pod fits an empty 4-core template node, but not one that also runs the
    0.5-core agent: with the DaemonSet, no group can help it (upstream's template NodeInfo)."""
    from sim.api.manifests import parse_manifest
    from sim.api.objects import WorkloadBehavior
    from sim.engine import Simulation
    from sim.yamlio import load_text

    scenario = scenario_from_text(ds_scenario())
    sim = Simulation(scenario)
    node = next(n for n in sim.nodes if n.meta.name == "cpu-0")
    ds = next(o for _, o in scenario.objects if o.kind == "DaemonSet")
    assert should_run(ds, node) == (True, True)
    big = parse_manifest(load_text("""apiVersion: v1
kind: Pod
metadata: {name: big}
spec: {containers: [{name: c, image: "x:1", resources: {requests: {cpu: 3800m, memory: 1Gi}}}]}
""", "p.yaml")[0], "default", WorkloadBehavior())
    resources = ["cpu", "memory", "pods"]
    assert estimate_nodes(simulation_profile(), resources, node, [big], 2).node_count == 1
    assert estimate_nodes(simulation_profile(), resources, node, [big], 2, [ds]).node_count == 0


def test_a_scaled_up_node_gets_its_daemon_pod_and_a_removed_one_loses_it() -> None:
    """The cluster autoscaler adds a node for pending pods: the DaemonSet puts a pod on it.
    After scale-down removes the node (daemon pods are not moved), its daemon pod is
    collected 40 s later, as PodGC collects orphans."""
    pools = """  - {name: auto, count: 0, autoscaling: {min: 0, max: 2}, capacity: {cpu: "4", memory: 16Gi},
     labels: {pool: auto}, pricePerHour: 0.2}"""
    workloads = """- name: api
  behavior: {readiness: 1s}
  manifests:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {name: api}
    spec:
      replicas: 0
      selector: {matchLabels: {app: api}}
      template:
        metadata: {labels: {app: api}}
        spec:
          nodeSelector: {pool: auto}
          containers: [{name: c, image: "api:1", resources: {requests: {cpu: "3", memory: 1Gi}}}]"""
    timeline = ("- {at: 10s, action: scale, target: deployment/api, replicas: 1}\n"
                "- {at: 3m, action: scale, target: deployment/api, replicas: 0}")
    result = run(scenario_from_text(ds_scenario(extra_pools=pools, workloads=workloads, timeline=timeline,
                                                duration="30m")))
    frame = pods(result)
    on_new = frame[frame["node"] == "auto-0"]
    agent = on_new[on_new["name"].str.startswith("agent-")]
    assert len(agent) == 1
    assert agent["ready"].notna().all()
    df = result.to_frame()
    removed = df[(df["kind"] == "Node") & (df["name"] == "auto-0") & (df["event"] == "deleted")]["t"]
    assert len(removed) == 1
    assert agent["deleted"].iloc[0] == pytest.approx(removed.iloc[0] + 40, abs=1)
    assert "auto-0" not in [p.node_name for p in live_agents(result)]


@pytest.mark.parametrize(("spec", "field", "message"), [
    ("      updateStrategy: {rollingUpdate: {maxSurge: 1}}", "spec.updateStrategy.rollingUpdate.maxSurge",
     "may not be set when maxUnavailable is non-zero"),
    ("      updateStrategy: {rollingUpdate: {maxUnavailable: 0}}", "spec.updateStrategy.rollingUpdate.maxUnavailable",
     "cannot be 0 when maxSurge is 0"),
    ("      replicas: 3", "spec.replicas", "a DaemonSet has no replicas"),
    ("      updateStrategy: {type: Sometimes}", "spec.updateStrategy.type", "expected RollingUpdate or OnDelete"),
], ids=["surge-with-unavailable", "neither", "replicas", "strategy"])
def test_invalid_daemonsets_are_rejected(spec: str, field: str, message: str) -> None:
    with pytest.raises(SourceError) as err:
        scenario_from_text(ds_scenario(spec))
    assert field in str(err.value), str(err.value)
    assert message in str(err.value), str(err.value)


def test_match_fields_in_a_pods_node_affinity() -> None:
    """matchFields metadata.name (In/NotIn, one value) is parsed and scheduled on, as upstream."""
    pod = """- name: pinned
  manifests:
  - apiVersion: v1
    kind: Pod
    metadata: {name: pinned}
    spec:
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms: [{matchFields: [{key: metadata.name, operator: NotIn, values: [cpu-0]}],
                                 matchExpressions: [{key: accelerator, operator: DoesNotExist}]}]
      containers: [{name: c, image: "x:1", resources: {requests: {cpu: 3500m}}}]"""
    result = run(scenario_from_text(ds_scenario(workloads=pod)))
    assert result.simulation.api.store.get("Pod", "default", "pinned").node_name in ("cpu-1", "cpu-2")
    bad = pod.replace("values: [cpu-0]", "values: [cpu-0, cpu-1]")
    with pytest.raises(SourceError, match="must be only one value"):
        scenario_from_text(ds_scenario(workloads=bad))
    with pytest.raises(SourceError, match="only metadata.name is a supported field"):
        scenario_from_text(ds_scenario(workloads=pod.replace("key: metadata.name", "key: spec.nodeName")))


def test_on_delete_leaves_running_pods_alone() -> None:
    """updateStrategy OnDelete: a new image changes no running pod; status counts them as not updated."""
    timeline = "- {at: 1m, action: setImage, target: daemonset/agent, image: agent:2}"
    result = run(scenario_from_text(ds_scenario("      updateStrategy: {type: OnDelete}", timeline=timeline)))
    agents = live_agents(result)
    assert len(agents) == 3
    assert all(p.meta.labels["pod-template-generation"] == "1" for p in agents)
    assert (pods(result)["created"] >= 60).sum() == 0
    ds = result.simulation.api.store.get("DaemonSet", "default", "agent")
    assert (ds.updated_number_scheduled, ds.number_available, ds.observed_generation) == (0, 3, 2)
