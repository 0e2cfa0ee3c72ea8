"""VolumeBinding: claims must exist, immediate claims must be bound, a bound volume's zone
admits only its zone's nodes, and a WaitForFirstConsumer claim goes where its class can
provision and, once a node was selected, only there.

Cases follow pkg/scheduler/framework/plugins/volumebinding/volume_binding_test.go and
binder_test.go (FindPodVolumes, checkVolumeProvisions), with the reason texts of 1.36.
"""

from __future__ import annotations

import numpy as np
import pytest
from builders import make_pod, make_table
from volume_fakes import FakeHandle, claim, run_filters, storage_class, zoned_node

from sim.api.objects import SELECTED_NODE_ANNOTATION
from sim.scheduler.framework import Code, CycleState
from sim.scheduler.plugins.volume_binding import (
    ERR_BIND_CONFLICT,
    ERR_NODE_CONFLICT,
    ERR_UNBOUND_IMMEDIATE,
    VolumeBinding,
    VolumeBindingArgs,
)

NODES = [zoned_node("a1", "zone-a"), zoned_node("b1", "zone-b"), zoned_node("plain")]
IMMEDIATE = storage_class("fast")
WFFC = storage_class("fast", "WaitForFirstConsumer")


def setup(*objects, nodes=NODES):
    """A plugin bound to a fake scheduler whose informers have seen ``objects``."""
    table = make_table(nodes)
    handle = FakeHandle(table)
    plugin = VolumeBinding()
    plugin.bind_handle(handle)
    for obj in objects:
        handle.api.send("ADDED", obj)
    return plugin, handle, table


PRE_FILTER = [
    pytest.param([], make_pod().claims("data").obj(), 'persistentvolumeclaim "data" not found', id="missing-claim"),
    pytest.param([IMMEDIATE, claim("data", deleting=True)], make_pod().claims("data").obj(),
                 'persistentvolumeclaim "data" is being deleted', id="deleting-claim"),
    pytest.param([IMMEDIATE, claim("data")], make_pod().claims("data").obj(), ERR_UNBOUND_IMMEDIATE,
                 id="unbound-immediate"),
    # no class, or a class the lister lacks, counts as immediate binding
    pytest.param([claim("data", class_name=None)], make_pod().claims("data").obj(), ERR_UNBOUND_IMMEDIATE,
                 id="unbound-no-class"),
    pytest.param([claim("data", class_name="gone")], make_pod().claims("data").obj(), ERR_UNBOUND_IMMEDIATE,
                 id="unbound-unknown-class"),
    pytest.param([WFFC, claim("data")], make_pod().claims("data").obj(), None, id="unbound-delayed-ok"),
    pytest.param([IMMEDIATE, claim("data", zone="zone-a")], make_pod().claims("data").obj(), None, id="bound-ok"),
    # the existence check runs over every claim before any binding check
    pytest.param([IMMEDIATE, claim("a")], make_pod().claims("a", "b").obj(), 'persistentvolumeclaim "b" not found',
                 id="existence-first"),
]


@pytest.mark.parametrize(("objects", "pod", "want"), PRE_FILTER)
def test_pre_filter(objects, pod, want) -> None:
    """PreFilter rejects missing, deleting and unbound immediate claims."""
    plugin, _, table = setup(*objects)
    assert run_filters(plugin, table, pod)[0] == want


FILTER = [
    pytest.param([], make_pod().obj(), {"a1": [], "b1": [], "plain": []}, id="no-claims"),
    # a volume in zone-a: only zone-a nodes; a node without a zone label fails its node affinity too
    pytest.param([IMMEDIATE, claim("data", zone="zone-a")], make_pod().claims("data").obj(),
                 {"a1": [], "b1": [ERR_NODE_CONFLICT], "plain": [ERR_NODE_CONFLICT]}, id="bound-zonal"),
    pytest.param([IMMEDIATE, claim("data", zone="")], make_pod().claims("data").obj(),
                 {"a1": [], "b1": [], "plain": []}, id="bound-anywhere"),
    # two volumes in different zones fit no node
    pytest.param([IMMEDIATE, claim("x", zone="zone-a"), claim("y", zone="zone-b")], make_pod().claims("x", "y").obj(),
                 {"a1": [ERR_NODE_CONFLICT], "b1": [ERR_NODE_CONFLICT], "plain": [ERR_NODE_CONFLICT]},
                 id="bound-two-zones"),
    pytest.param([WFFC, claim("data")], make_pod().claims("data").obj(), {"a1": [], "b1": [], "plain": []},
                 id="delayed-anywhere"),
    pytest.param([storage_class("fast", "WaitForFirstConsumer", ("zone-b",)), claim("data")],
                 make_pod().claims("data").obj(),
                 {"a1": [ERR_BIND_CONFLICT], "b1": [], "plain": [ERR_BIND_CONFLICT]}, id="delayed-allowed-topology"),
    pytest.param([storage_class("fast", "WaitForFirstConsumer", provisioner="kubernetes.io/no-provisioner"),
                  claim("data")], make_pod().claims("data").obj(),
                 {"a1": [ERR_BIND_CONFLICT], "b1": [ERR_BIND_CONFLICT], "plain": [ERR_BIND_CONFLICT]},
                 id="delayed-no-provisioner"),
    pytest.param([WFFC, claim("data", selected="b1")], make_pod().claims("data").obj(),
                 {"a1": [ERR_BIND_CONFLICT], "b1": [], "plain": [ERR_BIND_CONFLICT]}, id="delayed-selected-node"),
    # a bound zone-a volume plus a delayed claim allowed only in zone-b: both reasons on "plain"
    pytest.param([storage_class("fast", "WaitForFirstConsumer", ("zone-b",)), claim("x", zone="zone-a"), claim("y")],
                 make_pod().claims("x", "y").obj(),
                 {"a1": [ERR_BIND_CONFLICT], "b1": [ERR_NODE_CONFLICT],
                  "plain": [ERR_NODE_CONFLICT, ERR_BIND_CONFLICT]},
                 id="both-reasons"),
]


