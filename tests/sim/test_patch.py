"""Merge patches and the new timeline actions: patch semantics, and load-time errors that name the field."""

from __future__ import annotations

from typing import Any

import pytest

from sim.api.patch import merge_patch, patch_problem
from sim.engine import run
from sim.scenario import scenario_from_text
from sim.yamlio import SourceError


@pytest.mark.parametrize(("target", "patch", "result"), [
    ({"a": 1}, {"b": 2}, {"a": 1, "b": 2}),
    ({"a": 1, "b": 2}, {"a": None}, {"b": 2}),  # null deletes
    ({"a": {"x": 1, "y": 2}}, {"a": {"y": 3}}, {"a": {"x": 1, "y": 3}}),  # mappings merge
    ({"a": [1, 2]}, {"a": [3]}, {"a": [3]}),  # lists are replaced
    ({"a": 1}, {"a": {"b": None}}, {"a": {}}),
], ids=["add", "delete", "recurse", "list-replaced", "scalar-to-map"])
def test_merge_patch(target: dict[str, Any], patch: dict[str, Any], result: dict[str, Any]) -> None:
    """RFC 7386 semantics, without changing the inputs."""
    before = repr(target)
    assert merge_patch(target, patch) == result
    assert repr(target) == before


@pytest.mark.parametrize(("kind", "patch", "immutable", "problem"), [
    ("Deployment", {"spec": {"template": {}}}, False, None),
    ("Deployment", {"spec": {"strategy": {}}}, False, ("spec", "strategy")),
    ("Deployment", {"status": {}}, False, ("status",)),
    ("ConfigMap", {"data": {"k": "v"}, "metadata": {"labels": {"x": "y"}}}, False, None),
    ("ConfigMap", {"data": {"k": "v"}}, True, ("data",)),
    ("ConfigMap", {"metadata": {"name": "other"}}, False, ("metadata", "name")),
    ("Secret", {"stringData": {"k": "v"}}, False, None),
    ("Pod", {"spec": {}}, False, ()),
], ids=["template", "strategy", "status", "data-and-labels", "immutable", "rename", "secret", "pod"])
def test_patch_problem(kind: str, patch: dict[str, Any], immutable: bool, problem: tuple[str, ...] | None) -> None:
    """Only the fields kubesim models may change; immutable ConfigMaps refuse data changes."""
    found = patch_problem(kind, patch, immutable)
    assert (found[0] if found else None) == problem


BASE = """
name: p
duration: 3m
cluster:
  nodePools:
  - {name: gpu, count: 2, capacity: {cpu: "4", memory: 16Gi}}
workloads:
- name: web
  manifests:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web}
    spec:
      replicas: 2
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec: {containers: [{name: c, image: "web:1"}]}
  - {apiVersion: v1, kind: ConfigMap, metadata: {name: frozen}, data: {k: v}, immutable: true}
timeline:
"""


ACTION_LINE = 21  # the timeline item appended to BASE


@pytest.mark.parametrize(("action", "words"), [
    ("{at: 1m, action: drain, target: node/gpu-7}", "no node 'gpu-7' in the cluster; did you mean 'gpu-1'?"),
    ("{at: 1m, action: cordon, target: nodepool/gpus}", "no nodepool 'gpus' in the cluster; did you mean 'gpu'?"),
    ("{at: 1m, action: drain, target: deployment/web}", "drain acts on node/<name> or nodepool/<pool>"),
    ("{at: 1m, action: patch, target: configmap/frozen, patch: {data: {k: w}}}", "immutable"),
    ("{at: 1m, action: patch, target: deployment/web, patch: {spec: {template: {spec: {restartPolicy: Sometimes}}}}}",
     "the patched template is invalid: spec.restartPolicy: expected Always, OnFailure or Never"),
    ("{at: 1m, action: patch, target: deployment/web, patch: {spec: {replicas: -1}}}",
     "expected a non-negative integer"),
    ("{at: 1m, action: patch, target: configmap/frozen, patch: {binaryData: {k: 3}}}", "immutable"),
], ids=["unknown-node", "unknown-pool", "drain-a-deployment", "immutable-configmap", "bad-template",
        "negative-replicas", "immutable-binary"])
def test_bad_node_and_patch_actions_are_located(action: str, words: str) -> None:
    """Each mistake is reported at load time with its line and what was expected."""
    with pytest.raises(SourceError) as info:
        scenario_from_text(BASE + f"- {action}\n")
    assert info.value.line == ACTION_LINE
    assert words in info.value.message


def test_patching_replicas_scales_the_deployment() -> None:
    """A merge patch of spec.replicas scales like kubectl scale."""
    result = run(scenario_from_text(BASE + "- {at: 1m, action: patch, target: deployment/web, "
                                           "patch: {spec: {replicas: 4}}}\n"))
    pods = result.pods()
    assert len(pods) == 4
    assert (pods["created"] > 60).sum() == 2
