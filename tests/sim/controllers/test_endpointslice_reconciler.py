"""EndpointSlice reconciler: endpoint conditions, slice filling, placeholders and create-to-update reuse."""

from __future__ import annotations

import numpy as np
import pytest

from sim.api.discovery import Endpoint
from sim.api.objects import ObjectMeta, Pod, PodSpec
from sim.controllers.endpointslice.reconciler import (
    SlicePlan,
    endpoint_key,
    get_slice_to_fill,
    pod_to_endpoint,
    reconcile,
    should_pod_be_in_endpoints,
)


def _pod(name: str = "p", phase: str = "Running", ready: bool = False, started: bool = True,
         terminating: bool = False) -> Pod:
    meta = ObjectMeta(name=name, uid=7, deletion_time=5.0 if terminating else None)
    return Pod(meta=meta, spec=PodSpec(containers=()), node_name="n1", phase=phase, ready=ready,
               start_time=1.0 if started else None)


def _ep(name: str, ready: bool = True, uid: int = 0) -> Endpoint:
    return Endpoint(name, uid or int(name.lstrip("p") or 0), ready=ready, serving=ready)


def _want(*endpoints: Endpoint) -> dict[tuple[str, int], Endpoint]:
    return {endpoint_key(e): e for e in endpoints}


@pytest.mark.parametrize(("pod", "included"), [
    (_pod(), True),
    (_pod(started=False, phase="Pending"), False),  # no IP yet
    (_pod(phase="Succeeded"), False),
    (_pod(phase="Failed"), False),
    (_pod(terminating=True), True),  # kept, with terminating=true
], ids=["running", "no-ip", "succeeded", "failed", "terminating"])
def test_should_pod_be_in_endpoints(pod: Pod, included: bool) -> None:
    """Terminal pods and pods without an IP are left out; terminating pods stay in."""
    assert should_pod_be_in_endpoints(pod) is included


@pytest.mark.parametrize(("pod", "publish", "conditions"), [
    (_pod(ready=True), False, (True, True, False)),
    (_pod(ready=False), False, (False, False, False)),
    (_pod(ready=True, terminating=True), False, (False, True, True)),  # serving, not ready
    (_pod(ready=False, terminating=True), False, (False, False, True)),
    (_pod(ready=False), True, (True, False, False)),  # publishNotReadyAddresses
], ids=["ready", "unready", "terminating-serving", "terminating-unready", "publish-not-ready"])
def test_pod_to_endpoint_conditions(pod: Pod, publish: bool, conditions: tuple[bool, bool, bool]) -> None:
    """ready = serving and not terminating; serving = the pod's readiness; terminating = deleting."""
    e = pod_to_endpoint(pod, "zone-a", publish)
    assert (e.ready, e.serving, e.terminating) == conditions
    assert (e.node, e.zone) == ("n1", "zone-a")


@pytest.mark.parametrize(("sizes", "count", "chosen"), [
    ({"a": 90, "b": 50}, 10, "a"),  # a becomes exactly full
    ({"a": 95, "b": 50}, 10, "b"),  # a would overflow
    ({"a": 95, "b": 96}, 10, None),  # nothing fits
    ({"a": 10, "b": 60}, 30, "b"),  # closest to full wins
], ids=["exact", "skip-overflow", "none", "closest"])
def test_get_slice_to_fill_picks_the_best_fit(sizes: dict[str, int], count: int, chosen: str | None) -> None:
    """The slice that ``count`` more endpoints leave closest to 100 without overflowing."""
    slices = [(name, tuple(_ep(f"p{i}") for i in range(n))) for name, n in sizes.items()]
    assert get_slice_to_fill(slices, count, 100) == chosen


def test_no_slices_no_endpoints_creates_a_placeholder() -> None:
    """A Service without endpoints still gets one empty slice."""
    assert reconcile([], {}, 100) == SlicePlan(create=[()])


def test_existing_placeholder_is_kept_when_still_empty() -> None:
    """An empty placeholder is left alone (no delete-and-recreate)."""
    assert not reconcile([("s1", ())], {}, 100)


def test_placeholder_is_filled_instead_of_a_new_slice() -> None:
    """The first endpoints go into the placeholder: an update, not a create and a delete."""
    plan = reconcile([("s1", ())], _want(_ep("p1")), 100)
    assert plan == SlicePlan(update=[("s1", (_ep("p1"),))])