@pytest.mark.parametrize(("objects", "pod", "want"), FILTER)
def test_filter(objects, pod, want) -> None:
    """Filter checks bound volumes' zones and where delayed claims can be provisioned."""
    plugin, _, table = setup(*objects)
    assert run_filters(plugin, table, pod) == (None, want)


def test_reasons_are_unresolvable() -> None:
    """Both Filter reasons are UnschedulableAndUnresolvable (preemption cannot help)."""
    plugin, _, table = setup(IMMEDIATE, claim("data", zone="zone-a"))
    rows = np.arange(table.n)
    codes = {text: code for text, _, code in plugin.reasons(CycleState(), _info(table, "data"), table, rows)}
    assert codes == {ERR_NODE_CONFLICT: Code.UNSCHEDULABLE_AND_UNRESOLVABLE,
                     ERR_BIND_CONFLICT: Code.UNSCHEDULABLE_AND_UNRESOLVABLE}


def _info(table, *claims):
    from builders import pod_info

    return pod_info(table, make_pod().claims(*claims).obj())


def test_reserve_assumes_then_permit_waits_until_bound() -> None:
    """Reserve assumes the node, Permit annotates the claim and waits; binding lets the pod go."""
    pvc = claim("data")
    plugin, handle, table = setup(WFFC, pvc)
    pod = make_pod("p1").claims("data").obj()
    pod.meta.uid = 41
    state = CycleState()
    info = _info(table, "data")
    assert plugin.pre_filter(state, info, table) is None
    plugin.reserve(state, pod, table.index["b1"])
    # a second pod sharing the claim now fits only b1, as if the annotation were written
    assert run_filters(plugin, table, make_pod("p2").claims("data").obj())[1] == {
        "a1": [ERR_BIND_CONFLICT], "b1": [], "plain": [ERR_BIND_CONFLICT]}
    code, timeout, _ = plugin.permit(state, pod, table.index["b1"])
    assert (code, timeout) == (Code.WAIT, 600.0)
    assert pvc.meta.annotations[SELECTED_NODE_ANNOTATION] == "b1"
    handle.api.send("MODIFIED", pvc)  # the annotation reaches the informer
    assert handle.allowed == []
    pvc.volume_name, pvc.zone, pvc.phase = "pvc-1", "zone-b", "Bound"
    handle.api.send("MODIFIED", pvc)  # the provisioner bound it
    assert handle.allowed == [(41, "VolumeBinding")]


def test_unreserve_forgets_assumption() -> None:
    """Unreserve reverts the assumed node, so the claim fits every node again."""
    plugin, _, table = setup(WFFC, claim("data"))
    pod = make_pod("p1").claims("data").obj()
    pod.meta.uid = 7
    state = CycleState()
    plugin.pre_filter(state, _info(table, "data"), table)
    plugin.reserve(state, pod, table.index["a1"])
    plugin.unreserve(pod, table.index["a1"])
    assert run_filters(plugin, table, make_pod().claims("data").obj())[1] == {"a1": [], "b1": [], "plain": []}


def test_permit_succeeds_when_all_bound() -> None:
    """A pod whose claims are all bound passes Permit at once and writes nothing."""
    plugin, handle, table = setup(IMMEDIATE, claim("data", zone="zone-a"))
    state = CycleState()
    plugin.pre_filter(state, _info(table, "data"), table)
    assert plugin.permit(state, make_pod().claims("data").obj(), 0)[0] == Code.SUCCESS
    assert handle.api.updates == []


def test_claim_events_move_pods_and_args() -> None:
    """Claim and class events requeue pods; bindTimeoutSeconds comes from the args."""
    _, handle, _ = setup(WFFC, claim("data"))
    assert handle.queue.moves == ["StorageClassChange", "PersistentVolumeClaimChange"]
    assert VolumeBinding.from_args(VolumeBindingArgs(bind_timeout_seconds=30)).bind_timeout_seconds == 30.0
