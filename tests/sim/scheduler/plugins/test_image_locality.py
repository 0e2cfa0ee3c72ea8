"""ImageLocality: prefer nodes that already hold the pod's images, weighted by how widely
each image has spread.

Cases follow pkg/scheduler/framework/plugins/imagelocality/image_locality_test.go: per
container (init containers included) whose image the node lists, add
int(size * nodesWithImage / totalNodes); clamp the sum to [23 MiB, 1000 MiB * containers];
score = 100 * (sum - 23 MiB) // (max - 23 MiB). Untagged pod images get ``:latest``.
"""

from __future__ import annotations

import numpy as np
import pytest
from builders import make_node, make_pod, make_table, scores

from sim.scheduler.plugins.image_locality import (
    MAX_CONTAINER_THRESHOLD,
    MIN_THRESHOLD,
    ImageLocality,
    calculate_priority,
    normalized_image_name,
    scaled_image_score,
)

MB = 1024 * 1024
I40, I250, I300, I2000 = "gcr.io/40:latest", "gcr.io/250:latest", "gcr.io/300:latest", "gcr.io/2000:latest"


def node(name: str, **images: int):
    """A node listing images given as gcr.io/<size-in-MiB>:latest -> MiB."""
    return make_node(name).capacity(cpu="4", memory="8Gi").images(
        {f"gcr.io/{size}:latest": size * MB for size in images.values()}).obj()


def pod(*images: str, init: tuple[str, ...] = ()):
    wrapper = make_pod()
    for image in images:
        wrapper.container(image)
    for image in init:
        wrapper.init_container(image)
    return wrapper.obj()


CASES = [
    # 300 MiB on n1 only (1 of 2 nodes): 300 * 1/2 = 150 MiB; 100 * (150 - 23) // (1000 - 23) = 12700 // 977 = 12
    pytest.param([node("n1", a=300), node("n2")], pod("gcr.io/300"), {"n1": 12, "n2": 0}, id="spread-halves-size"),
    # on both nodes the full 300 MiB counts: 100 * (300 - 23) // 977 = 27700 // 977 = 28
    pytest.param([node("n1", a=300), node("n2", a=300)], pod("gcr.io/300"), {"n1": 28, "n2": 28},
                 id="spread-everywhere"),
    # 40 MiB on 1 of 2 nodes is 20 MiB, below the 23 MiB floor: 0
    pytest.param([node("n1", a=40), node("n2")], pod("gcr.io/40"), {"n1": 0, "n2": 0}, id="below-floor"),
    # 2000 MiB everywhere is clamped to 1000 MiB for one container: 100
    pytest.param([node("n1", a=2000), node("n2", a=2000)], pod("gcr.io/2000"), {"n1": 100, "n2": 100},
                 id="clamped-at-1000MiB"),
    # two containers: max 2000 MiB; n1 has 250 (both nodes) + 300 (n1 only, 150): 400 -> 37700 // 1977 = 19;
    # n2 has only 250: 22700 // 1977 = 11
    pytest.param([node("n1", a=250, b=300), node("n2", a=250)], pod("gcr.io/250", "gcr.io/300"),
                 {"n1": 19, "n2": 11}, id="two-containers"),
    # an init container's image counts and raises the maximum alike (2 containers)
    pytest.param([node("n1", a=250, b=300), node("n2", a=250)], pod("gcr.io/250", init=("gcr.io/300",)),
                 {"n1": 19, "n2": 11}, id="init-container-counts"),
    # a tag other than :latest is another image
    pytest.param([node("n1", a=300), node("n2", a=300)], pod("gcr.io/300:v2"), {"n1": 0, "n2": 0},
                 id="other-tag-no-match"),
    # explicit :latest equals no tag
    pytest.param([node("n1", a=300), node("n2", a=300)], pod("gcr.io/300:latest"), {"n1": 28, "n2": 28},
                 id="explicit-latest"),
]


