"""The scenario's nodes on a real cluster, and undoing every change made to them.

On a KWOK cluster the replay *creates* one fake Node per simulated node, built by the
simulator's own ``sim.engine.build_nodes`` so names (``<pool>-<i>``), labels (hostname,
os, arch, ``kubesim.io/node-pool``, the pool's labels, the round-robin zone), taints and
capacity/allocatable (extended resources such as ``nvidia.com/gpu`` included) are the
simulator's. The annotation ``kwok.x-k8s.io/node: fake`` is what the kwok controller of
``make cluster`` selects (``--manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake``);
it then marks the node Ready, keeps its Lease fresh and plays every pod bound to it.
Each node also carries ``app.kubernetes.io/managed-by=kubesim`` and
``kubesim.io/replay=<namespace>`` so the replay deletes exactly the nodes it made.

On kind (and other clusters with real kubelets) nodes exist already: the replay only
advertises the extended resources of GPU-like pools on the workers labelled with their
pool (``kubesim kind-config`` writes those labels) with a JSON patch of the node's status
subresource (``/status/capacity/nvidia.com~1gpu``; ``~1`` escapes ``/``), and removes the
same paths again at the end.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sim.engine import POOL_LABEL, build_nodes
from sim.scenario import Scenario

from labs.cluster import LabError, describe_api_error

__all__ = ["MANAGED_BY", "REPLAY_LABEL", "NodeChanges", "advertise_extended_resources", "fake_nodes",
           "register_fake_nodes"]

MANAGED_BY = ("app.kubernetes.io/managed-by", "kubesim")
REPLAY_LABEL = "kubesim.io/replay"
KWOK_ANNOTATION = ("kwok.x-k8s.io/node", "fake")
STANDARD_RESOURCES = {"cpu", "memory", "pods", "ephemeral-storage"}


def _quantity(name: str, value: int) -> str:
    """The simulator's integer amounts back to quantities: millicores for cpu, else units."""
    return f"{value}m" if name == "cpu" else str(value)


def fake_nodes(scenario: Scenario, replay_id: str) -> list[dict[str, Any]]:
    """Node manifests for a KWOK cluster, one per simulated node (see the module docstring)."""
    out = []
    for node in build_nodes(scenario.cluster.node_pools):
        labels = {**node.meta.labels, MANAGED_BY[0]: MANAGED_BY[1], REPLAY_LABEL: replay_id}
        out.append({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": node.meta.name, "labels": labels,
                         "annotations": {KWOK_ANNOTATION[0]: KWOK_ANNOTATION[1],
                                         "node.alpha.kubernetes.io/ttl": "0"}},
            "spec": {"taints": [{"key": t.key, "value": t.value, "effect": t.effect} for t in node.taints]},
            "status": {"capacity": {k: _quantity(k, v) for k, v in sorted(node.capacity.items())},
                       "allocatable": {k: _quantity(k, v) for k, v in sorted(node.allocatable.items())}},
        })
    return out


@dataclass
class NodeChanges:
    """What the replay did to nodes, so that ``undo`` can take it back."""

    replay_id: str = ""
    created: list[str] = field(default_factory=list)
    patched: dict[str, list[str]] = field(default_factory=dict)  # node -> JSON-pointer paths added

    def undo(self, core: Any) -> list[str]:
        """Delete created nodes and remove added status paths; returns problems (not raised)."""
        from kubernetes.client.exceptions import ApiException

        problems = []
        if self.created:
            try:
                core.delete_collection_node(label_selector=f"{REPLAY_LABEL}={self.replay_id}")
            except ApiException as exc:
                problems.append(f"deleting nodes {REPLAY_LABEL}={self.replay_id}: {describe_api_error(exc)}")
            else:
                self.created = []
        for name, paths in list(self.patched.items()):
            try:
                core.patch_node_status(name, [{"op": "remove", "path": p} for p in paths])
                del self.patched[name]
            except ApiException as exc:
                if exc.status == 404:
                    del self.patched[name]
                else:
                    problems.append(f"restoring node {name}: {describe_api_error(exc)}")
        return problems


def register_fake_nodes(core: Any, scenario: Scenario, changes: NodeChanges) -> list[str]:
    """Create the scenario's fake nodes (KWOK); refuses if a node of that name exists."""
    from kubernetes.client.exceptions import ApiException

    manifests = fake_nodes(scenario, changes.replay_id)
    existing = {n.metadata.name for n in core.list_node().items}
    clash = sorted(existing & {m["metadata"]["name"] for m in manifests})
    if clash:
        more = f" (and {len(clash) - 1} more)" if len(clash) > 1 else ""
        raise LabError(f"node {clash[0]!r}{more} already exists on the cluster; kubesim only touches nodes it "
                       f"creates (remove leftovers with: kubectl delete node -l "
                       f"{MANAGED_BY[0]}={MANAGED_BY[1]})")

    def create(body: dict[str, Any]) -> None:
        try:
            core.create_node(body)
        except ApiException as exc:
            raise LabError(f"the server rejected node {body['metadata']['name']}: {describe_api_error(exc)}") from None
        changes.created.append(body["metadata"]["name"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        for future in [pool.submit(create, m) for m in manifests]:
            future.result()
    return [m["metadata"]["name"] for m in manifests]


def advertise_extended_resources(core: Any, scenario: Scenario, changes: NodeChanges) -> list[str]:
    """Patch the status of each pool's workers to add the pool's extended resources (kind).

    Returns warnings (e.g. a pool without labelled workers); resources a node already has
    are left alone, so nothing of the cluster's own is changed or removed later."""
    from kubernetes.client.exceptions import ApiException

    notes = []
    sim_nodes = {n.pool: n for n in build_nodes(scenario.cluster.node_pools)}
    for pool in scenario.cluster.node_pools:
        node = sim_nodes.get(pool.name)
        extended = {k: v for k, v in (node.capacity.items() if node else ()) if k not in STANDARD_RESOURCES
                    and not k.startswith("hugepages-")}
        if not extended:
            continue
        workers = core.list_node(label_selector=f"{POOL_LABEL}={pool.name}").items
        if not workers:
            notes.append(f"no node labelled {POOL_LABEL}={pool.name}: {', '.join(extended)} not advertised "
                         "(create the cluster from `kubesim kind-config`)")
            continue
        for worker in workers:
            have = worker.status.capacity or {}
            ops, paths = [], []
            for resource, value in sorted(extended.items()):
                if resource in have:
                    continue
                escaped = resource.replace("~", "~0").replace("/", "~1")
                for section, amount in (("capacity", value), ("allocatable", node.allocatable.get(resource, value))):
                    path = f"/status/{section}/{escaped}"
                    ops.append({"op": "add", "path": path, "value": _quantity(resource, amount)})
                    paths.append(path)
            if not ops:
                continue
            try:
                core.patch_node_status(worker.metadata.name, ops)
            except ApiException as exc:
                raise LabError(f"cannot patch the status of node {worker.metadata.name}: "
                               f"{describe_api_error(exc)}") from None
            changes.patched[worker.metadata.name] = paths
    return notes
