"""Manifests: spec.topologySpreadConstraints and spec.affinity.podAffinity/podAntiAffinity.

Decoding and the API server's checks (pkg/apis/core/validation) for the fields that the
PodTopologySpread and InterPodAffinity plugins read; every error names its line and field.
"""

from __future__ import annotations

import pytest

from sim.api.manifests import parse_manifest
from sim.api.objects import WorkloadBehavior
from sim.api.selectors import Requirement, Selector
from sim.yamlio import SourceError, load_text

POD = """apiVersion: v1
kind: Pod
metadata: {{name: web, labels: {{app: web}}}}
spec:
  containers: [{{name: c, image: registry.k8s.io/pause:3.10}}]
{extra}
"""


def parse(extra: str):
    """The Pod parsed from POD with ``extra`` spec lines."""
    doc = load_text(POD.format(extra=extra), "web.yaml")[0]
    return parse_manifest(doc, "default", WorkloadBehavior())


def test_spread_constraint_fields() -> None:
    """Every field of a topologySpreadConstraint is read, unset optionals stay None."""
    spec = parse("""  topologySpreadConstraints:
  - maxSkew: 2
    topologyKey: topology.kubernetes.io/zone
    whenUnsatisfiable: DoNotSchedule
    labelSelector: {matchLabels: {app: web}}
    minDomains: 3
    nodeTaintsPolicy: Honor
    matchLabelKeys: [pod-template-hash]
  - {maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: ScheduleAnyway}""").spec
    first, second = spec.topology_spread_constraints
    assert (first.max_skew, first.min_domains, first.node_taints_policy, first.node_affinity_policy) == \
        (2, 3, "Honor", None)
    assert first.label_selector == Selector((Requirement("app", "In", ("web",)),))
    assert first.match_label_keys == ("pod-template-hash",)
    assert (second.when_unsatisfiable, second.label_selector, second.min_domains) == ("ScheduleAnyway", None, None)


def test_pod_affinity_fields() -> None:
    """Required and weighted preferred terms of podAffinity and podAntiAffinity are read."""
    spec = parse("""  affinity:
    podAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - {topologyKey: topology.kubernetes.io/zone, labelSelector: {matchLabels: {app: db}}, namespaces: [data]}
    podAntiAffinity:
      preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 50
        podAffinityTerm:
          topologyKey: kubernetes.io/hostname
          labelSelector: {matchExpressions: [{key: app, operator: In, values: [web]}]}
          namespaceSelector: {}
          mismatchLabelKeys: [tenant]""").spec
    (term,) = spec.pod_affinity.required
    assert (term.topology_key, term.namespaces, term.namespace_selector) == ("topology.kubernetes.io/zone",
                                                                             ("data",), None)
    ((weight, anti),) = spec.pod_anti_affinity.preferred
    assert (weight, anti.namespace_selector, anti.mismatch_label_keys) == (50, Selector(), ("tenant",))
    assert spec.has_pod_affinity
    assert not spec.pod_anti_affinity.required


BAD = {
    "skew-zero": ("""  topologySpreadConstraints:
  - {maxSkew: 0, topologyKey: zone, whenUnsatisfiable: DoNotSchedule}""", 7, "maxSkew", "must be >= 1"),
    "bad-action": ("""  topologySpreadConstraints:
  - {maxSkew: 1, topologyKey: zone, whenUnsatisfiable: Sometimes}""", 7, "whenUnsatisfiable", "expected"),
    "min-domains-soft": ("""  topologySpreadConstraints:
  - {maxSkew: 1, topologyKey: zone, whenUnsatisfiable: ScheduleAnyway, minDomains: 2}""", 7, "minDomains",
                         "whenUnsatisfiable=DoNotSchedule"),
    "duplicate-pair": ("""  topologySpreadConstraints:
  - {maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule}
  - {maxSkew: 2, topologyKey: zone, whenUnsatisfiable: DoNotSchedule}""", 8, "topologySpreadConstraints[1]",
                       "duplicate"),
    "label-keys-without-selector": ("""  topologySpreadConstraints:
  - {maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule, matchLabelKeys: [hash]}""", 7,
                                    "matchLabelKeys", "labelSelector is not set"),
    "empty-topology-key": ("""  affinity:
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - {labelSelector: {}}""", 9, "topologyKey", "can not be empty"),
    "weight-out-of-range": ("""  affinity:
    podAffinity:
      preferredDuringSchedulingIgnoredDuringExecution:
      - {weight: 101, podAffinityTerm: {topologyKey: zone}}""", 9, "weight", "between 1 and 100"),
}


@pytest.mark.parametrize(("extra", "line", "field", "message"), BAD.values(), ids=BAD.keys())
def test_bad_fields_are_located(extra: str, line: int, field: str, message: str) -> None:
    """An invalid field is reported with the manifest's line and the field's path."""
    with pytest.raises(SourceError) as err:
        parse(extra)
    assert err.value.line == line
    assert field in (err.value.field_path or "")
    assert message in err.value.message
