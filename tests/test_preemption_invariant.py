"""Invariant (hypothesis): a higher-priority pod is never left Pending while evicting
lower-priority pods from some node would make it fit there."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.api.quantity import cpu_millis
from sim.engine import run
from sim.scenario import scenario_from_text

PRIORITIES = (0, 100, 1000)


@st.composite
def clusters(draw: st.DrawFn) -> tuple[list[int], list[tuple[int, int, float]]]:
    nodes = draw(st.lists(st.sampled_from([1000, 2000, 4000]), min_size=1, max_size=3))
    pods = draw(st.lists(st.tuples(st.sampled_from([200, 300, 500, 700, 1000, 1500]),
                                   st.sampled_from(PRIORITIES), st.sampled_from([1.0, 20.0])),
                         min_size=1, max_size=10))
    return nodes, pods


def _scenario(nodes: list[int], pods: list[tuple[int, int, float]]) -> str:
    pools = "\n".join(f"  - {{name: n{i}, count: 1, capacity: {{cpu: {cpu}m, memory: 64Gi}}}}"
                      for i, cpu in enumerate(nodes))
    workloads = "\n".join(
        f"- name: p{i}\n  at: {at}s\n  manifests:\n  - {{apiVersion: v1, kind: Pod, metadata: {{name: p{i}}}, "
        f"spec: {{priority: {prio}, containers: [{{name: c, image: 'i:1', "
        f"resources: {{requests: {{cpu: {cpu}m}}}}}}]}}}}"
        for i, (cpu, prio, at) in enumerate(pods))
    return f"name: inv\nduration: 5m\ncluster:\n  nodePools:\n{pools}\nworkloads:\n{workloads}\n"


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clusters())
def test_no_pending_pod_could_preempt_its_way_onto_a_node(case: tuple[list[int], list[tuple[int, int, float]]]) -> None:
    """For every pod still Pending at the end, no node has room once its lower-priority pods go."""
    nodes, pods = case
    result = run(scenario_from_text(_scenario(nodes, pods)))
    frame = result.pods().set_index("name")
    spec = {f"p{i}": (cpu, prio) for i, (cpu, prio, _) in enumerate(pods)}
    alive = frame[frame["deleted"].isna()]
    bound = alive[alive["node"] != ""]
    pending = alive[alive["node"] == ""]
    for name in pending.index:
        cpu, prio = spec[name]
        for i, capacity in enumerate(nodes):
            kept = sum(spec[p][0] for p in bound.index if bound.loc[p, "node"] == f"n{i}-0" and spec[p][1] >= prio)
            assert kept + cpu > cpu_millis(f"{capacity}m"), (
                f"{name} (cpu {cpu}m, priority {prio}) pending though n{i} would fit it after preemption")
