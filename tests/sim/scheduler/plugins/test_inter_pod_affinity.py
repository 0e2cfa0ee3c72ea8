"""InterPodAffinity: required (anti-)affinity filter, symmetry with existing pods, preferred score.

Cases follow pkg/scheduler/framework/plugins/interpodaffinity (filtering.go, scoring.go,
plugin.go). The cluster: zone a holds nodes a1 and a2, zone b node b1, and node nz has no
zone label. Unless a case says otherwise, one ``app=db`` pod runs on a1.
"""

from __future__ import annotations

import numpy as np
import pytest
from builders import filter_reasons, make_node, make_pod, make_table, pod_info, scores

from sim.api.selectors import Selector
from sim.scheduler.framework import Code, CycleState
from sim.scheduler.plugins.args import InterPodAffinityArgs
from sim.scheduler.plugins.inter_pod_affinity import InterPodAffinity

ZONE = "topology.kubernetes.io/zone"
HOST = "kubernetes.io/hostname"
AFFINITY = "node(s) didn't match pod affinity rules"
ANTI = "node(s) didn't match pod anti-affinity rules"
EXISTING = "node(s) didn't satisfy existing pods anti-affinity rules"
DB, WEB = {"app": "db"}, {"app": "web"}
ALL = ["a1", "a2", "b1", "nz"]


def pod(name: str = "p", namespace: str = "default", **labels: str):
    """A pod wrapper with ``labels``."""
    wrapper = make_pod(name, namespace)
    for key, value in labels.items():
        wrapper.label(key, value)
    return wrapper


def cluster(*placed):
    """The four nodes with ``placed`` (pod, node) pairs; by default one app=db pod on a1."""
    nodes = []
    for name, zone in {"a1": "a", "a2": "a", "b1": "b", "nz": None}.items():
        wrapper = make_node(name).capacity(cpu="4", memory="8Gi")
        if zone:
            wrapper.label(ZONE, zone)
        nodes.append(wrapper.obj())
    return make_table(nodes, placed or [(pod("db", app="db").obj(), "a1")])


def on(*placed):
    """A table factory placing ``placed`` (pod wrapper, node) pairs."""
    return lambda: cluster(*[(w.obj(), node) for w, node in placed])


DB_IN_DATA = on((pod("db", "data", app="db"), "a1"))
NS_NAME = "kubernetes.io/metadata.name"
FILTER_CASES = {
    # the db pod is in zone a: both zone-a nodes pass; b1 has no db pod; nz lacks the key
    "affinity-zone": (pod().affinity(ZONE, DB), cluster, ["a1", "a2"]),
    "affinity-hostname": (pod().affinity(HOST, DB), cluster, ["a1"]),
    "affinity-nothing-matches": (pod().affinity(ZONE, {"app": "cache"}), cluster, []),
    # no app=web pod anywhere and the pod matches its own term: any node with the key may host
    # the first pod of the group
    "first-of-self-affine-group": (pod(app="web").affinity(ZONE, WEB), cluster, ["a1", "a2", "b1"]),
    # once a web pod runs (on b1), the group must follow it
    "self-affine-group-exists": (pod(app="web").affinity(ZONE, WEB),
                                 on((pod("w", app="web"), "b1")), ["b1"]),
    # one existing pod must match every term: db+tier=backend on a1 satisfies zone and hostname
    "all-terms-one-pod": (pod().affinity(ZONE, DB).affinity(HOST, {"tier": "backend"}),
                          on((pod("db", app="db", tier="backend"), "a1")), ["a1"]),
    # db on a1 and a tier=backend pod on a2: no single pod matches both terms
    "all-terms-split": (pod().affinity(ZONE, DB).affinity(HOST, {"tier": "backend"}),
                        on((pod("db", app="db"), "a1"), (pod("t", tier="backend"), "a2")), []),
    # an unset labelSelector matches no pod, not even the pod itself
    "unset-selector": (pod(app="web").affinity(ZONE, None), cluster, []),
    "anti-zone": (pod().anti_affinity(ZONE, DB), cluster, ["b1", "nz"]),
    "anti-hostname": (pod().anti_affinity(HOST, DB), cluster, ["a2", "b1", "nz"]),
    # symmetry: the guard on a2 refuses app=web pods on its host (or, below, in its zone)
    "existing-anti-hostname": (pod(app="web"), on((pod("g").anti_affinity(HOST, WEB), "a2")),
                               ["a1", "b1", "nz"]),
    "existing-anti-zone": (pod(app="web"), on((pod("g").anti_affinity(ZONE, WEB), "a2")), ["b1", "nz"]),
    # the guard's term defaults to the guard's namespace, so a pod in default is not refused
    "existing-anti-other-namespace": (pod(app="web"), on((pod("g", "other").anti_affinity(HOST, WEB), "a2")),
                                      ALL),
    # terms look in the pod's own namespace unless told otherwise
    "namespace-defaults-to-own": (pod().affinity(ZONE, DB), DB_IN_DATA, []),
    "namespaces-listed": (pod().affinity(ZONE, DB, namespaces=("data",)), DB_IN_DATA, ["a1", "a2"]),
    # namespaceSelector {} selects every namespace; by name via kubernetes.io/metadata.name
    "namespace-selector-all": (pod().affinity(ZONE, DB, namespace_selector={}), DB_IN_DATA, ["a1", "a2"]),
    "namespace-selector-name": (pod().affinity(ZONE, DB, namespace_selector={NS_NAME: "data"}), DB_IN_DATA,
                                ["a1", "a2"]),
    # matchLabelKeys [hash]: only web pods of the pod's own hash (v2, on b1) repel it
    "anti-match-label-keys": (pod(app="web", hash="v2").anti_affinity(HOST, WEB, match_label_keys=("hash",)),
                              on((pod("w1", app="web", hash="v1"), "a1"), (pod("w2", app="web", hash="v2"), "b1")),
                              ["a1", "a2", "nz"]),
    # mismatchLabelKeys [tenant]: only pods of other tenants (y, on b1) repel it
    "anti-mismatch-label-keys": (pod(app="web", tenant="x").anti_affinity(HOST, WEB,
                                                                          mismatch_label_keys=("tenant",)),
                                 on((pod("w1", app="web", tenant="x"), "a1"),
                                    (pod("w2", app="web", tenant="y"), "b1")),
                                 ["a1", "a2", "nz"]),
}


