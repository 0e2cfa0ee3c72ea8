"""The data-centre network under distributed training: zones, racks, nodes and links.

A networkx graph: every node hangs off a top-of-rack switch (its NIC), racks uplink to
their zone's spine, zones meet at a core. GPUs inside a node talk over NVLink. The cost
of a gradient all-reduce follows the ring algorithm NCCL uses for large messages
(the alpha-beta model of Patarasuk & Yuan; Thakur et al.): with N ranks, each rank sends
2(N-1)/N of the gradient, in 2(N-1) steps, and a synchronous ring moves at the pace of
its slowest hop, so

    T = 2(N-1) * alpha_max + 2(N-1)/N * S / beta_min

where S is the gradient size, alpha_max the largest hop latency and beta_min the smallest
hop bandwidth. Placement therefore matters: spreading a job over racks or zones puts a
slow link into its ring.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import networkx as nx

from sim.api.objects import Node

__all__ = ["Network", "NetworkConfig", "ring_allreduce_time"]

GBPS = 1e9 / 8  # bytes per second in one gigabit per second
CORE = "core"
ZONE_LABEL = "topology.kubernetes.io/zone"


@dataclass(frozen=True, slots=True)
class NetworkConfig:
    """Link speeds (Gbit/s) and latencies (seconds) of the topology."""

    nvlink_gbps: float = 2400.0  # 300 GB/s per GPU (NVLink 3-class)
    node_gbps: float = 200.0  # one 200 Gb/s NIC per node
    rack_uplink_gbps: float = 1600.0  # top-of-rack to spine
    zone_gbps: float = 100.0  # between zones
    nodes_per_rack: int = 16
    nvlink_latency: float = 2e-6
    node_latency: float = 5e-6
    rack_latency: float = 10e-6
    zone_latency: float = 500e-6


def ring_allreduce_time(ranks: int, size_bytes: float, bandwidth: float, latency: float) -> float:
    """Seconds for a ring all-reduce of ``size_bytes`` over ``ranks`` at the slowest hop's
    ``bandwidth`` (bytes/s) and ``latency`` (s); 0 for a single rank."""
    if ranks <= 1:
        return 0.0
    return 2 * (ranks - 1) * latency + 2 * (ranks - 1) / ranks * size_bytes / bandwidth


class Network:
    """The topology of a cluster's nodes, and all-reduce costs for placements."""

    def __init__(self, nodes: Sequence[Node], config: NetworkConfig | None = None) -> None:
        self.config = config or NetworkConfig()
        self.graph = nx.Graph()
        self.graph.add_node(CORE)
        self._per_zone: dict[str, int] = {}
        for node in nodes:  # nodes arrive in pool order: racks fill in that order
            self.add_node(node)
        self._path = lru_cache(maxsize=65536)(self._path_cost)

    def add_node(self, node: Node) -> None:
        """Cable ``node`` into the next free slot of its zone's racks (initial nodes, and the
        ones cluster-autoscaler adds later); a node already cabled stays where it is."""
        if node.meta.name in self.graph:
            return
        c = self.config
        zone = node.meta.labels.get(ZONE_LABEL, "zone")
        index = self._per_zone.get(zone, 0)
        self._per_zone[zone] = index + 1
        rack = f"rack:{zone}:{index // c.nodes_per_rack}"
        spine = f"zone:{zone}"
        if spine not in self.graph:
            self.graph.add_edge(spine, CORE, bandwidth=c.zone_gbps * GBPS, latency=c.zone_latency)
        if rack not in self.graph:
            self.graph.add_edge(rack, spine, bandwidth=c.rack_uplink_gbps * GBPS, latency=c.rack_latency)
        self.graph.add_edge(node.meta.name, rack, bandwidth=c.node_gbps * GBPS, latency=c.node_latency)

    def _path_cost(self, a: str, b: str) -> tuple[float, float]:
        """(bottleneck bandwidth, total latency) of the path between two nodes."""
        path = nx.shortest_path(self.graph, a, b)
        edges = [self.graph.edges[u, v] for u, v in zip(path, path[1:], strict=False)]
        return min(e["bandwidth"] for e in edges), sum(e["latency"] for e in edges)

    def hop(self, a: str, b: str) -> tuple[float, float]:
        """(bandwidth, latency) between two ranks on nodes ``a`` and ``b``."""
        if a == b:
            return self.config.nvlink_gbps * GBPS, self.config.nvlink_latency
        return self._path(*sorted((a, b)))

    def allreduce_time(self, gpus_per_node: Mapping[str, int], size_bytes: float) -> float:
        """Ring all-reduce time of ``size_bytes`` for ranks placed as ``gpus_per_node``.

        The ring visits ranks node by node (sorted names), so each node has one link in and
        one out and its other hops are NVLink.
        """
        ring: list[str] = [name for name in sorted(gpus_per_node) for _ in range(gpus_per_node[name])]
        ranks = len(ring)
        if ranks <= 1:
            return 0.0
        hops = [self.hop(ring[i], ring[(i + 1) % ranks]) for i in range(ranks)]
        bandwidth = min(h[0] for h in hops)
        latency = max(h[1] for h in hops)
        return ring_allreduce_time(ranks, size_bytes, bandwidth, latency)