def test_new_endpoints_are_packed_max_per_slice() -> None:
    """250 endpoints with max 100 need three new slices: 100, 100, 50."""
    desired = _want(*(_ep(f"p{i}", uid=i + 1) for i in range(250)))
    plan = reconcile([], desired, 100)
    assert [len(s) for s in plan.create] == [100, 100, 50]


def test_condition_change_updates_only_that_slice() -> None:
    """p2 turning ready rewrites its slice; the other slice is untouched."""
    existing = [("a", (_ep("p1"), _ep("p2", ready=False))), ("b", (_ep("p3"),))]
    plan = reconcile(existing, _want(_ep("p1"), _ep("p2"), _ep("p3")), 100)
    assert plan == SlicePlan(update=[("a", (_ep("p1"), _ep("p2")))])


def test_removed_endpoints_empty_slice_is_deleted() -> None:
    """A slice whose only endpoint is gone is deleted (another slice still holds endpoints)."""
    existing = [("a", (_ep("p1"),)), ("b", (_ep("p2"),))]
    assert reconcile(existing, _want(_ep("p1")), 100) == SlicePlan(delete=["b"])


def test_last_endpoint_gone_leaves_a_placeholder() -> None:
    """Emptying the only slice turns it into the placeholder: an update to no endpoints."""
    assert reconcile([("a", (_ep("p1"),))], {}, 100) == SlicePlan(update=[("a", ())])


def test_module_doc_worked_example() -> None:
    """Max 3: A=[p1,p2,p3] (p2 turns ready), B=[p4] (p4 deleted), p5 and p6 new -> two updates."""
    a = ("A", (_ep("p1"), _ep("p2", ready=False), _ep("p3")))
    b = ("B", (_ep("p4"),))
    plan = reconcile([a, b], _want(_ep("p1"), _ep("p2"), _ep("p3"), _ep("p5"), _ep("p6")), 3)
    assert plan == SlicePlan(update=[("A", (_ep("p1"), _ep("p2"), _ep("p3"))), ("B", (_ep("p5"), _ep("p6")))])


def test_updated_slices_are_topped_up_before_new_ones() -> None:
    """A slice already being rewritten takes new endpoints up to the maximum first."""
    existing = [("a", (_ep("p1", ready=False),))]
    plan = reconcile(existing, _want(_ep("p1"), _ep("p2"), _ep("p3"), _ep("p4")), 3)
    assert plan.update == [("a", (_ep("p1"), _ep("p2"), _ep("p3")))]
    assert plan.create == [(_ep("p4"),)]


def test_leftovers_fill_an_unchanged_slice() -> None:
    """A few new endpoints go into the unchanged slice with room rather than a new slice."""
    existing = [("a", (_ep("p1"),))]
    plan = reconcile(existing, _want(_ep("p1"), _ep("p2")), 100)
    assert plan == SlicePlan(update=[("a", (_ep("p1"), _ep("p2")))])


def test_recreated_pod_is_a_new_endpoint() -> None:
    """A pod recreated with the same name but a new uid replaces the old endpoint."""
    existing = [("a", (_ep("p1", uid=1),))]
    plan = reconcile(existing, _want(_ep("p1", uid=2)), 100)
    assert plan == SlicePlan(update=[("a", (_ep("p1", uid=2),))])


@pytest.mark.parametrize("seed", range(8), ids=[f"seed{i}" for i in range(8)])
def test_incremental_reconcile_plans_what_a_full_one_does(seed: int) -> None:
    """Told which endpoints changed and where each one is, reconcile makes the same plan as
    when it compares every slice (random slices of max 5, then random adds, removes, flips)."""
    rng = np.random.default_rng(seed)
    pods = {uid: Endpoint(f"p{uid}", uid, ready=bool(rng.integers(2))) for uid in range(1, 30)}
    first = reconcile([], _want(*pods.values()), 5)
    existing = [(f"s{i}", eps) for i, eps in enumerate(first.create)]
    where = {endpoint_key(e): name for name, eps in existing for e in eps}
    changed = sorted(rng.choice(list(pods), size=8, replace=False).tolist()) + [30, 31, 32]
    for uid in changed:
        if uid > 29:
            pods[uid] = Endpoint(f"p{uid}", uid, ready=True)
        elif rng.integers(2):
            del pods[uid]
        else:
            pods[uid] = Endpoint(f"p{uid}", uid, ready=not pods[uid].ready)
    desired = _want(*(pods[uid] for uid in sorted(pods)))
    touched = [(f"p{uid}", uid) for uid in changed]
    assert reconcile(existing, desired, 5, touched, where) == reconcile(existing, desired, 5)
