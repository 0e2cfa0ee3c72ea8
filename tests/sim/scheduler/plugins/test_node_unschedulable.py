"""NodeUnschedulable: a cordoned node takes only pods tolerating the unschedulable taint.

Cases follow pkg/scheduler/framework/plugins/nodeunschedulable/node_unschedulable.go: a
node with ``spec.unschedulable`` fails with "node(s) were unschedulable" unless the pod
tolerates ``node.kubernetes.io/unschedulable:NoSchedule`` (Toleration.ToleratesTaint rules).
"""

from __future__ import annotations

import pytest
from builders import filter_reasons, make_node, make_pod, make_table

from sim.scheduler.plugins.node_unschedulable import NodeUnschedulable

KEY = "node.kubernetes.io/unschedulable"
REASON = "node(s) were unschedulable"


@pytest.mark.parametrize(("cordoned", "pod", "want"), [
    pytest.param(False, make_pod().obj(), [], id="schedulable-node"),
    pytest.param(True, make_pod().obj(), [REASON], id="cordoned"),
    pytest.param(True, make_pod().toleration(KEY, "Exists", effect="NoSchedule").obj(), [], id="tolerates-exists"),
    # the taint has an empty value, so Equal with "" matches
    pytest.param(True, make_pod().toleration(KEY, "Equal", "", "NoSchedule").obj(), [], id="tolerates-equal-empty"),
    pytest.param(True, make_pod().toleration(KEY, "Exists").obj(), [], id="tolerates-any-effect"),
    pytest.param(True, make_pod().toleration(operator="Exists").obj(), [], id="tolerates-everything"),
    pytest.param(True, make_pod().toleration(KEY, "Exists", effect="NoExecute").obj(), [REASON],
                 id="wrong-effect"),
    pytest.param(True, make_pod().toleration(KEY, "Equal", "true", "NoSchedule").obj(), [REASON],
                 id="wrong-value"),
    pytest.param(True, make_pod().toleration("node.kubernetes.io/not-ready", "Exists").obj(), [REASON],
                 id="other-key"),
])
def test_filter(cordoned, pod, want) -> None:
    """Cordoned nodes reject pods that do not tolerate the unschedulable taint."""
    table = make_table([make_node("n1").capacity(cpu="1", memory="1Gi").unschedulable(cordoned).obj()])
    assert filter_reasons(NodeUnschedulable(), table, pod) == {"n1": want}
