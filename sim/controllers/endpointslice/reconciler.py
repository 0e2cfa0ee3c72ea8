"""EndpointSlice reconciler: models staging/src/k8s.io/endpointslice/reconciler.go and utils.go
(Kubernetes 1.36), as pure functions.

``reconcile`` compares the endpoints a Service should have with the slices it has and plans
the fewest writes, as ``reconcileByPortMapping`` and ``finalize`` do:

1. keep each existing slice's endpoints that are still desired (updated in place if a
   condition changed); a slice left empty is deleted, a changed one is updated;
2. top up the slices already being updated, fullest first, to ``maxEndpointsPerSlice``;
3. put what is left into the unchanged slice that it fills most exactly (only if it is less
   than a whole slice), else into new slices;
4. a Service with no endpoints keeps one empty placeholder slice;
5. a slice to create replaces a slice to delete (an update instead of a create and a delete).

Worked example (max 3 per slice): slices A=[p1,p2,p3] and B=[p4]; p2 becomes ready, p4 is
deleted and p5, p6 appear. Step 1 updates A (p2's condition) and empties B (to delete); step 2
finds A full; step 3 has no unchanged slice, so a new slice takes [p5,p6]; step 5 turns that
create into an update of B. Result: update A, update B=[p5,p6], nothing created or deleted.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from sim.api.discovery import Endpoint
from sim.api.objects import FAILED, SUCCEEDED, Pod

__all__ = ["SlicePlan", "endpoint_key", "get_slice_to_fill", "pod_to_endpoint", "reconcile",
           "should_pod_be_in_endpoints"]

Slice = tuple[str, tuple[Endpoint, ...]]  # (name, endpoints) of an existing slice
Key = tuple[str, int]


def should_pod_be_in_endpoints(pod: Pod) -> bool:
    """Not terminal and has an IP (terminating pods are kept, with their conditions).

    kubesim's kubelet first writes a pod's status when its containers run, so "has an IP"
    is "the kubelet has reported it started"."""
    return pod.phase not in (SUCCEEDED, FAILED) and pod.start_time is not None


def pod_to_endpoint(pod: Pod, zone: str, publish_not_ready: bool = False) -> Endpoint:
    """The endpoint of a pod: serving is its readiness; ready is serving and not terminating."""
    serving = pod.ready
    terminating = pod.terminating
    return Endpoint(pod.meta.name, pod.meta.uid, pod.node_name, zone,
                    publish_not_ready or (serving and not terminating), serving, terminating)


def endpoint_key(endpoint: Endpoint) -> Key:
    """Identity of an endpoint across slices (upstream hashes address and targetRef)."""
    return (endpoint.pod, endpoint.uid)


def get_slice_to_fill(slices: list[Slice], count: int, max_endpoints: int) -> str | None:
    """The slice that ``count`` more endpoints fill most exactly without overflowing."""
    closest, best = max_endpoints, None
    for name, endpoints in slices:
        gap = max_endpoints - (count + len(endpoints))
        if 0 <= gap < closest:
            closest, best = gap, name
            if gap == 0:
                break
    return best


@dataclass(slots=True)
class SlicePlan:
    """Writes to make: new slices' endpoints, (name, endpoints) updates, names to delete."""

    create: list[tuple[Endpoint, ...]] = field(default_factory=list)
    update: list[Slice] = field(default_factory=list)
    delete: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.create or self.update or self.delete)


def reconcile(existing: list[Slice], desired: Mapping[Key, Endpoint], max_endpoints: int,
              touched: Collection[Key] | None = None, where: Mapping[Key, str] | None = None) -> SlicePlan:
    """Plan the writes that turn ``existing`` slices into ``desired`` endpoints (see the module doc).

    ``desired`` is ordered (kubesim fills slices in that order; upstream pops a set in no order).
    Given the endpoints ``touched`` since the last reconcile and ``where`` each endpoint of the
    existing slices is, only the slices holding touched endpoints are compared, endpoint by
    endpoint; the plan is the same as comparing every slice, at a fraction of the cost.
    """
    if touched is None or where is None:
        remaining = dict(desired)
        scan = None
    else:
        remaining = {k: desired[k] for k in touched if k in desired and k not in where}
        scan = {where[k] for k in touched if k in where}
    by_name = dict(existing)
    to_update: list[str] = []
    to_delete: list[str] = []
    unchanged: list[str] = []
    for name, endpoints in existing:  # step 1
        if scan is not None and name not in scan:
            unchanged.append(name)
            continue
        kept = []
        changed = False
        for endpoint in endpoints:
            key = endpoint_key(endpoint)
            want = remaining.pop(key, None) if scan is None else desired.get(key)
            if want is not None:
                kept.append(want)
                changed |= want is not endpoint and want != endpoint
        if changed or len(kept) != len(endpoints):
            if kept:
                by_name[name] = tuple(kept)
                to_update.append(name)
            else:
                to_delete.append(name)
        else:
            unchanged.append(name)
    queue = list(remaining.values())
    if queue and to_update:  # step 2: fullest first
        for name in sorted(to_update, key=lambda n: -len(by_name[n])):
            room = max_endpoints - len(by_name[name])
            if room > 0 and queue:
                by_name[name] += tuple(queue[:room])
                queue = queue[room:]
    create: list[tuple[Endpoint, ...]] = []
    while queue:  # step 3
        target = None
        if len(queue) < max_endpoints and unchanged:
            target = get_slice_to_fill([(n, by_name[n]) for n in unchanged], len(queue), max_endpoints)
        base = by_name[target] if target is not None else ()
        room = max_endpoints - len(base)
        filled, queue = base + tuple(queue[:room]), queue[room:]
        if target is None:
            create.append(filled)
        else:
            by_name[target] = filled
            unchanged.remove(target)
            to_update.append(target)
    if len(existing) == len(to_delete) and not create:  # step 4: an existing placeholder stays unchanged
        create.append(())
    return _finalize(create, [(n, by_name[n]) for n in to_update], to_delete)


def _finalize(create: list[tuple[Endpoint, ...]], update: list[Slice], delete: list[str]) -> SlicePlan:
    """Step 5: reuse slices about to be deleted for slices about to be created."""
    while create and delete:
        update.append((delete.pop(0), create.pop()))
    return SlicePlan(create, update, delete)
