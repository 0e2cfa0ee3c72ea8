"""PodTopologySpread: DoNotSchedule constraints filter on skew, ScheduleAnyway constraints score.

Cases follow pkg/scheduler/framework/plugins/podtopologyspread (filtering.go, scoring.go,
common.go, plugin.go). The cluster: zone a holds nodes a1 and a2, zone b node b1, zone c node
c1, and node nz has no zone label. Unless a case says otherwise, a1 runs two ``app=web`` pods
and b1 one, so the zone counts are a=2, b=1, c=0.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from builders import filter_reasons, make_node, make_pod, make_table, pod_info, scores

from sim.api.objects import ObjectMeta
from sim.api.selectors import Selector
from sim.api.store import Store
from sim.scheduler.framework import Code, CycleState
from sim.scheduler.plugins.args import PodTopologySpreadArgs
from sim.scheduler.plugins.pod_topology_spread import PodTopologySpread

ZONE = "topology.kubernetes.io/zone"
HOST = "kubernetes.io/hostname"
NOT_MATCH = "node(s) didn't match pod topology spread constraints"
MISSING = "node(s) didn't match pod topology spread constraints (missing required label)"
WEB = {"app": "web"}
ALL = ["a1", "a2", "b1", "c1", "nz"]


def web(i: int, namespace: str = "default", **labels: str):
    """An existing ``app=web`` pod (plus ``labels``)."""
    wrapper = make_pod(f"w{i}", namespace).label("app", "web")
    for key, value in labels.items():
        wrapper.label(key, value)
    return wrapper


def cluster(placed=None, tainted: tuple[str, ...] = (), tiered: bool = False):
    """The five nodes with ``placed`` (pod, node) pairs (default a1: 2 web pods, b1: 1); ``tainted``
    nodes get a NoSchedule taint, and ``tiered`` labels a1, a2 and b1 ``tier=web``."""
    zones = {"a1": "a", "a2": "a", "b1": "b", "c1": "c", "nz": None}
    nodes = []
    for name, zone in zones.items():
        wrapper = make_node(name).capacity(cpu="4", memory="8Gi")
        if zone:
            wrapper.label(ZONE, zone)
        if name in tainted:
            wrapper.taint("dedicated", "infra")
        if tiered and name != "c1" and zone:
            wrapper.label("tier", "web")
        nodes.append(wrapper.obj())
    if placed is None:
        placed = [(web(0).obj(), "a1"), (web(1).obj(), "a1"), (web(2).obj(), "b1")]
    return make_table(nodes, placed)


def incoming(**kw):
    """The pod to schedule: ``app=web`` with one zone constraint (``kw`` overrides spread args)."""
    args = {"max_skew": 1, "key": ZONE, "when": "DoNotSchedule", "selector": WEB} | kw
    return make_pod().label("app", "web").spread(**args)


ONE_EACH = [(web(0).obj(), "a1"), (web(1).obj(), "b1"), (web(2).obj(), "c1")]
FILTER_CASES = {
    # skew = count in the node's zone + 1 (self) - min 0: a 2+1=3, b 1+1=2, c 0+1=1 <= 1
    "zone-skew": (incoming().obj(), cluster, ["c1"]),
    # maxSkew 2: a 3 > 2 fails, b 2 and c 1 pass
    "max-skew-2": (incoming(max_skew=2).obj(), cluster, ["b1", "c1"]),
    # the pod does not match its own selector, so no +1: a 2 fails, b 1 and c 0 pass
    "no-self-match": (make_pod().spread(1, ZONE, selector=WEB).obj(), cluster, ["b1", "c1"]),
    # one pod per zone: min 1, every zone 1+1-1 = 1 passes
    "balanced": (incoming().obj(), lambda: cluster(ONE_EACH), ["a1", "a2", "b1", "c1"]),
    # minDomains 4 > 3 zones: the global minimum counts as 0, so every zone gives 1+1-0 = 2 > 1
    "min-domains": (incoming(min_domains=4).obj(), lambda: cluster(ONE_EACH), []),
    # nodeAffinityPolicy Honor (default): c1 fails the nodeSelector, so zone c is no domain; min is
    # b's 1: a 2+1-1 = 2 fails, b 1+1-1 = 1 passes, c reads 0+1-1 = 0 (NodeAffinity rejects it)
    "affinity-policy-honor": (incoming().node_selector({"tier": "web"}).obj(), lambda: cluster(tiered=True),
                              ["b1", "c1"]),
    # nodeAffinityPolicy Ignore: zone c counts again, its 0 is the minimum and only c passes
    "affinity-policy-ignore": (incoming(node_affinity_policy="Ignore").node_selector({"tier": "web"}).obj(),
                               lambda: cluster(tiered=True), ["c1"]),
    # nodeTaintsPolicy Honor: tainted c1 leaves zone c out, min becomes b's 1
    "taints-policy-honor": (incoming(node_taints_policy="Honor").obj(), lambda: cluster(tainted=("c1",)),
                            ["b1", "c1"]),
    # nodeTaintsPolicy Ignore (default): tainted c1 still makes zone c the minimum 0
    "taints-policy-ignore": (incoming().obj(), lambda: cluster(tainted=("c1",)), ["c1"]),
    # pods of another namespace are not counted: all zones 0, every node with a zone passes
    "other-namespace": (incoming().obj(), lambda: cluster([(web(0, "other").obj(), "a1"),
                                                           (web(1, "other").obj(), "b1")]),
                        ["a1", "a2", "b1", "c1"]),
    # terminating pods are not counted (upstream #87621): a holds 0 live pods, b 1
    "terminating-not-counted": (incoming().obj(), lambda: cluster([(web(0).terminating().obj(), "a1"),
                                                                   (web(1).terminating().obj(), "a1"),
                                                                   (web(2).obj(), "b1")]), ["a1", "a2", "c1"]),
    # matchLabelKeys [hash]: only hash=v2 pods count; a has one, b and c none -> a 1+1-0 = 2 fails
    "match-label-keys": (incoming(match_label_keys=("hash",)).label("hash", "v2").obj(),
                         lambda: cluster([(web(0, hash="v1").obj(), "b1"), (web(1, hash="v2").obj(), "a1")]),
                         ["b1", "c1"]),
    # ScheduleAnyway constraints never filter, not even nodes without the key
    "schedule-anyway-no-filter": (incoming(when="ScheduleAnyway").obj(), cluster, ALL),
    # an empty selector counts no pod (countPodsMatchSelector) but matches the pod: 0+1-0 = 1
    "empty-selector": (incoming(selector=Selector()).obj(), cluster, ["a1", "a2", "b1", "c1"]),
    # an unset selector matches nothing at all: 0+0-0 = 0
    "unset-selector": (incoming(selector=None).obj(), cluster, ["a1", "a2", "b1", "c1"]),
    # with hostname maxSkew 1 too (a1 and b1 hold pods, host min 0) a2 and c1 survive it; zone keeps c
    "zone-and-hostname": (incoming().spread(1, HOST, selector=WEB).obj(), cluster, ["c1"]),
}


@pytest.mark.parametrize(("pod", "table", "want"), FILTER_CASES.values(), ids=FILTER_CASES.keys())
def test_filter(pod, table, want) -> None:
    """Nodes pass while count + self-match - global minimum <= maxSkew for every hard constraint."""
    got = filter_reasons(PodTopologySpread(), table(), pod)
    assert sorted(name for name, reasons in got.items() if not reasons) == want


def test_reasons_and_codes() -> None:
    """A node without the key is UnschedulableAndUnresolvable; a skewed node is Unschedulable."""
    table, plugin = cluster(), PodTopologySpread()
    info, rows = pod_info(table, incoming().obj()), np.arange(table.n)
    got = {text: [table.names[r] for r in rows[mask]] for text, mask, _ in
           plugin.reasons(CycleState(), info, table, rows) if mask.any()}
    assert got == {MISSING: ["nz"], NOT_MATCH: ["a1", "a2", "b1"]}
    codes = {text: code for text, _, code in plugin.reasons(CycleState(), info, table, rows)}
    assert codes == {MISSING: Code.UNSCHEDULABLE_AND_UNRESOLVABLE, NOT_MATCH: Code.UNSCHEDULABLE}


def test_filter_state_follows_the_table() -> None:
    """A cycle's counts are recomputed when the cache changes (preemption removing a victim)."""
    table, plugin, state = cluster(), PodTopologySpread(), CycleState()
    info = pod_info(table, incoming(max_skew=2).obj())
    assert plugin.filter(state, info, table, np.array([0]))[0] == np.False_  # a: 2+1-0 = 3 > 2
    table.forget(next(iter(table.pods_on[0].values())))
    assert plugin.filter(state, info, table, np.array([0]))[0] == np.True_  # a: 1+1-0 = 2


