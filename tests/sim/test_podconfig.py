"""ConfigMaps and Secrets in the kubelet: missing objects block start-up (env and volumes), mounted
volumes follow updates at the pod's periodic sync, env only changes when pods are replaced."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from sim.api.objects import ConfigRef
from sim.engine import Result, run
from sim.podconfig import config_error, jittered, next_mount_backoff
from sim.scenario import scenario_from_text


def test_mount_backoff_doubles_from_half_a_second_to_two_minutes_two() -> None:
    """0.5, 1, 2, ... 64, then capped at 122 s (2m2s)."""
    seq, b = [], 0.0
    for _ in range(10):
        b = next_mount_backoff(b)
        seq.append(b)
    assert seq == [0.5, 1, 2, 4, 8, 16, 32, 64, 122, 122]


def test_jitter_stretches_by_up_to_half() -> None:
    """wait.Jitter(d, 0.5) lies in [d, 1.5 d)."""
    assert jittered(10, 0.0) == 10
    assert jittered(60, 0.999) < 90


DATA = {("ConfigMap", "ns", "cfg"): (7, {"mode": "fast"}), ("Secret", "ns", "creds"): (8, {"token": "x"})}


def _lookup(kind: str, namespace: str, name: str) -> Any:
    return DATA.get((kind, namespace, name))


@pytest.mark.parametrize(("ref", "message"), [
    (ConfigRef("ConfigMap", "cfg", "env", "c", ("mode",)), None),
    (ConfigRef("ConfigMap", "nope", "env", "c"), 'configmap "nope" not found'),
    (ConfigRef("Secret", "nope", "env", "c"), 'secret "nope" not found'),
    (ConfigRef("ConfigMap", "nope", "env", "c", optional=True), None),
    (ConfigRef("ConfigMap", "cfg", "env", "c", ("size",)), "couldn't find key size in ConfigMap ns/cfg"),
    (ConfigRef("Secret", "creds", "env", "c", ("user",)), "couldn't find key user in Secret ns/creds"),
    (ConfigRef("ConfigMap", "cfg", "volume", "v", ("size",)), "configmap references non-existent config key: size"),
    (ConfigRef("Secret", "creds", "volume", "v", ("user",)), "secret references non-existent secret key: user"),
    (ConfigRef("ConfigMap", "cfg", "env", "c", ("size",), optional=True), None),
], ids=["ok", "cm-missing", "secret-missing", "optional-missing", "cm-key", "secret-key", "cm-volume-item",
        "secret-volume-item", "optional-key"])
def test_config_error_messages(ref: ConfigRef, message: str | None) -> None:
    """The kubelet's error for the first unsatisfiable reference, or None."""
    problem = config_error((ref,), ref.usage, "ns", _lookup)
    assert (problem[1] if problem else None) == message


SCENARIO = """
name: cfg
duration: {duration}
cluster:
  nodePools:
  - {{name: w, count: 1, capacity: {{cpu: "4", memory: 16Gi}}}}
workloads:
- name: app
  manifests:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {{name: app}}
    spec:
      replicas: 1
      selector: {{matchLabels: {{app: app}}}}
      template:
        metadata: {{labels: {{app: app}}}}
        spec:
          containers:
          - name: c
            image: "app:1"
            {env}
          volumes: {volumes}
- name: config
  at: 60s
  manifests:
  - {{apiVersion: v1, kind: ConfigMap, metadata: {{name: app-config}}, data: {{mode: slow}}}}
  - {{apiVersion: v1, kind: Secret, metadata: {{name: app-secret}}, stringData: {{token: abc}}}}
timeline:
{timeline}"""
ENV = "envFrom: [{configMapRef: {name: app-config}}, {secretRef: {name: app-secret}}]"
VOLUME = "[{name: config, configMap: {name: app-config}}]"


def _run(env: str = "env: []", volumes: str = "[]", timeline: str = "  []", duration: str = "3m") -> Result:
    return run(scenario_from_text(SCENARIO.format(env=env, volumes=volumes, timeline=timeline, duration=duration)))


def _events(result: Result, event: str, kind: str = "Pod") -> Any:
    df = result.to_frame()
    return df[(df["kind"] == kind) & (df["event"] == event)]


