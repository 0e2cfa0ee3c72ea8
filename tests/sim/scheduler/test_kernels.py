"""The compiled scheduling loops decide as the numpy path does.

On a cluster of ``kernels.MIN_NODES`` nodes or more, a cycle's round-robin search and its
weighted sum (PodTopologySpread's score included) run as numba-compiled loops. Here both paths
schedule the same pods on the same random clusters and must agree on the node, the nodes
evaluated, the feasible count and the candidates; and the pinned density run reproduces its
trace byte for byte with the compiled loops switched off (``test_scale_pinned`` runs it with
them on).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from builders import make_node, make_pod, make_table, pod_info
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sim import load_scenario, run
from sim.api.objects import ObjectMeta
from sim.api.selectors import Selector
from sim.api.store import Store
from sim.scheduler import framework, kernels
from sim.scheduler.plugins.pod_topology_spread import PodTopologySpread
from sim.scheduler.plugins.registry import default_profile

ZONE = "topology.kubernetes.io/zone"
HOST = "kubernetes.io/hostname"
APPS = ("web", "db")
WEB_RS = SimpleNamespace(kind="ReplicaSet", meta=ObjectMeta(name="web-1", uid=7),
                         selector=Selector.from_labels({"app": "web"}))


@pytest.fixture(scope="module")
def compiled():  # type: ignore[no-untyped-def]
    loaded = kernels.load()
    if loaded is None:
        pytest.skip("the compiled kernels are unavailable (numba not installed, or KUBESIM_JIT=0)")
    return loaded


def _numpy_cycle(monkeypatch, *args, **kwargs):  # type: ignore[no-untyped-def]
    with monkeypatch.context() as m:
        m.setattr(kernels, "active", lambda n: None)
        return framework.schedule_pod(*args, **kwargs)


def _profile_with_defaults():  # type: ignore[no-untyped-def]
    """The default profile, its PodTopologySpread able to deduce the system default constraints."""
    profile = default_profile()
    store = Store()
    store.add(WEB_RS)
    handle = SimpleNamespace(api=SimpleNamespace(store=store))
    for plugin, _ in profile.scores:
        if isinstance(plugin, PodTopologySpread):
            plugin.handle = handle
    return profile


@pytest.mark.parametrize("kind", ["defaults", "own-spread", "zone-only", "host-only", "bare", "unscored"])
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(kernels.MIN_NODES, kernels.MIN_NODES + 120),
       sizes=st.lists(st.sampled_from([1, 2, 4, 8]), min_size=1, max_size=8),
       zones=st.sampled_from(["abc", "ab", "abcdefgh"]), unzoned=st.sampled_from([(), (), (), (0,), (5, 77)]),
       cordoned=st.one_of(st.just(()), st.lists(st.integers(0, 400), max_size=30)),
       preferred_not=st.sampled_from([(), (), (3, 10, 50, 201)]),
       placed=st.lists(st.tuples(st.integers(0, 400), st.sampled_from(APPS), st.sampled_from(["250m", "1"])),
                       max_size=300),
       cpu=st.sampled_from(["500m", "1", "3", "6"]),
       start=st.integers(0, 10**6), seed=st.integers(0, 3))
def test_compiled_cycle_decides_as_numpy(compiled, monkeypatch, n, sizes, zones, unzoned, cordoned, preferred_not,
                                         placed, cpu, kind, start, seed) -> None:
    """Same node, nodes evaluated, feasible count and candidates, however full the nodes, whether
    some lack the zone key, are cordoned (a filter that is not per-row) or carry a PreferNoSchedule
    taint (a score left to numpy), whatever spreading the pod asks for, and with no score that
    reads a node's own row alone (``unscored``: the profile without the resource scores)."""
    nodes = []
    for i in range(n):
        size = sizes[i % len(sizes)]
        node = make_node(f"n{i}").capacity(cpu=str(size), memory=f"{size}Gi")
        if i not in unzoned:
            node = node.label(ZONE, zones[i % len(zones)])
        if i in cordoned:
            node = node.unschedulable()
        if i in preferred_not:
            node = node.taint("spot", "", "PreferNoSchedule")
        nodes.append(node.obj())
    assigned = [(make_pod(f"placed{k}").label("app", app).req(cpu=req).obj(), f"n{row % n}")
                for k, (row, app, req) in enumerate(placed)]
    table = make_table(nodes, assigned)
    pod = make_pod().label("app", "web").req(cpu=cpu, memory="1Gi")
    if kind == "defaults":
        pod = pod.owner("ReplicaSet", "web-1", 7)
    elif kind == "own-spread":
        pod = pod.spread(2, HOST, "ScheduleAnyway", {"app": "web"}).spread(1, ZONE, "ScheduleAnyway", {"app": "web"})
    elif kind == "zone-only":
        pod = pod.spread(3, ZONE, "ScheduleAnyway", {"app": "web"})
    elif kind == "host-only":
        pod = pod.spread(1, HOST, "ScheduleAnyway", {"app": "web"})
    pod = pod.obj()

    def profile():  # type: ignore[no-untyped-def]
        made = _profile_with_defaults()
        if kind == "unscored":
            made.scores = [(p, w) for p, w in made.scores if not hasattr(p, "row_local_score")]
        return made
    plain = _numpy_cycle(monkeypatch, profile(), pod_info(table, pod), table, start, np.random.default_rng(seed))
    fast = framework.schedule_pod(profile(), pod_info(table, pod), table, start, np.random.default_rng(seed))
    assert (fast.node_row, fast.evaluated, fast.feasible, fast.message) == \
        (plain.node_row, plain.evaluated, plain.feasible, plain.message)
    if plain.candidates is not None:
        assert fast.candidates.tolist() == plain.candidates.tolist()


