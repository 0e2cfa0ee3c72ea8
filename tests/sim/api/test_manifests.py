"""Manifest parsing: a workload's per-image behaviour follows the pod's images."""

from __future__ import annotations

from sim.api.manifests import parse_manifest, template_with_image
from sim.api.objects import WorkloadBehavior
from sim.scenario import Behavior
from sim.yamlio import load_text

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


def test_per_image_behaviour_follows_the_image() -> None:
    """A pod of db:2 gets db:2's override; setting the image back restores the base behaviour."""
    behavior = Behavior.model_validate({"readiness": "5s", "images": {"db:2": {"neverReady": True}}}).to_object()
    s = parse(STS % "", behavior)
    assert not s.template.spec.behavior.never_ready
    raw, bad = template_with_image(s.raw_template, "c", "db:2", s.template.spec.behavior)
    assert bad.spec.behavior.never_ready
    assert bad.spec.behavior.readiness.value == 5.0
    _, good = template_with_image(raw, "c", "db:1", bad.spec.behavior)
    assert not good.spec.behavior.never_ready
    assert good.hash == s.template.hash  # the same template as before: a rollback target