def test_missing_configmap_in_env_blocks_start_until_created() -> None:
    """CreateContainerConfigError every 10-15 s (on the 1 s sync tick) until the objects exist
    at 60 s; the next retry starts the container."""
    result = _run(env=ENV)
    waits = _events(result, "waiting")
    assert set(waits["reason"].astype(str)) == {"CreateContainerConfigError"}
    assert set(waits["message"].astype(str)) == {'configmap "app-config" not found'}
    gaps = np.diff(waits["t"].to_numpy())
    assert len(gaps) >= 3
    assert (gaps >= 10).all()
    assert (gaps < 16.01).all()
    started = float(_events(result, "started")["t"].iloc[0])
    assert float(waits["t"].max()) < 60 < started <= 60 + 16.1
    assert "env from configmap/app-config (resourceVersion" in str(_events(result, "started")["message"].iloc[0])


def test_missing_configmap_volume_blocks_start_with_mount_backoff() -> None:
    """FailedMount retries back off 0.5 s, 1 s, 2 s, ...; the first attempt after 60 s (≈64 s) mounts."""
    result = _run(volumes=VOLUME)
    fails = _events(result, "waiting")
    assert set(fails["reason"].astype(str)) == {"FailedMount"}
    assert str(fails["message"].iloc[0]) == ('MountVolume.SetUp failed for volume "config" : '
                                            'configmap "app-config" not found')
    times = fails["t"].to_numpy()
    assert np.diff(times) == pytest.approx([0.5, 1, 2, 4, 8, 16], abs=0.101)
    started = float(_events(result, "started")["t"].iloc[0])
    assert times[-1] + 32 <= started - 0.3 < times[-1] + 32.2 + 3  # mount, sandbox, start, PLEG
    assert started > 60


def test_optional_reference_does_not_block() -> None:
    """An optional ConfigMap that does not exist yet is simply skipped."""
    result = _run(env="envFrom: [{configMapRef: {name: app-config, optional: true}}]")
    assert _events(result, "waiting").empty
    assert float(_events(result, "started")["t"].iloc[0]) < 10


UPDATE = "- {at: 2m, action: patch, target: configmap/app-config, patch: {data: {mode: fast}}}\n"
ROLLOUT = ("- {at: 4m, action: patch, target: deployment/app, patch: {spec: {template: {metadata: "
           "{annotations: {checksum/config: v2}}}}}}\n")


def test_mounted_volume_follows_an_update_at_the_next_periodic_sync() -> None:
    """The update reaches the volume 60-90 s (syncFrequency, jittered) after the pod's previous sync."""
    result = _run(volumes=VOLUME, timeline=UPDATE, duration="5m")
    updated = _events(result, "volumeUpdated")
    assert len(updated) == 1
    t_update = float(updated["t"].iloc[0])
    started = float(_events(result, "started")["t"].iloc[0])  # the pod's last sync before the update
    patched = float(_events(result, "patched", kind="ConfigMap")["t"].iloc[0])
    assert t_update > patched
    syncs = started + np.arange(1, 4) * 60  # bounds of the k-th resync
    k = int(np.searchsorted(syncs, t_update))  # which resync saw it
    assert started + k * 60 <= t_update - 0.2 <= started + k * 90 + k * 1.0
    assert 'configmap "app-config" resourceVersion' in str(updated["message"].iloc[0])


def test_env_changes_only_when_a_template_annotation_rolls_the_pods() -> None:
    """Updating the ConfigMap leaves the running pod's env as it was; a checksum annotation on the
    pod template replaces the pod, and the new one reads the new version."""
    result = _run(env=ENV, timeline=UPDATE + ROLLOUT, duration="6m")
    started = _events(result, "started")
    assert len(started) == 2
    assert float(started["t"].iloc[1]) > 240
    old, new = (str(m) for m in started["message"])
    assert old != new
    assert "configmap/app-config" in new
    assert _events(result, "volumeUpdated").empty  # env-only pods have nothing to refresh
    pods = result.pods()
    assert pods["deleted"].notna().sum() == 1  # the old pod, replaced by the rollout