@settings(max_examples=60, deadline=None)
@given(mask=st.lists(st.booleans(), min_size=1, max_size=300), want=st.integers(1, 120),
       first=st.integers(0, 10**6))
def test_first_feasible_is_the_round_robin_search(compiled, mask, want, first) -> None:
    """The first ``want`` rows that pass (a non-zero value: the cycle passes its row-local score
    sum plus one), in order from ``first`` round the present rows, and how many rows were looked
    at (all of them when fewer than ``want`` pass)."""
    passes = np.array([row + 1 if ok else 0 for row, ok in enumerate(mask)], dtype=np.int64)
    present = np.flatnonzero(np.arange(len(mask)) % 5 != 4)  # every fifth row is not in the view
    if len(present) == 0:
        return
    start = first % len(present)
    order = np.concatenate((present[start:], present[:start]))
    hits = [i for i, row in enumerate(order) if passes[row]][:want]
    found, evaluated = compiled.first_feasible(present, passes, start, want)
    assert found.tolist() == order[hits].tolist()
    assert evaluated == (hits[-1] + 1 if len(hits) == want else len(present))


def test_when_the_kernels_are_used(compiled, monkeypatch) -> None:
    """Never below MIN_NODES; a run expecting WORTH_CYCLES pods on MIN_NODES nodes loads them up
    front; otherwise a process once it has run WORTH_CYCLES cycles that large; KUBESIM_JIT=0 never."""
    assert kernels.active(kernels.MIN_NODES - 1) is None
    assert kernels.worth_loading(kernels.MIN_NODES, kernels.WORTH_CYCLES)
    assert not kernels.worth_loading(kernels.MIN_NODES - 1, 10**6)
    assert not kernels.worth_loading(10**4, kernels.WORTH_CYCLES - 1)
    monkeypatch.setattr(kernels, "WORTH_CYCLES", 3)
    try:
        kernels.reset()
        assert [kernels.active(kernels.MIN_NODES) is not None for _ in range(4)] == [False, False, True, True]
        monkeypatch.setenv("KUBESIM_JIT", "0")
        kernels.reset()
        assert [kernels.active(kernels.MIN_NODES) for _ in range(4)] == [None] * 4
        assert kernels.load() is None
    finally:
        monkeypatch.delenv("KUBESIM_JIT")
        kernels.reset()
        kernels.load()


def test_log_table_is_math_log() -> None:
    """PodTopologySpread's topology-size weights, as Python's math.log computes them, however far asked."""
    logs = kernels.log_table(300)
    assert len(logs) > 300
    assert [float(v) for v in logs[:301]] == [math.log(k + 2) for k in range(301)]


