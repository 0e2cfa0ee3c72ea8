"""Ring all-reduce cost over the zone/rack/node topology."""

from __future__ import annotations

import pytest

from sim.api.objects import Node, ObjectMeta
from sim.network import GBPS, Network, NetworkConfig, ring_allreduce_time

GIB = 2**30


def _nodes(count: int, zones: tuple[str, ...] = ("a",)) -> list[Node]:
    return [Node(meta=ObjectMeta(name=f"n{i}", namespace="",
                                 labels={"topology.kubernetes.io/zone": zones[i % len(zones)]}),
                 allocatable={}, capacity={}) for i in range(count)]


@pytest.mark.parametrize(("ranks", "expected"),
                         [(1, 0.0), (2, 2 * 1e-5 + 1.0 * GIB / 1e9), (8, 14e-5 + 1.75 * GIB / 1e9)],
                         ids=["one", "two", "eight"])
def test_ring_formula(ranks: int, expected: float) -> None:
    """2(N-1) latency terms plus 2(N-1)/N of the data at the slowest hop's bandwidth."""
    assert ring_allreduce_time(ranks, GIB, 1e9, 1e-5) == pytest.approx(expected)


def test_single_node_uses_nvlink() -> None:
    """Eight GPUs on one node all-reduce over NVLink only."""
    net = Network(_nodes(2))
    c = net.config
    expected = ring_allreduce_time(8, GIB, c.nvlink_gbps * GBPS, c.nvlink_latency)
    assert net.allreduce_time({"n0": 8}, GIB) == pytest.approx(expected)


def test_two_nodes_in_a_rack_are_bound_by_the_nic() -> None:
    """Across two nodes of one rack the slowest hop is a node NIC (through the ToR switch)."""
    net = Network(_nodes(2))
    c = net.config
    expected = ring_allreduce_time(8, GIB, c.node_gbps * GBPS, 2 * c.node_latency)
    assert net.allreduce_time({"n0": 4, "n1": 4}, GIB) == pytest.approx(expected)


def test_spreading_over_zones_is_slower() -> None:
    """The same 8 ranks cost more when the ring crosses zones (100 Gb/s, 0.5 ms)."""
    net = Network(_nodes(4, zones=("a", "b")), NetworkConfig())
    same_zone = net.allreduce_time({"n0": 4, "n2": 4}, GIB)
    cross_zone = net.allreduce_time({"n0": 4, "n1": 4}, GIB)
    assert cross_zone > 1.9 * same_zone
    c = net.config
    latency = 2 * (c.node_latency + c.rack_latency + c.zone_latency)
    assert cross_zone == pytest.approx(ring_allreduce_time(8, GIB, c.zone_gbps * GBPS, latency))


def test_racks_fill_in_order() -> None:
    """With 2 nodes per rack, n0/n1 share a rack and n2 is in the next one (uplink hop)."""
    net = Network(_nodes(3), NetworkConfig(nodes_per_rack=2, rack_uplink_gbps=50))
    assert net.hop("n0", "n1")[0] == pytest.approx(200 * GBPS)
    assert net.hop("n0", "n2")[0] == pytest.approx(50 * GBPS)


def test_nodes_added_later_take_the_next_rack_slot() -> None:
    """A node cluster-autoscaler adds after start joins its zone's racks where the last left off."""
    net = Network(_nodes(2), NetworkConfig(nodes_per_rack=2, rack_uplink_gbps=50))
    late = _nodes(3)[2]
    net.add_node(late)
    net.add_node(late)  # idempotent
    assert net.hop("n0", "n2")[0] == pytest.approx(50 * GBPS)
    assert net.allreduce_time({"n0": 4, "n2": 4}, GIB) > net.allreduce_time({"n0": 4, "n1": 4}, GIB)