@pytest.mark.parametrize(("wrapper", "table", "want"), FILTER_CASES.values(), ids=FILTER_CASES.keys())
def test_filter(wrapper, table, want) -> None:
    """Nodes pass when the pod's affinity holds and no anti-affinity, its own or existing, objects."""
    got = filter_reasons(InterPodAffinity(), table(), wrapper.obj())
    assert sorted(name for name, reasons in got.items() if not reasons) == want


def test_reasons_in_upstream_order() -> None:
    """Each failing node gets the first failing check's reason: affinity, anti-affinity, existing."""
    table = cluster((pod("db", app="db").obj(), "a1"), (pod("c", app="cache").obj(), "a2"),
                    (pod("g", app="guard").anti_affinity(HOST, WEB).obj(), "b1"))
    incoming = pod(app="web").affinity(ZONE, DB).anti_affinity(HOST, {"app": "cache"}).obj()
    got = filter_reasons(InterPodAffinity(), table, incoming)
    assert got == {"a1": [], "a2": [ANTI], "b1": [AFFINITY], "nz": [AFFINITY]}
    # b1's guard is not reported: the affinity check fails first there
    incoming = pod(app="web").obj()
    assert filter_reasons(InterPodAffinity(), table, incoming)["b1"] == [EXISTING]


def test_reason_codes() -> None:
    """Unmet affinity is UnschedulableAndUnresolvable; anti-affinity failures are Unschedulable."""
    table = cluster()
    codes = {text: code for text, _, code in InterPodAffinity().reasons(
        CycleState(), pod_info(table, pod().affinity(ZONE, DB).obj()), table, np.arange(table.n))}
    assert codes == {AFFINITY: Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ANTI: Code.UNSCHEDULABLE,
                     EXISTING: Code.UNSCHEDULABLE}


def test_nothing_to_check_passes_every_node() -> None:
    """A pod without terms, in a cluster without anti-affinity, skips the filter (no reasons)."""
    table, plugin = cluster(), InterPodAffinity()
    info, rows = pod_info(table, pod(app="web").obj()), np.arange(table.n)
    assert plugin.filter(CycleState(), info, table, rows).all()
    assert plugin.reasons(CycleState(), info, table, rows) == []


def test_filter_state_follows_the_table() -> None:
    """A cycle's counts are recomputed when the cache changes (preemption removing a victim)."""
    table, plugin, state = cluster(), InterPodAffinity(), CycleState()
    info = pod_info(table, pod().anti_affinity(HOST, DB).obj())
    assert not plugin.filter(state, info, table, np.array([0]))[0]
    table.forget(next(iter(table.pods_on[0].values())))
    assert plugin.filter(state, info, table, np.array([0]))[0]


