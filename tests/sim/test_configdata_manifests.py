"""Manifests for ConfigMap and Secret, a pod's references to them, and the new PDB and Service
fields, with located errors."""

from __future__ import annotations

import pytest

from sim.api.manifests import parse_manifest
from sim.api.objects import ConfigRef, WorkloadBehavior
from sim.yamlio import SourceError, load_text


def parse(text: str):  # type: ignore[no-untyped-def]
    return parse_manifest(load_text(text, "m.yaml")[0], "default", WorkloadBehavior())


def test_configmap_data_and_binary_data_share_one_key_space() -> None:
    """data and binaryData keys are both readable; immutable is kept."""
    cm = parse("""
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {mode: fast}
binaryData: {blob: aGk=}
immutable: true
""")
    assert (cm.kind, cm.data, cm.immutable) == ("ConfigMap", {"mode": "fast", "blob": "aGk="}, True)


def test_secret_string_data_overrides_data() -> None:
    """The API server merges stringData into data, stringData winning; type defaults to Opaque."""
    secret = parse("""
apiVersion: v1
kind: Secret
metadata: {name: creds}
data: {token: b2xk, user: YQ==}
stringData: {token: new}
""")
    assert (secret.data, secret.type) == ({"token": "new", "user": "YQ=="}, "Opaque")


def test_pod_references_in_env_env_from_and_volumes() -> None:
    """Every ConfigMap/Secret use is collected with its keys, consumer and optionality."""
    pod = parse("""
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  initContainers:
  - name: init
    image: i:1
    envFrom: [{secretRef: {name: creds, optional: true}}]
  containers:
  - name: app
    image: a:1
    env:
    - {name: MODE, valueFrom: {configMapKeyRef: {name: cfg, key: mode}}}
    - {name: PLAIN, value: x}
    - {name: TOKEN, valueFrom: {secretKeyRef: {name: creds, key: token}}}
  volumes:
  - {name: config, configMap: {name: cfg, items: [{key: mode, path: mode.txt}]}}
  - {name: tls, secret: {secretName: certs}}
  - {name: scratch, emptyDir: {}}
""")
    assert pod.spec.config_refs == (
        ConfigRef("Secret", "creds", "env", "init", (), True),
        ConfigRef("ConfigMap", "cfg", "env", "app", ("mode",)),
        ConfigRef("Secret", "creds", "env", "app", ("token",)),
        ConfigRef("ConfigMap", "cfg", "volume", "config", ("mode",)),
        ConfigRef("Secret", "certs", "volume", "tls", ()),
    )


def test_new_policy_and_service_fields() -> None:
    """unhealthyPodEvictionPolicy on a PDB and publishNotReadyAddresses on a Service are read."""
    pdb = parse("""
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: db}
spec: {minAvailable: 1, unhealthyPodEvictionPolicy: AlwaysAllow, selector: {matchLabels: {app: db}}}
""")
    svc = parse("""
apiVersion: v1
kind: Service
metadata: {name: db}
spec: {selector: {app: db}, publishNotReadyAddresses: true}
""")
    assert pdb.unhealthy_pod_eviction_policy == "AlwaysAllow"
    assert pdb.disruptions_allowed == 0
    assert svc.publish_not_ready_addresses


@pytest.mark.parametrize(("text", "line", "field", "words"), [
    ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  port: 8080\n", 5, "data.port",
     "values are strings; quote 8080"),
    ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {k: a}\nbinaryData:\n  k: YQ==\n", 6,
     "binaryData.k", "duplicate of key 'k' present in data"),
    ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: i\n"
     "    env:\n    - name: X\n      valueFrom:\n        configMapKeyRef: {name: cfg}\n", 11,
     "spec.containers[0].env[0].valueFrom.configMapKeyRef.key", "required field is missing"),
    ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: i}]\n  volumes:\n"
     "  - name: v\n    secret: {optional: true}\n", 8, "spec.volumes[0].secret.secretName",
     "required field is missing"),
    ("apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: d}\nspec:\n  minAvailable: 1\n"
     "  unhealthyPodEvictionPolicy: Never\n", 6, "spec.unhealthyPodEvictionPolicy",
     "expected IfHealthyBudget or AlwaysAllow"),
], ids=["number-value", "duplicate-key", "key-ref-without-key", "secret-without-name", "bad-eviction-policy"])
def test_errors_name_line_and_field(text: str, line: int, field: str, words: str) -> None:
    """Each bad field is reported at its own line with its path."""
    with pytest.raises(SourceError) as info:
        parse(text)
    assert (info.value.line, info.value.field_path) == (line, field)
    assert words in info.value.message
