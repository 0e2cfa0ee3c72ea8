"""`--set PATH=VALUE`: scenario fields, workload fields and manifest fields by path."""

from __future__ import annotations

import pytest

from sim import load_scenario
from sim.api.objects import Deployment
from sim.overrides import format_override, parse_override
from sim.yamlio import SourceError

SERVING = "scenarios/serving-basic.yaml"
POD = "scenarios/pod-startup.yaml"


def _replicas(overrides: list[str]) -> dict[str, int]:
    scenario = load_scenario(SERVING, overrides)
    return {obj.meta.name: obj.replicas for _, obj in scenario.objects if isinstance(obj, Deployment)}


@pytest.mark.parametrize(("override", "expected"), [
    ("workloads.model-server.spec.replicas=4", {"model-server": 4, "api-gateway": 4}),
    ("workloads.model-server.deployment.spec.replicas=5", {"model-server": 5, "api-gateway": 4}),
    ("workloads.model-server.Deployment/model-server.spec.replicas=6", {"model-server": 6, "api-gateway": 4}),
    ("workloads.1.spec.replicas=2", {"model-server": 8, "api-gateway": 2}),
], ids=["by-workload-name", "by-kind", "by-kind-and-name", "by-workload-index"])
def test_manifest_field_in_a_file_is_set_by_workload(override: str, expected: dict[str, int]) -> None:
    """A path below a workload that is not a workload field reaches into its manifest object."""
    assert _replicas([override]) == expected


def test_manifest_override_reaches_list_items_by_name_and_shows_in_manifests() -> None:
    """Containers are found by name, and the changed manifest is what a real cluster would get."""
    scenario = load_scenario(SERVING, ["workloads.api-gateway.spec.template.spec.containers.gateway.image=nginx:1.27"])
    manifests = {m["metadata"]["name"] + "/" + m["kind"]: m for _, _, m in scenario.manifests()}
    containers = manifests["api-gateway/Deployment"]["spec"]["template"]["spec"]["containers"]
    assert containers[0]["image"] == "nginx:1.27"


def test_inline_manifest_is_reached_by_object_name() -> None:
    """`workloads.<object name>` finds an inline manifest when no workload has that name."""
    scenario = load_scenario(POD, ["workloads.web.metadata.labels.tier=front"])
    assert scenario.objects[0][1].meta.labels["tier"] == "front"


def test_workload_fields_still_mean_the_workload_entry() -> None:
    """`behavior` is a field of the workload, so the path sets the workload, not a manifest."""
    scenario = load_scenario(SERVING, ["workloads.model-server.behavior.imageSize=1Gi"])
    assert scenario.workloads[0].behavior.image_size == 1024**3


@pytest.mark.parametrize(("override", "message"), [
    ("workloads.modelserver.spec.replicas=4", "did you mean 'model-server'?"),
    ("workloads.model-server.spec.replcas=4", "did you mean 'spec.replicas'?"),
    ("workloads.model-server.deployment.spec.replcas=4", "did you mean 'replicas'?"),
    ("workloads.model-server.spec.extra=1", "name one, e.g. workloads.model-server.deployment.spec.extra"),
    ("workloads.model-server.spec.replicas=-1", "model-server.yaml:10: spec.replicas: must be >= 0"),
], ids=["unknown-workload", "misspelt-field", "misspelt-field-of-chosen-object", "ambiguous", "bad-value"])
def test_bad_manifest_override_is_one_clear_error(override: str, message: str) -> None:
    """Each mistake is named, with a suggestion where one exists."""
    with pytest.raises(SourceError, match=message.replace("?", r"\?").replace(".", r"\.")):
        load_scenario(SERVING, [override])


@pytest.mark.parametrize("value", [8, 0.25, "10ms", True, {"dist": "constant", "value": "2ms"}, [1, 2]],
                         ids=["int", "float", "duration", "bool", "mapping", "list"])
def test_format_override_round_trips(value: object) -> None:
    """The text written for (path, value) parses back to the same value."""
    assert parse_override(format_override("a.b", value)) == (["a", "b"], value)
