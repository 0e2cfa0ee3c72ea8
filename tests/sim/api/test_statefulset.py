"""apps/v1 StatefulSet manifests: defaults, fields, claim templates and located errors."""

from __future__ import annotations

import re

import pytest

from sim.api.manifests import parse_manifest
from sim.api.objects import StatefulSet, WorkloadBehavior
from sim.yamlio import SourceError, load_text

STS = """
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  replicas: 3
  selector: {matchLabels: {app: db}}
  %s
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: c, image: "db:1"}]
"""


def parse(text: str, behavior: WorkloadBehavior | None = None) -> object:
    return parse_manifest(load_text(text, "m.yaml")[0], "default", behavior or WorkloadBehavior())


def test_statefulset_defaults() -> None:
    """apps/v1 defaults: OrderedReady, RollingUpdate with partition 0, history 10."""
    s = parse(STS % "")
    assert isinstance(s, StatefulSet)
    assert (s.pod_management_policy, s.update_strategy, s.partition, s.revision_history_limit,
            s.min_ready_seconds) == ("OrderedReady", "RollingUpdate", 0, 10, 0.0)


def test_statefulset_fields() -> None:
    """Parallel, partition and minReadySeconds are read; maxUnavailable is accepted."""
    s = parse(STS % "podManagementPolicy: Parallel\n  minReadySeconds: 5\n"
              "  updateStrategy: {rollingUpdate: {partition: 2, maxUnavailable: 2}}")
    assert (s.pod_management_policy, s.partition, s.min_ready_seconds) == ("Parallel", 2, 5.0)


@pytest.mark.parametrize(("spec", "field"), [
    ("podManagementPolicy: Burst", "podManagementPolicy"),
    ("updateStrategy: {type: Partitioned}", "updateStrategy.type"),
    ("updateStrategy: {rollingUpdate: {maxUnavailable: 0}}", "updateStrategy.rollingUpdate.maxUnavailable"),
    ("persistentVolumeClaimRetentionPolicy: {whenScaled: Delete}", "persistentVolumeClaimRetentionPolicy.whenScaled"),
    ("volumeClaimTemplates: [{spec: {accessModes: [ReadWriteOnce]}}]", "volumeClaimTemplates[0].metadata.name"),
], ids=["policy", "strategy", "max-unavailable-zero", "retention-delete", "claim-without-name"])
def test_statefulset_errors_name_the_field(spec: str, field: str) -> None:
    """A bad StatefulSet field is reported at its path."""
    with pytest.raises(SourceError, match=re.escape(f"spec.{field}: ")):
        parse(STS % spec)


def test_statefulset_claim_templates() -> None:
    """Each volumeClaimTemplate is read as a claim: class, size and access modes."""
    s = parse(STS % ("volumeClaimTemplates:\n  - metadata: {name: data}\n    spec: {storageClassName: ssd, "
                     "accessModes: [ReadWriteOnce], resources: {requests: {storage: 10Gi}}}"))
    (claim,) = s.volume_claim_templates
    assert (claim.meta.name, claim.storage_class_name, claim.storage, claim.access_modes) == (
        "data", "ssd", 10 * 1024**3, ("ReadWriteOnce",))