SCORE_CASES = {
    # hostname, 5 candidates: weight ln(5+2) = 1.946; raw a1 2*1.946 = 3.89 -> 4, b1 1.946 -> 2,
    # others 0; normalised 100*(max+min-raw)//max: a1 0, b1 100*2//4 = 50, others 100
    "hostname": (incoming(key=HOST, when="ScheduleAnyway").obj(),
                 {"a1": 0, "a2": 100, "b1": 50, "c1": 100, "nz": 100}),
    # zone maxSkew 2, 3 zones: weight ln 5 = 1.609; raw a 2*1.609+1 = 4.22 -> 4, b 2.61 -> 3, c 1;
    # a 100*(4+1-4)//4 = 25, b 100*2//4 = 50, c 100*4//4 = 100; nz lacks the key: ignored, 0
    "zone": (incoming(max_skew=2, when="ScheduleAnyway").obj(),
             {"a1": 25, "a2": 25, "b1": 50, "c1": 100, "nz": 0}),
    # no pod matches: every raw is maxSkew-1 = 0, so max 0 and every kept node gets 100
    "nothing-matches": (incoming(when="ScheduleAnyway", selector={"app": "db"}).obj(),
                        {"a1": 100, "a2": 100, "b1": 100, "c1": 100, "nz": 0}),
    # DoNotSchedule constraints are not scored; a pod with its own constraints gets no defaults
    "hard-only": (incoming().obj(), {n: 0 for n in ALL}),
}


