"""VolumeZone: a pod whose bound volume carries a zone label fits only nodes of that zone,
unless the node has no topology labels at all.

Cases follow pkg/scheduler/framework/plugins/volumezone/volume_zone_test.go: nodes are
constrained when they carry any of the zone/region labels (GA or beta); the volume's GA
zone label is then looked up on the node as is, so a node with only the beta zone label
does not match. Unbound WaitForFirstConsumer claims are skipped; other unbound claims and
missing objects fail PreFilter with upstream's texts.
"""

from __future__ import annotations

import pytest
from builders import make_pod, make_table
from volume_fakes import FakeHandle, claim, run_filters, storage_class, zoned_node

from sim.scheduler.plugins.volume_zone import ERR_REASON_CONFLICT, VolumeZone

REGION = "topology.kubernetes.io/region"
BETA_ZONE = "failure-domain.beta.kubernetes.io/zone"
NODES = [
    zoned_node("a1", "zone-a"),
    zoned_node("b1", "zone-b"),
    zoned_node("plain"),  # no topology labels: a single-zone cluster
    zoned_node("region-only", labels={REGION: "r1"}),
    zoned_node("beta-a", labels={BETA_ZONE: "zone-a"}),
]


def setup(*objects):
    """A plugin bound to a fake scheduler whose informers have seen ``objects``."""
    table = make_table(NODES)
    handle = FakeHandle(table)
    plugin = VolumeZone()
    plugin.bind_handle(handle)
    for obj in objects:
        handle.api.send("ADDED", obj)
    return plugin, table


ALL_PASS = {name: [] for name in ("a1", "b1", "plain", "region-only", "beta-a")}

CASES = [
    pytest.param([], make_pod().obj(), (None, ALL_PASS), id="no-claims"),
    pytest.param([storage_class("fast"), claim("data", zone="zone-a")], make_pod().claims("data").obj(),
                 (None, {"a1": [], "b1": [ERR_REASON_CONFLICT], "plain": [], "region-only": [ERR_REASON_CONFLICT],
                         "beta-a": [ERR_REASON_CONFLICT]}), id="bound-zone-a"),
    pytest.param([storage_class("fast"), claim("data", zone="")], make_pod().claims("data").obj(),
                 (None, ALL_PASS), id="bound-without-zone"),
    pytest.param([storage_class("fast", "WaitForFirstConsumer"), claim("data")], make_pod().claims("data").obj(),
                 (None, ALL_PASS), id="unbound-delayed-skipped"),
    pytest.param([storage_class("fast"), claim("data")], make_pod().claims("data").obj(),
                 ("PersistentVolume had no name", {}), id="unbound-immediate"),
    pytest.param([claim("data", class_name=None)], make_pod().claims("data").obj(),
                 ("PersistentVolumeClaim had no pv name and storageClass name", {}), id="unbound-no-class"),
    pytest.param([claim("data", class_name="gone")], make_pod().claims("data").obj(),
                 ('storageclass.storage.k8s.io "gone" not found', {}), id="class-not-found"),
    pytest.param([], make_pod().claims("data").obj(), ('persistentvolumeclaim "data" not found', {}),
                 id="claim-not-found"),
]


@pytest.mark.parametrize(("objects", "pod", "want"), CASES)
def test_volume_zone(objects, pod, want) -> None:
    """PreFilter resolves the claims' volumes; Filter matches their zone against the node's."""
    plugin, table = setup(*objects)
    assert run_filters(plugin, table, pod) == want


def test_reason_text_exact() -> None:
    """The reason matches upstream's ErrReasonConflict byte for byte."""
    assert ERR_REASON_CONFLICT == "node(s) had no available volume zone"
