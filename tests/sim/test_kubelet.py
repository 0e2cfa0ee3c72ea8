"""Kubelet timing: readiness probes, serialised image pulls and the image cache."""

from __future__ import annotations

import pytest

from sim.engine import run
from sim.kubelet import probe_ready_time
from sim.scenario import scenario_from_text


@pytest.mark.parametrize(("worker", "started", "warmup", "delay", "period", "threshold", "expected"), [
    (0.0, 0.0, 0.0, 0.0, 10.0, 1, 0.0),     # probe at the worker's first tick
    (0.0, 3.0, 0.0, 0.0, 10.0, 1, 10.0),    # container started after tick 0: next tick
    (0.0, 3.0, 0.0, 10.0, 10.0, 1, 20.0),   # initialDelay 10 s after start: tick at 20
    (0.0, 1.0, 25.0, 0.0, 5.0, 1, 30.0),    # warm-up until 26 s: tick at 30
    (0.0, 1.0, 25.0, 0.0, 5.0, 3, 40.0),    # three successes needed: 30, 35, 40
    (2.0, 2.0, 0.0, 0.0, 10.0, 1, 2.0),
], ids=["immediate", "next-tick", "initial-delay", "warmup", "success-threshold", "offset-worker"])
def test_probe_ready_time(worker: float, started: float, warmup: float, delay: float, period: float,
                          threshold: int, expected: float) -> None:
    """Ready at the first probe tick after both initialDelaySeconds and the app's warm-up."""
    assert probe_ready_time(worker, started, warmup, delay, period, threshold) == pytest.approx(expected)


PULLS = """
name: pulls
duration: 5m
controlPlane:
  kubelet:
    registryBandwidth: 10Mi
    imagePullOverhead: 0s
    sandboxStart: 0s
cluster:
  nodePools:
  - {name: w, count: 1, capacity: {cpu: "8", memory: 16Gi}}
workloads:
- name: a
  manifests:
  - {apiVersion: v1, kind: Pod, metadata: {name: a}, spec: {containers: [{name: c, image: "img-a:1"}]}}
  behavior: {imageSize: 100Mi, containerStart: 0s}
- name: b
  manifests:
  - {apiVersion: v1, kind: Pod, metadata: {name: b}, spec: {containers: [{name: c, image: "img-b:1"}]}}
  behavior: {imageSize: 50Mi, containerStart: 0s}
- name: c
  at: 60s
  manifests:
  - {apiVersion: v1, kind: Pod, metadata: {name: c}, spec: {containers: [{name: c, image: "img-a:1"}]}}
  behavior: {imageSize: 100Mi, containerStart: 0s}
"""


def test_pulls_are_serialised_and_cached() -> None:
    """Two images on one node pull one after the other; a later pod reuses the cached image."""
    pods = run(scenario_from_text(PULLS)).pods().set_index("name")
    own = {"a": 10.0, "b": 5.0}  # 100 MiB and 50 MiB at 10 MiB/s
    first, second = sorted(own, key=lambda name: pods.loc[name, "pulled"])
    assert pods.loc[first, "pulled"] - pods.loc[first, "pulling"] == pytest.approx(own[first], abs=0.01)
    # the second asked at about the same time but waited for the first pull to finish
    waited = pods.loc[second, "pulled"] - pods.loc[second, "pulling"]
    assert waited == pytest.approx(own[first] + own[second], abs=0.05)
    # c's image is present (IfNotPresent for a tagged image): no Pulling event
    assert pods.loc["c", "pulling"] != pods.loc["c", "pulling"]  # NaN
    assert pods.loc["c", "pulled"] >= 60