@pytest.mark.parametrize(("pod", "want"), SCORE_CASES.values(), ids=SCORE_CASES.keys())
def test_score(pod, want) -> None:
    """Fewer matching pods in a node's domains scores higher; nodes missing a key score 0."""
    assert scores(PodTopologySpread(), cluster(), pod) == want


def handle(*objects):
    """A stand-in for the scheduler handle: its API store holds ``objects``."""
    store = Store()
    for obj in objects:
        store.add(obj)
    return SimpleNamespace(api=SimpleNamespace(store=store))


REPLICA_SET = SimpleNamespace(kind="ReplicaSet", meta=ObjectMeta(name="web-1", uid=7),
                              selector=Selector.from_labels(WEB))
SERVICE = SimpleNamespace(kind="Service", meta=ObjectMeta(name="web", uid=8), selector=Selector.from_labels(WEB))

# System defaults: hostname maxSkew 3 (5 candidates, weight ln 7 = 1.946) and zone maxSkew 5
# (zones a, b, c plus nz's missing value seed 4 domains, weight ln 6 = 1.792):
#   a1 (2*1.946+2) + (2*1.792+4) = 13.48 -> 13    a2 2 + 7.58 -> 10    b1 3.95 + 5.79 -> 10
#   c1 2 + 4 = 6    nz 2 (no zone term)
# normalised 100*(13+2-raw)//13: a1 15, a2 38, b1 38, c1 69, nz 100
DEFAULTED = {"a1": 15, "a2": 38, "b1": 38, "c1": 69, "nz": 100}
SYSTEM_CASES = {
    "replicaset-owner": (make_pod().label("app", "web").owner("ReplicaSet", "web-1", 7), (REPLICA_SET,),
                         DEFAULTED),
    "service": (make_pod().label("app", "web"), (SERVICE,), DEFAULTED),
    # a bare pod: no Service, no owner -> empty selector -> no default constraints
    "bare-pod": (make_pod().label("app", "web"), (), {n: 0 for n in ALL}),
    # a Service selecting other pods does not make this one spread
    "unrelated-service": (make_pod().label("app", "api"), (SERVICE,), {n: 0 for n in ALL}),
    # a Deployment owner is not one of the four kinds (its ReplicaSet is)
    "deployment-owner": (make_pod().label("app", "web").owner("Deployment", "web", 9), (), {n: 0 for n in ALL}),
}


