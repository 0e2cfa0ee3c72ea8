"""The scheduler's shortcuts give the answers the plain computation gives.

A cycle filters a window of nodes from the round-robin start before filtering every node;
PodTopologySpread reads per-selector counts and domain sums kept current from the node
table's pod log; filters that know every node passes are left out of a cycle. Each is
checked here against the computation it replaces, over random clusters and histories.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from builders import make_node, make_pod, make_table, pod_info
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import sim.scheduler.framework as framework
from sim.api.objects import ObjectMeta
from sim.api.selectors import Selector
from sim.api.store import Store
from sim.scheduler import kernels
from sim.scheduler.framework import CycleState, schedule_pod
from sim.scheduler.plugins.image_locality import ImageLocality
from sim.scheduler.plugins.node_unschedulable import NodeUnschedulable
from sim.scheduler.plugins.pod_matching import (
    PodMatcher,
    domain_totals,
    live_counts,
    live_domain_sums,
    matching_per_row,
)
from sim.scheduler.plugins.pod_topology_spread import PodTopologySpread
from sim.scheduler.plugins.registry import default_profile
from sim.scheduler.plugins.taint_toleration import TaintToleration
from sim.scheduler.plugins.volume_zone import VolumeZone

ZONE = "topology.kubernetes.io/zone"
APPS = ("web", "db", "cache")


def _cluster(sizes: list[int], cordoned: set[int], tainted: set[int]):  # type: ignore[no-untyped-def]
    nodes = []
    for i, cpu in enumerate(sizes):
        node = make_node(f"n{i}").capacity(cpu=str(cpu), memory=f"{cpu}Gi").label(ZONE, "abc"[i % 3])
        if i in cordoned:
            node = node.unschedulable()
        if i in tainted:
            node = node.taint("dedicated", "batch")
        nodes.append(node.obj())
    return nodes


# ------------------------------------------------------------------ live counts

ops = st.lists(st.tuples(st.sampled_from(["assume", "forget", "terminate", "add-node"]),
                         st.integers(0, 10**6), st.sampled_from(APPS)), min_size=1, max_size=60)


@settings(max_examples=60, deadline=None)
@given(ops, st.booleans())
@example([("assume", 0, "web"), ("terminate", 0, "web")], False)  # read, then a change that is a mark only
def test_live_counts_follow_every_pod_change(history, short_logs) -> None:
    """After any sequence of assume / forget / terminating / node added, the incrementally kept
    counts and zone sums equal a recount (terminating pods not counted): for a selector of
    several label signatures, some first seen during the history, read after some steps only,
    and with the signatures' pod logs dropped every few changes (``short_logs``: readers
    behind must recount)."""
    from sim.scheduler import nodetable

    saved = nodetable.SIG_LOG_FACTOR, nodetable.SIG_LOG_ROWS
    if short_logs:
        nodetable.SIG_LOG_FACTOR, nodetable.SIG_LOG_ROWS = 0.3, 0  # 7 nodes: a log of 2 changes at most
    try:
        _follow(history)
    finally:
        nodetable.SIG_LOG_FACTOR, nodetable.SIG_LOG_ROWS = saved


def _follow(history: list[tuple[str, int, str]]) -> None:
    table = make_table(_cluster([4] * 7, set(), set()))
    web = PodMatcher(frozenset(("default",)), Selector.from_labels({"app": "web"}))
    entries = []
    eligible = table.present[: table.n] & (np.arange(table.n) % 2 == 0)
    live_counts(table, web)  # start the cache before the history, so it must catch up
    live_domain_sums(table, web, ZONE, eligible)
    for step, (op, pick, app) in enumerate(history):
        _pod_change(table, entries, step, op, pick, {"app": app, "tier": "ab"[pick % 2]})
        if op == "add-node":
            eligible = table.present[: table.n] & (np.arange(table.n) % 2 == 0)
        if pick % 3 and step < len(history) - 1:
            continue  # not read at this step: the next read catches up on several changes
        expected = matching_per_row(table, web, skip_terminating=True)
        assert live_counts(table, web).tolist() == expected.tolist()
        _, sums = domain_totals(table, ZONE, expected, eligible)
        assert live_domain_sums(table, web, ZONE, eligible).tolist() == sums.tolist()


def _pod_change(table, entries, step: int, op: str, pick: int,  # type: ignore[no-untyped-def]
                labels: dict[str, str]) -> None:
    """Apply a history step that is a pod change (a pod with ``labels`` assumed, a pod forgotten
    or marked terminating) or a node added (zone d); any other step is the caller's."""
    if op == "assume":
        wrapper = make_pod(f"p{step}")
        for key, value in labels.items():
            wrapper = wrapper.label(key, value)
        pod = wrapper.req(cpu="100m").obj()
        pod.meta.uid = step + 1
        info = pod_info(table, pod)
        entries.append(table.assume(pick % table.n, pod, info.request, info.nonzero))
    elif op == "forget" and entries:
        table.forget(entries.pop(pick % len(entries)))
    elif op == "terminate" and entries:
        entry = entries[pick % len(entries)]
        entry.pod.meta.deletion_time = 1.0
        table.mark_terminating(entry)
    elif op == "add-node":
        table.add_node(make_node(f"extra{step}").capacity(cpu="4", memory="4Gi").label(ZONE, "d").obj())


