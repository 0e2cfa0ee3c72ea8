"""Node status images: runtime names, the 50-largest cap, and when a pulled image reaches
the Node object (next 30 s image-cache refresh, then the next 10 s status tick), one write
per tick and only when the list changed; the scheduler then scores with it."""

from __future__ import annotations

import json

import pytest
import simpy

from sim.api.objects import Node, ObjectMeta
from sim.engine import run
from sim.nodestatus import ImageStatusReporter, next_tick, node_status_images, runtime_image_name
from sim.scenario import scenario_from_text

MB = 1024 * 1024


@pytest.mark.parametrize(("reference", "name"), [
    ("nginx", "docker.io/library/nginx:latest"),
    ("nginx:1.25", "docker.io/library/nginx:1.25"),
    ("bitnami/redis:7", "docker.io/bitnami/redis:7"),
    ("index.docker.io/library/busybox", "docker.io/library/busybox:latest"),
    ("registry.k8s.io/pause:3.10", "registry.k8s.io/pause:3.10"),
    ("localhost/app", "localhost/app:latest"),
    ("localhost:5000/team/app", "localhost:5000/team/app:latest"),
    ("nvcr.io/nvidia/pytorch@sha256:abc", "nvcr.io/nvidia/pytorch@sha256:abc"),
], ids=["short", "short-tagged", "user-repo", "index-alias", "registry", "localhost", "registry-port", "digest"])
def test_runtime_image_name(reference: str, name: str) -> None:
    """containerd lists an image under its fully qualified, tagged reference."""
    assert runtime_image_name(reference) == name


def test_node_status_images_keeps_largest() -> None:
    """Largest first, ties by name, cut at nodeStatusMaxImages (-1 keeps all)."""
    sizes = {"a": 5, "b": 9, "c": 5, "d": 1}
    assert list(node_status_images(sizes, 3)) == ["b", "a", "c"]
    assert list(node_status_images(sizes, -1)) == ["b", "a", "c", "d"]
    assert node_status_images(sizes, 0) == {}


@pytest.mark.parametrize(("now", "phase", "period", "want"), [
    (0.0, 4.0, 10.0, 4.0), (4.0, 4.0, 10.0, 4.0), (4.5, 4.0, 10.0, 14.0), (33.0, 7.0, 30.0, 37.0),
], ids=["before-phase", "on-tick", "just-after", "second-period"])
def test_next_tick(now: float, phase: float, period: float, want: float) -> None:
    """The first phase + k * period at or after now."""
    assert next_tick(now, phase, period) == pytest.approx(want)


class _Api:
    def __init__(self, env: simpy.Environment) -> None:
        self.env, self.writes = env, []

    def update(self, client, node, mutate) -> None:
        mutate(node)
        self.writes.append((self.env.now, dict(node.images)))


def test_reporter_timing_and_coalescing() -> None:
    """Pulls at 3 s and 5 s land in one write at 14 s: cache refresh at 12 s (phase 12 of 30),
    status tick at 14 s (phase 4 of 10); a pull at 50 s appears at the 72 s refresh, 74 s tick."""
    env = simpy.Environment()
    api = _Api(env)
    node = Node(ObjectMeta("n1", ""), {}, {}, images={"registry.k8s.io/pause:3.10": 1 * MB})
    reporter = ImageStatusReporter(env, api, None, node, 50, 10.0, status_phase=4.0, cache_phase=12.0)
    for at, name in ((3.0, "a:1"), (5.0, "b:1"), (50.0, "c:1"), (60.0, "a:1")):
        env.timeout(at).callbacks.append(lambda _e, n=name: reporter.pulled(n, 100 * MB))
    env.run(until=200)
    assert [t for t, _ in api.writes] == [14.0, 74.0]
    assert list(api.writes[0][1]) == ["a:1", "b:1", "registry.k8s.io/pause:3.10"]
    assert "c:1" in api.writes[1][1]
    assert reporter.writes == 2


LEARN = """
name: image-learning
seed: 5
duration: 4m
controlPlane:
  kubelet: {registryBandwidth: 1Gi, imagePullOverhead: 0s, sandboxStart: 0s}
cluster:
  nodePools:
  - {name: w, count: 3, capacity: {cpu: "8", memory: 32Gi}}
workloads:
- name: first
  manifests:
  - apiVersion: v1
    kind: Pod
    metadata: {name: first}
    spec: {containers: [{name: c, image: "registry.example.com/trainer:v2"}]}
  behavior: {imageSize: 3Gi}
- name: second
  at: 2m
  manifests:
  - apiVersion: v1
    kind: Pod
    metadata: {name: second}
    spec: {containers: [{name: c, image: "registry.example.com/trainer:v2"}]}
  behavior: {imageSize: 3Gi}
"""


def test_scheduler_learns_pulled_images_from_node_status() -> None:
    """After the first pod pulls a 3 GiB image, its node reports it and the second pod,
    otherwise indifferent, follows: 3072 MiB on 1 of 3 nodes = 1024 MiB, clamped to 100."""
    result = run(scenario_from_text(LEARN))
    store, sim = result.simulation.api.store, result.simulation
    first, second = store.get("Pod", "default", "first"), store.get("Pod", "default", "second")
    assert second.node_name == first.node_name
    node = store.get("Node", "", first.node_name)
    assert node.images == {"registry.example.com/trainer:v2": 3 * 1024 * MB}
    table = sim.scheduler.table
    assert table.node_images[table.index[first.node_name]] is node.images
    assert sim.kubelets[first.node_name].image_status.writes == 1
    decision = json.loads(sim.trace.decisions[-1])
    assert [(t["node"], t["plugins"]["ImageLocality"]) for t in decision["top"]][0] == (first.node_name, 100)
    assert all(k.image_status.writes == 0 for name, k in sim.kubelets.items() if name != first.node_name)