@pytest.mark.parametrize(("wrapper", "objects", "want"), SYSTEM_CASES.values(), ids=SYSTEM_CASES.keys())
def test_system_default_constraints(wrapper, objects, want) -> None:
    """Pods without constraints selected by a Service or owned by a ReplicaSet get the defaults."""
    plugin = PodTopologySpread()
    plugin.bind_handle(handle(*objects))
    assert scores(plugin, cluster(), wrapper.obj()) == want


def test_list_defaulting_requires_every_key() -> None:
    """List defaults are not system defaults: a node without the zone key is ignored (score 0)."""
    plugin = PodTopologySpread.from_args(PodTopologySpreadArgs.model_validate(listed()))
    plugin.bind_handle(handle(REPLICA_SET))
    got = scores(plugin, cluster(), make_pod().label("app", "web").owner("ReplicaSet", "web-1", 7).obj())
    # zone weight ln 5 = 1.609: a 3.22 -> 3, b 1.61 -> 2, c 0: 100*(3-raw)//3 -> 0, 33, 100
    assert got == {"a1": 0, "a2": 0, "b1": 33, "c1": 100, "nz": 0}


def listed(max_skew: int = 1, when: str = "ScheduleAnyway", **extra) -> dict:
    """PodTopologySpreadArgs with one zone default constraint."""
    return {"defaultConstraints": [{"maxSkew": max_skew, "topologyKey": ZONE, "whenUnsatisfiable": when} | extra]}


ARGS_CASES = {
    "system-default": ({}, "System"),
    "list-when-constraints-given": (listed(), "List"),
    "list-empty": ({"defaultingType": "List"}, "List"),
}


@pytest.mark.parametrize(("raw", "kind"), ARGS_CASES.values(), ids=ARGS_CASES.keys())
def test_args_defaulting_type(raw, kind) -> None:
    """defaultingType defaults to List when defaultConstraints are given, else System."""
    assert PodTopologySpreadArgs.model_validate(raw).defaulting_type == kind


BAD_ARGS = {  # args, what the error names
    "system-with-constraints": (listed() | {"defaultingType": "System"}, "defaultConstraints must be empty"),
    "selector-in-default": (listed(labelSelector={}), "labelSelector must not be set"),
    "zero-skew": (listed(max_skew=0), "defaultConstraints.0.maxSkew"),
    "bad-action": (listed(when="Sometimes"), "defaultConstraints.0.whenUnsatisfiable"),
}


@pytest.mark.parametrize(("raw", "named"), BAD_ARGS.values(), ids=BAD_ARGS.keys())
def test_bad_args(raw, named) -> None:
    """Invalid PodTopologySpreadArgs are rejected when the scenario loads."""
    with pytest.raises(ValueError, match=named):
        PodTopologySpreadArgs.model_validate(raw)


HINT_CASES = {
    "matches-hard-selector": (incoming(), web(9), True),
    "other-namespace": (incoming(), web(9, "other"), False),
    "other-labels": (incoming(), make_pod("db").label("app", "db"), False),
    # only hard constraints reject pods, so only they are worth a retry
    "soft-only": (incoming(when="ScheduleAnyway"), web(9), False),
}


@pytest.mark.parametrize(("pending", "added", "want"), HINT_CASES.values(), ids=HINT_CASES.keys())
def test_pod_added_hint(pending, added, want) -> None:
    """A newly assigned pod requeues a pending pod when it matches one of its hard constraints."""
    assert PodTopologySpread().pod_added_may_help(pending.obj(), added.obj()) is want
