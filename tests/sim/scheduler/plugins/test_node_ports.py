"""NodePorts: a pod's host ports must be free on the node.

Cases follow pkg/scheduler/framework/plugins/nodeports/node_ports_test.go and
HostPortInfo.CheckConflict: a port is (host IP, protocol, port) with an unset IP meaning
0.0.0.0 (every address) and an unset protocol TCP; 0.0.0.0 collides with any address,
a specific address with itself and 0.0.0.0; protocols never collide with each other.
Sidecars (init containers with restartPolicy Always) hold their ports, other init
containers do not.
"""

from __future__ import annotations

import pytest
from builders import filter_reasons, make_node, make_pod, make_table

from sim.api.objects import HostPort
from sim.scheduler.plugins.node_ports import ERR_REASON, NodePorts, conflicts


def node(name: str = "n1"):
    return make_node(name).capacity(cpu="4", memory="8Gi").obj()


def placed(*ports: HostPort | int):
    """A pod already on n1 holding ``ports``."""
    return make_pod("existing").ports(*ports).obj()


CASES = [
    pytest.param([], make_pod().obj(), [], id="no-ports-anywhere"),
    pytest.param([placed(8080)], make_pod().obj(), [], id="pod-without-ports"),
    pytest.param([], make_pod().ports(8080).obj(), [], id="free-node"),
    pytest.param([placed(8080)], make_pod().ports(8080).obj(), [ERR_REASON], id="same-tcp-port"),
    pytest.param([placed(8080)], make_pod().ports(8081).obj(), [], id="other-port"),
    pytest.param([placed(HostPort(8080, "UDP"))], make_pod().ports(8080).obj(), [], id="udp-vs-tcp"),
    pytest.param([placed(HostPort(8080, "UDP"))], make_pod().ports(HostPort(8080, "UDP")).obj(), [ERR_REASON],
                 id="same-udp-port"),
    pytest.param([placed(HostPort(9000, "SCTP", "127.0.0.1"))],
                 make_pod().ports(HostPort(9000, "SCTP", "127.0.0.1")).obj(), [ERR_REASON], id="same-sctp-address"),
    # two specific addresses do not overlap
    pytest.param([placed(HostPort(8080, "TCP", "127.0.0.1"))],
                 make_pod().ports(HostPort(8080, "TCP", "127.0.0.2")).obj(), [], id="different-addresses"),
    # 0.0.0.0 (unset hostIP) overlaps every address, in both directions
    pytest.param([placed(HostPort(8080, "TCP", "127.0.0.1"))], make_pod().ports(8080).obj(), [ERR_REASON],
                 id="wildcard-wants-taken-address"),
    pytest.param([placed(8080)], make_pod().ports(HostPort(8080, "TCP", "127.0.0.1")).obj(), [ERR_REASON],
                 id="address-wants-taken-wildcard"),
    pytest.param([placed(HostPort(8080, "TCP", "0.0.0.0"))], make_pod().ports(8080).obj(), [ERR_REASON],
                 id="explicit-wildcard-equals-unset"),
    # one colliding port among several is enough
    pytest.param([placed(9090)], make_pod().ports(8080, 9090).obj(), [ERR_REASON], id="one-of-many"),
    # a sidecar's host port is held for the pod's life; an ordinary init container's is not
    pytest.param([placed(8080)], make_pod().init_container("sidecar:1", 8080, restart_policy="Always").obj(),
                 [ERR_REASON], id="sidecar-port-counts"),
    pytest.param([placed(8080)], make_pod().init_container("init:1", 8080).obj(), [], id="init-port-ignored"),
    pytest.param([make_pod("existing").init_container("sidecar:1", 8080, restart_policy="Always").obj()],
                 make_pod().ports(8080).obj(), [ERR_REASON], id="existing-sidecar-holds-port"),
]


@pytest.mark.parametrize(("existing", "pod", "want"), CASES)
def test_filter(existing, pod, want) -> None:
    """A node fails when any wanted (address, protocol, port) collides with one in use."""
    table = make_table([node()], assigned=[(p, "n1") for p in existing])
    assert filter_reasons(NodePorts(), table, pod) == {"n1": want}


def test_reason_text_exact() -> None:
    """The reason matches upstream's ErrReason byte for byte."""
    assert ERR_REASON == "node(s) didn't have free ports for the requested pod ports"


def test_only_nodes_with_the_port_fail() -> None:
    """Of three nodes, only the one already using 80/TCP is rejected."""
    nodes = [node("n1"), node("n2"), node("n3")]
    table = make_table(nodes, assigned=[(placed(80), "n2"), (placed(443), "n3")])
    reasons = filter_reasons(NodePorts(), table, make_pod().ports(80).obj())
    assert reasons == {"n1": [], "n2": [ERR_REASON], "n3": []}


def test_port_freed_when_pod_leaves() -> None:
    """Forgetting the pod that held a port frees it (NodeInfo.RemovePod)."""
    table = make_table([node()])
    holder = placed(80, HostPort(80, "UDP"))
    info_vec, nonzero, _ = table.request_vector(holder)
    holder.meta.uid = 7
    entry = table.assume(0, holder, info_vec, nonzero)
    assert table.host_ports[0] == {("0.0.0.0", "TCP", 80): 1, ("0.0.0.0", "UDP", 80): 1}
    table.forget(entry)
    assert table.host_ports[0] == {}
    assert filter_reasons(NodePorts(), table, make_pod().ports(80).obj()) == {"n1": []}


@pytest.mark.parametrize(("wanted", "used", "want"), [
    (("0.0.0.0", "TCP", 80), {("10.0.0.1", "TCP", 80): 1}, True),
    (("10.0.0.1", "TCP", 80), {("10.0.0.2", "TCP", 80): 1}, False),
    (("10.0.0.1", "TCP", 80), {("0.0.0.0", "TCP", 80): 1}, True),
    (("0.0.0.0", "UDP", 80), {("0.0.0.0", "TCP", 80): 1}, False),
], ids=["wildcard-any-address", "two-addresses", "address-vs-wildcard", "protocols-apart"])
def test_conflicts(wanted, used, want) -> None:
    """CheckConflict's address and protocol rule on its own."""
    assert conflicts(wanted, used) is want
