"""Manifest parsing of rollout-related fields: StatefulSet defaults and per-image behaviour."""

from __future__ import annotations

import pytest

from sim.api.manifests import parse_manifest, template_with_image
from sim.api.objects import StatefulSet, WorkloadBehavior
from sim.scenario import Behavior
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
], ids=["policy", "strategy", "max-unavailable-zero"])
def test_statefulset_errors_name_the_field(spec: str, field: str) -> None:
    """A bad StatefulSet field is reported at its path."""
    with pytest.raises(SourceError, match=f"spec.{field}"):
        parse(STS % spec)


def test_per_image_behaviour_follows_the_image() -> None:
    """A pod of db:2 gets db:2's override; setting the image back restores the base behaviour."""
    behavior = Behavior.model_validate({"readiness": "5s", "images": {"db:2": {"neverReady": True}}}).to_object()
    s = parse(STS % "", behavior)
    assert not s.template.spec.behavior.never_ready
    raw, bad = template_with_image(s.raw_template, "c", "db:2", s.template.spec.behavior)
    assert bad.spec.behavior.never_ready and bad.spec.behavior.readiness.value == 5.0
    _, good = template_with_image(raw, "c", "db:1", bad.spec.behavior)
    assert not good.spec.behavior.never_ready
    assert good.hash == s.template.hash  # the same template as before: a rollback target