SCORE_CASES = {
    # no preferred terms anywhere: PreScore skips, every node 0
    "no-terms": (pod(), cluster, {n: 0 for n in ALL}),
    # zone a +10 (db in a), host a1 -5: raw a1 5, a2 10, b1 0, nz 0 -> 100*(raw-0)/10
    "preferred-affinity-and-anti": (pod().affinity(ZONE, DB, weight=10).anti_affinity(HOST, DB, weight=5), cluster,
                                    {"a1": 50, "a2": 100, "b1": 0, "nz": 0}),
    # min-max: raws a1 -5 (cache on a1, anti w5), a2 0, b1 15 (db in zone b, w15), nz 0
    #   -> 100*(raw+5)/20 = 0, 25, 100, 25
    "min-max": (pod().affinity(ZONE, DB, weight=15).anti_affinity(HOST, {"app": "cache"}, weight=5),
                on((pod("c", app="cache"), "a1"), (pod("db", app="db"), "b1")),
                {"a1": 0, "a2": 25, "b1": 100, "nz": 25}),
    # an existing pod's required affinity the pod matches counts hardPodAffinityWeight 1: zone b
    "existing-required-affinity": (pod(app="web"), on((pod("x").affinity(ZONE, WEB), "b1")),
                                   {"a1": 0, "a2": 0, "b1": 100, "nz": 0}),
    # existing preferred terms count too: affinity +w, anti-affinity -w
    "existing-preferred-affinity": (pod(app="web"), on((pod("x").affinity(HOST, WEB, weight=30), "a2")),
                                    {"a1": 0, "a2": 100, "b1": 0, "nz": 0}),
    "existing-preferred-anti": (pod(app="web"), on((pod("x").anti_affinity(ZONE, WEB, weight=30), "b1")),
                                {"a1": 100, "a2": 100, "b1": 0, "nz": 100}),
    # existing pods' required anti-affinity only filters; it does not score
    "existing-required-anti-not-scored": (pod(app="web"), on((pod("x").anti_affinity(ZONE, WEB), "b1")),
                                          {n: 0 for n in ALL}),
}


@pytest.mark.parametrize(("wrapper", "table", "want"), SCORE_CASES.values(), ids=SCORE_CASES.keys())
def test_score(wrapper, table, want) -> None:
    """Weights summed per topology domain, min-max scaled to 0..100 over the candidates."""
    assert scores(InterPodAffinity(), table(), wrapper.obj()) == want


ARGS_CASES = {
    # weight 0 turns off the existing pods' required-affinity term
    "hard-weight-zero": ({"hardPodAffinityWeight": 0}, {n: 0 for n in ALL}),
    # ignorePreferredTermsOfExistingPods skips existing pods' terms when the pod has none
    "ignore-existing-preferred": ({"ignorePreferredTermsOfExistingPods": True}, {n: 0 for n in ALL}),
    "defaults": ({}, {"a1": 0, "a2": 0, "b1": 100, "nz": 0}),
}


@pytest.mark.parametrize(("raw", "want"), ARGS_CASES.values(), ids=ARGS_CASES.keys())
def test_args(raw, want) -> None:
    """InterPodAffinityArgs change how existing pods' terms score the incoming pod."""
    plugin = InterPodAffinity.from_args(InterPodAffinityArgs.model_validate(raw))
    table = cluster((pod("x").affinity(ZONE, WEB).obj(), "b1"))
    assert scores(plugin, table, pod(app="web").obj()) == want


def test_bad_hard_weight() -> None:
    """hardPodAffinityWeight must be within 0..100."""
    with pytest.raises(ValueError, match="hardPodAffinityWeight"):
        InterPodAffinityArgs.model_validate({"hardPodAffinityWeight": 101})


def test_selector_semantics() -> None:
    """An unset selector matches no pod while an empty one matches every pod."""
    table = cluster()
    assert filter_reasons(InterPodAffinity(), table, pod().anti_affinity(HOST, Selector()).obj())["a1"] == [ANTI]
    assert filter_reasons(InterPodAffinity(), table, pod().anti_affinity(HOST, None).obj())["a1"] == []


HINT_CASES = {
    # the new db pod matches the pending pod's only required term
    "matches-affinity": (pod().affinity(ZONE, DB), pod("db", app="db"), True),
    # every required term must match the one new pod
    "matches-one-of-two": (pod().affinity(ZONE, DB).affinity(HOST, {"tier": "x"}), pod("db", app="db"), False),
    "other-namespace": (pod().affinity(ZONE, DB), pod("db", "data", app="db"), False),
    # a new pod cannot lift an anti-affinity rejection
    "anti-only": (pod().anti_affinity(ZONE, DB), pod("c", app="cache"), False),
}


@pytest.mark.parametrize(("pending", "added", "want"), HINT_CASES.values(), ids=HINT_CASES.keys())
def test_pod_added_hint(pending, added, want) -> None:
    """A newly assigned pod requeues a pending pod only if it satisfies all its affinity terms."""
    assert InterPodAffinity.pod_added_may_help(pending.obj(), added.obj()) is want