def test_live_counts_pick_up_label_signatures_seen_later() -> None:
    """A pod whose labels the table had never seen is counted if the selector matches it."""
    table = make_table(_cluster([4] * 3, set(), set()))
    matcher = PodMatcher(frozenset(("default",)), Selector.from_labels({"app": "web"}))
    assert live_counts(table, matcher).tolist() == [0, 0, 0]
    pod = make_pod("new").label("app", "web").label("tier", "gold").req(cpu="1").obj()
    pod.meta.uid = 7
    info = pod_info(table, pod)
    table.assume(2, pod, info.request, info.nonzero)
    assert live_counts(table, matcher).tolist() == [0, 0, 1]


spread_ops = st.lists(st.tuples(st.sampled_from(["assume", "forget", "terminate", "add-node", "rezone", "recount",
                                                 "drop-sums", "other-template"]),
                                st.integers(0, 10**6), st.sampled_from(APPS)), min_size=1, max_size=40)


@settings(max_examples=60, deadline=None)
@given(spread_ops)
def test_kept_spread_inputs_are_what_a_fresh_plugin_reads(history) -> None:
    """PodTopologySpread keeps a template's compiled-sum inputs across cycles; after any sequence
    of pod changes, nodes added or moved to another zone, live-count caches rebuilt or their
    domain sums dropped, and another template's pods read in between, they equal what a plugin
    with nothing kept reads."""
    nodes = _cluster([4] * 7, set(), set())
    table = make_table(nodes)

    def template(app: str):  # type: ignore[no-untyped-def]
        pod = make_pod("t").label("app", app).spread(2, "kubernetes.io/hostname", "ScheduleAnyway", {"app": app}) \
            .spread(3, ZONE, "ScheduleAnyway", {"app": app}).obj()
        return pod

    web, other = template("web"), template("db")
    kept = PodTopologySpread()
    entries = []
    for step, (op, pick, app) in enumerate(history):
        _pod_change(table, entries, step, op, pick, {"app": app})
        if op == "rezone":
            node = nodes[pick % len(nodes)]
            node.meta.labels = {**node.meta.labels, ZONE: "abc"[pick // len(nodes) % 3]}
            table.update_node(node)
        elif op == "recount":
            table.pod_caches.clear()
        elif op == "drop-sums":
            for live in table.pod_caches.values():
                live.sums.clear()
        elif op == "other-template":
            kept.spread_inputs(CycleState(), pod_info(table, other), table)
        got = kept.spread_inputs(CycleState(), pod_info(table, web), table)
        fresh = PodTopologySpread().spread_inputs(CycleState(), pod_info(table, web), table)
        assert got is not None
        assert fresh is not None
        assert [np.asarray(a).tolist() for a in got] == [np.asarray(a).tolist() for a in fresh]


# ------------------------------------------------------------------ the filter window

@pytest.fixture
def numpy_cycles(monkeypatch):  # type: ignore[no-untyped-def]
    """Cycles on the numpy path (the window is its shortcut; test_kernels checks the compiled one)."""
    monkeypatch.setattr(kernels, "active", lambda n: None)


@pytest.fixture
def full_filtering(monkeypatch, numpy_cycles):  # type: ignore[no-untyped-def]
    """Cycles that filter every node (the window as large as the cluster)."""
    def run(*args, **kwargs):  # type: ignore[no-untyped-def]
        with monkeypatch.context() as m:
            m.setattr(framework, "_filter_window", lambda want, n: n)
            return schedule_pod(*args, **kwargs)
    return run


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sizes=st.lists(st.sampled_from([1, 2, 4, 8]), min_size=150, max_size=400),
       cordoned=st.sets(st.integers(0, 399), max_size=200), tainted=st.sets(st.integers(0, 399), max_size=200),
       cpu=st.sampled_from(["500m", "1", "3", "6"]), start=st.integers(0, 10**6), seed=st.integers(0, 3))
def test_window_picks_what_filtering_every_node_picks(full_filtering, sizes, cordoned, tainted, cpu, start,
                                                      seed) -> None:
    """Same chosen node, nodes evaluated, feasible count and candidates whether the cycle filters a
    window first or every node, however scarce feasible nodes are."""
    table = make_table(_cluster(sizes, cordoned, tainted))
    profile = default_profile()
    pod = make_pod().label("app", "web").req(cpu=cpu, memory="1Gi").obj()
    windowed = schedule_pod(profile, pod_info(table, pod), table, start, np.random.default_rng(seed))
    full = full_filtering(profile, pod_info(table, pod), table, start, np.random.default_rng(seed))
    assert (windowed.node_row, windowed.evaluated, windowed.feasible, windowed.message) == \
        (full.node_row, full.evaluated, full.feasible, full.message)
    if full.candidates is not None:
        assert windowed.candidates.tolist() == full.candidates.tolist()


# ------------------------------------------------------------------ filters every node passes

@settings(max_examples=60, deadline=None)
@given(cordoned=st.sets(st.integers(0, 9), max_size=4), tainted=st.sets(st.integers(0, 9), max_size=4),
       tolerate=st.booleans())
def test_all_pass_only_when_every_node_passes(cordoned, tainted, tolerate) -> None:
    """A filter left out of a cycle because every node passes would indeed have passed them all."""
    table = make_table(_cluster([4] * 10, cordoned, tainted))
    pod = make_pod().req(cpu="1")
    if tolerate:
        pod = pod.toleration("dedicated", "Equal", "batch", "NoSchedule")
    info = pod_info(table, pod.obj())
    rows = np.flatnonzero(table.present[: table.n])
    for plugin in (NodeUnschedulable(), TaintToleration(), VolumeZone()):
        state = CycleState()
        if hasattr(plugin, "pre_filter"):
            plugin.pre_filter(state, info, table)
        if plugin.all_pass(state, info, table):
            assert plugin.filter(state, info, table, rows).all(), plugin.name
    assert NodeUnschedulable().all_pass(CycleState(), info, table) == (not cordoned)
    assert TaintToleration().all_pass(CycleState(), info, table) == (tolerate or not tainted)


# ------------------------------------------------------------------ shortcuts of a cycle that does not explain

@settings(max_examples=40, deadline=None)
@given(sizes=st.lists(st.sampled_from([2, 4, 8]), min_size=5, max_size=150),
       prefer=st.sets(st.integers(0, 149), max_size=40), with_image=st.sets(st.integers(0, 149), max_size=150),
       placed=st.lists(st.tuples(st.integers(0, 149), st.sampled_from(APPS)), max_size=60),
       cpu=st.sampled_from(["250m", "1", "2"]), start=st.integers(0, 10**6), seed=st.integers(0, 3))
def test_cycle_that_explains_picks_what_a_plain_cycle_picks(sizes, prefer, with_image, placed, cpu, start,
                                                            seed) -> None:
    """Leaving out scores every node shares and summing per-row scores once change no choice: a cycle
    that explains itself (every plugin scored on its own) picks the same node from the same candidates."""
    image = "registry.k8s.io/pause:3.10"
    nodes = []
    for i, size in enumerate(sizes):
        node = make_node(f"n{i}").capacity(cpu=str(size), memory=f"{size}Gi").label(ZONE, "abc"[i % 3])
        if i in prefer:
            node = node.taint("spot", "", "PreferNoSchedule")
        if i in with_image:
            node = node.images({image: 50 * 1024**2})
        nodes.append(node.obj())
    assigned = [(make_pod(f"placed{k}").label("app", app).req(cpu="250m").obj(), f"n{row % len(sizes)}")
                for k, (row, app) in enumerate(placed)]
    table = make_table(nodes, assigned)
    profile = default_profile()
    pod = make_pod().label("app", "web").req(cpu=cpu, memory="1Gi").obj()
    plain = schedule_pod(profile, pod_info(table, pod), table, start, np.random.default_rng(seed))
    explained = schedule_pod(profile, pod_info(table, pod), table, start, np.random.default_rng(seed), explain=True)
    assert (plain.node_row, plain.evaluated, plain.feasible) == \
        (explained.node_row, explained.evaluated, explained.feasible)
    if plain.candidates is not None:
        assert plain.candidates.tolist() == explained.candidates.tolist()


@settings(max_examples=60, deadline=None)
@given(prefer=st.sets(st.integers(0, 9), max_size=10), with_image=st.sets(st.integers(0, 9), max_size=10),
       tolerate=st.booleans())
def test_constant_score_is_every_nodes_score(prefer, with_image, tolerate) -> None:
    """A plugin that says every node scores the same says the score each node gets."""
    image = "registry.k8s.io/pause:3.10"
    nodes = []
    for i in range(10):
        node = make_node(f"n{i}").capacity(cpu="4", memory="4Gi")
        if i in prefer:
            node = node.taint("spot", "", "PreferNoSchedule")
        if i in with_image:
            node = node.images({image: 300 * 1024**2})
        nodes.append(node.obj())
    table = make_table(nodes)
    pod = make_pod().req(cpu="1")
    if tolerate:
        pod = pod.toleration("spot", "Exists", "", "PreferNoSchedule")
    info = pod_info(table, pod.obj())
    rows = np.flatnonzero(table.present[: table.n])
    for plugin in (TaintToleration(), ImageLocality()):
        constant = plugin.constant_score(CycleState(), info, table)
        if constant is not None:
            assert plugin.score(CycleState(), info, table, rows).tolist() == [constant] * len(rows), plugin.name
    assert (TaintToleration().constant_score(CycleState(), info, table) is not None) == (tolerate or not prefer)
    image_scores = set(ImageLocality().score(CycleState(), info, table, rows).tolist())
    assert (ImageLocality().constant_score(CycleState(), info, table) is not None) == (len(image_scores) == 1)


# ------------------------------------------------------------------ a template's plan, kept across cycles

def _node_variant(i: int, cordoned: bool, preferred: bool):  # type: ignore[no-untyped-def]
    node = make_node(f"n{i}").capacity(cpu="8", memory="8Gi").label(ZONE, "abc"[i % 3])
    if cordoned:
        node = node.unschedulable()
    if preferred:
        node = node.taint("spot", "", "PreferNoSchedule")
    return node.obj()


def _with_store(profile, store):  # type: ignore[no-untyped-def]
    """The profile's PodTopologySpread reads ``store`` (Services, owners) as the scheduler's would."""
    for plugin in (*profile.filters, *(p for p, _ in profile.scores), *profile.pre_filters):
        if isinstance(plugin, PodTopologySpread):
            plugin.handle = SimpleNamespace(api=SimpleNamespace(store=store))
    return profile


def _plan_names(profile, table, pod):  # type: ignore[no-untyped-def]
    """The plugins a cycle of ``pod`` filters with and scores with (fully, or per row)."""
    state, info = CycleState(), pod_info(table, pod)
    for plugin in profile.pre_filters:
        plugin.pre_filter(state, info, table)
    plan = profile.plan_for(state, info, table)
    return ([p.name for p, *_ in plan.filters], [p.name for p, *_ in plan.scores],
            [key[0] for key, _, _ in plan.row_local])


history_ops = st.lists(st.tuples(st.sampled_from(["cordon", "uncordon", "prefer", "unprefer", "service",
                                                  "no-service", "anti-affinity-pod", "pod", "relabelled"]),
                                 st.integers(0, 11)), min_size=1, max_size=40)


@settings(max_examples=60, deadline=None)
@given(history=history_ops, seed=st.integers(0, 3))
def test_kept_plan_follows_the_cluster(history, seed) -> None:
    """Pods of one template scheduled between cluster changes (nodes cordoned or tainted
    PreferNoSchedule, a Service selecting them created or deleted, pods with anti-affinity
    arriving), or with other labels on the same spec, get the node, candidates and counts that a
    cycle settling its plan afresh gets."""
    nodes = [_node_variant(i, False, False) for i in range(12)]
    table = make_table(nodes)
    store = Store()
    service = SimpleNamespace(kind="Service", meta=ObjectMeta(name="web", namespace="default", uid=8),
                              selector=Selector.from_labels({"app": "web"}))
    kept = _with_store(default_profile(), store)
    kept.objects_revision = lambda: store.non_pod_revision
    template = make_pod().label("app", "web").req(cpu="250m", memory="256Mi").obj()
    cordoned: set[int] = set()
    preferred: set[int] = set()
    for step, (op, i) in enumerate(history):
        if op in ("cordon", "uncordon", "prefer", "unprefer"):
            {"cordon": cordoned.add, "uncordon": cordoned.discard,
             "prefer": preferred.add, "unprefer": preferred.discard}[op](i)
            table.update_node(_node_variant(i, i in cordoned, i in preferred))
        elif op == "service" and not store.exists(service):
            store.add(service)
        elif op == "no-service":
            store.remove(service)
        elif op in ("pod", "anti-affinity-pod"):
            other = make_pod(f"p{step}").label("app", "db").req(cpu="250m")
            if op == "anti-affinity-pod":
                other = other.anti_affinity(ZONE, {"app": "web"})
            pod = other.obj()
            pod.meta.uid = 5000 + step
            vec, nonzero, _ = table.request_vector(pod)
            table.assume(table.index[f"n{i}"], pod, vec, nonzero)
        # a new pod of the template: a new Pod object sharing the template's spec (its labels
        # changed in between, as a Deployment's template labels may, for "relabelled")
        pod = make_pod(f"web-{step}").label("app", "api" if op == "relabelled" else "web").obj()
        pod.spec = template.spec
        got = schedule_pod(kept, pod_info(table, pod), table, 7 * step, np.random.default_rng(seed))
        afresh = _with_store(default_profile(), store)
        fresh = schedule_pod(afresh, pod_info(table, pod), table, 7 * step, np.random.default_rng(seed))
        assert _plan_names(kept, table, pod) == _plan_names(afresh, table, pod), (step, op)
        assert (got.node_row, got.evaluated, got.feasible, got.message) == \
            (fresh.node_row, fresh.evaluated, fresh.feasible, fresh.message), (step, op)
        if fresh.candidates is not None:
            assert got.candidates.tolist() == fresh.candidates.tolist()
        if fresh.node_row >= 0:  # it runs there: the next pods spread around it
            pod.meta.uid = 9000 + step
            info = pod_info(table, pod)
            table.assume(fresh.node_row, pod, info.request, info.nonzero)