@pytest.mark.parametrize(("nodes", "the_pod", "want"), CASES)
def test_score(nodes, the_pod, want) -> None:
    """Scores follow size x spread, clamped and scaled to 0..100."""
    assert scores(ImageLocality(), make_table(nodes), the_pod) == want


def test_spread_over_four_nodes() -> None:
    """1000 MiB on 1 of 4 nodes gives 250 MiB (score 23); on all 4 the full 1000 MiB (100)."""
    big = {"registry.example.com/llm:v1": 1000 * MB}
    one = [make_node("n0").capacity(cpu="4", memory="8Gi").images(big).obj()] + [
        make_node(f"n{i}").capacity(cpu="4", memory="8Gi").obj() for i in (1, 2, 3)]
    assert scores(ImageLocality(), make_table(one), pod("registry.example.com/llm:v1")) == {
        "n0": 23, "n1": 0, "n2": 0, "n3": 0}  # 100 * (250 - 23) // 977 = 23
    every = [make_node(f"n{i}").capacity(cpu="4", memory="8Gi").images(big).obj() for i in range(4)]
    assert set(scores(ImageLocality(), make_table(every), pod("registry.example.com/llm:v1")).values()) == {100}


def test_short_name_does_not_match_runtime_name() -> None:
    """``nginx`` normalises to ``nginx:latest``, not the ``docker.io/library/nginx:latest`` a
    containerd node reports, so it earns nothing (upstream's known gap, kubernetes#112699)."""
    nodes = [make_node("n1").capacity(cpu="1", memory="1Gi").images({"docker.io/library/nginx:latest": 500 * MB}).obj()]
    assert scores(ImageLocality(), make_table(nodes), pod("nginx")) == {"n1": 0}
    assert scores(ImageLocality(), make_table(nodes), pod("docker.io/library/nginx")) == {"n1": 48}


def test_size_is_first_reported() -> None:
    """The cache keeps an image's size as first reported (ImageStateSummary.Size)."""
    nodes = [make_node("n1").capacity(cpu="1", memory="1Gi").images({I300: 300 * MB}).obj(),
             make_node("n2").capacity(cpu="1", memory="1Gi").images({I300: 900 * MB}).obj()]
    table = make_table(nodes)
    assert table.image_sizes[I300] == 300 * MB
    assert table.image_rows[I300] == {0, 1}


def test_removed_node_leaves_image_states() -> None:
    """A deleted node no longer counts towards an image's spread or the node total."""
    nodes = [node("n1", a=300), node("n2", a=300), node("n3")]
    table = make_table(nodes)
    table.remove_node("n3")
    assert scores(ImageLocality(), table, pod("gcr.io/300")) == {"n1": 28, "n2": 28}
    table.remove_node("n2")
    assert I300 in table.image_sizes
    assert table.image_rows[I300] == {0}


@pytest.mark.parametrize(("name", "want"), [
    ("gcr.io/300", "gcr.io/300:latest"),
    ("gcr.io/300:v1", "gcr.io/300:v1"),
    ("localhost:5000/app", "localhost:5000/app:latest"),
    ("localhost:5000/app:1", "localhost:5000/app:1"),
    ("gcr.io/app@sha256:abcd", "gcr.io/app@sha256:abcd"),
], ids=["untagged", "tagged", "registry-port-untagged", "registry-port-tagged", "digest"])
def test_normalized_image_name(name, want) -> None:
    """``:latest`` is added only when no tag follows the last ``/``."""
    assert normalized_image_name(name) == want


def test_thresholds_and_helpers() -> None:
    """23 MiB and 1000 MiB bounds; scaled score truncates like Go's int64(float64)."""
    assert (MIN_THRESHOLD, MAX_CONTAINER_THRESHOLD) == (23 * MB, 1000 * MB)
    assert scaled_image_score(100, 1, 3) == 33  # 100 * 0.333... = 33.3 -> 33
    assert calculate_priority(np.array([0, 23 * MB, 1000 * MB, 5000 * MB]), 1).tolist() == [0, 0, 100, 100]