def test_pinned_density_run_with_the_kernels(compiled, tmp_path: Path) -> None:
    """With the kernels loaded, the density-250 run (250 nodes, 6,000 pods: too few to load them
    by itself, so ``test_scale_pinned`` runs it on the numpy path) reproduces its pinned trace."""
    pinned = json.loads(Path("tests/golden/pinned-traces.json").read_text())["density-250"]
    result = run(load_scenario("scenarios/scale/density-250.yaml"))
    trace_file = tmp_path / "trace.jsonl"
    result.trace.write_jsonl(trace_file)
    assert hashlib.sha256(trace_file.read_bytes()).hexdigest() == pinned["trace_sha256"]


class _RowsOut:
    """A filter that, unless skipped, rejects the rows of one parity (a per-row verdict). Its skip
    check is asked every cycle and its verdict may change between cycles (no STABLE_CHECKS), so
    a kept plan runs it some cycles and not others, and must not keep its verdict."""

    name = "RowsOut"

    def __init__(self) -> None:
        self.skipping, self.parity = True, 0

    def skip_filter(self, state, pod, table) -> bool:  # type: ignore[no-untyped-def]
        return self.skipping

    def filter(self, state, pod, table, rows):  # type: ignore[no-untyped-def]
        return rows % 2 != self.parity

    def row_local_filter(self, state, pod, table):  # type: ignore[no-untyped-def]
        parity = self.parity
        return ("rows-out", parity), lambda rows: rows % 2 != parity


class _RowsBonus:
    """A score of 100 for the rows of one parity, read from each row alone, asked every cycle
    (the same hook object while the parity stays)."""

    name = "RowsBonus"

    def __init__(self) -> None:
        self.parity = 0
        self._hooks = {p: (("rows-bonus", p), lambda rows, p=p: np.where(rows % 2 == p, 100, 0)) for p in (0, 1)}

    def score(self, state, pod, table, rows):  # type: ignore[no-untyped-def]
        return np.where(rows % 2 == self.parity, 100, 0)

    def row_local_score(self, state, pod, table):  # type: ignore[no-untyped-def]
        return self._hooks[self.parity]


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@example(steps=[(False, 0, 0), (False, 1, 0)], seed=0)  # the same filters, a verdict that changed
@given(steps=st.lists(st.tuples(st.booleans(), st.integers(0, 1), st.integers(0, 1)), min_size=2, max_size=12),
       seed=st.integers(0, 3))
def test_consecutive_cycles_of_a_kept_plan_decide_as_fresh_ones(compiled, steps, seed) -> None:
    """Pods of one template scheduled one after another (each assumed where it went) on a profile
    that keeps the template's plan decide as a profile that keeps nothing, also when a filter and
    a score the plan asks about every cycle come and go or change their verdicts between them."""
    nodes = [make_node(f"n{i}").capacity(cpu="4", memory="8Gi").label(ZONE, "abc"[i % 3]).obj()
             for i in range(kernels.MIN_NODES)]
    table = make_table(nodes)
    template = make_pod("t").label("app", "web").owner("ReplicaSet", "web-1", 7).req(cpu="500m").obj()

    def with_extras(profile):  # type: ignore[no-untyped-def]
        rows_out, bonus = _RowsOut(), _RowsBonus()
        profile.filters.append(rows_out)
        profile.scores.append((bonus, 3))
        return profile, rows_out, bonus

    kept, kept_out, kept_bonus = with_extras(_profile_with_defaults())
    kept.objects_revision = lambda: 0  # plans are kept across cycles
    start = 0
    for step, (skipping, out_parity, bonus_parity) in enumerate(steps):
        pod = replace(template, meta=ObjectMeta(name=f"p{step}", labels=dict(template.meta.labels),
                                                owner=template.meta.owner, uid=100 + step))
        fresh, fresh_out, fresh_bonus = with_extras(_profile_with_defaults())
        for out, bonus in ((kept_out, kept_bonus), (fresh_out, fresh_bonus)):
            out.skipping, out.parity, bonus.parity = skipping, out_parity, bonus_parity
        got = framework.schedule_pod(kept, pod_info(table, pod), table, start, np.random.default_rng(seed + step))
        want = framework.schedule_pod(fresh, pod_info(table, pod), table, start, np.random.default_rng(seed + step))
        assert (got.node_row, got.evaluated, got.feasible) == (want.node_row, want.evaluated, want.feasible)
        assert got.node_row % 2 != out_parity or skipping
        info = pod_info(table, pod)
        table.assume(got.node_row, pod, info.request, info.nonzero)
        start += got.evaluated
