"""NodeName: a pod with ``spec.nodeName`` fits only the node of that name.

Cases follow pkg/scheduler/framework/plugins/nodename/node_name.go (Fits: empty nodeName
or equal names; reason "node(s) didn't match the requested node name").
"""

from __future__ import annotations

import pytest
from builders import filter_reasons, make_node, make_pod, make_table

from sim.scheduler.plugins.node_name import NodeName

REASON = "node(s) didn't match the requested node name"


@pytest.mark.parametrize(("pod", "want"), [
    pytest.param(make_pod().obj(), {"n1": [], "n2": [], "n3": []}, id="no-node-name"),
    pytest.param(make_pod().node_name("n2").obj(), {"n1": [REASON], "n2": [], "n3": [REASON]}, id="named-node"),
    pytest.param(make_pod().node_name("gone").obj(), {"n1": [REASON], "n2": [REASON], "n3": [REASON]},
                 id="unknown-node"),
])
def test_filter(pod, want) -> None:
    """Only the named node passes; every other node gets upstream's reason."""
    table = make_table([make_node(n).capacity(cpu="1", memory="1Gi").obj() for n in ("n1", "n2", "n3")])
    assert filter_reasons(NodeName(), table, pod) == want
