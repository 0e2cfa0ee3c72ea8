"""ImageLocality: models pkg/scheduler/framework/plugins/imagelocality/image_locality.go
(Kubernetes 1.36) over the scheduler cache's image states (backend/cache: ImageStateSummary).

For each init and regular container whose image the node lists in status.images, the
node earns the image's size scaled by its spread, size * (nodes with it / all nodes), so
an image cached on a single node of many adds little (the "node heating" guard). The sum
is clamped to [23 MiB, 1000 MiB * containers] and mapped linearly onto 0..100. The pod's
image names get ``:latest`` when untagged; nothing else is normalised, so ``nginx`` does
not match the ``docker.io/library/nginx:latest`` a containerd node reports (upstream's
known gap). Image volumes, which 1.36 also counts, are not modelled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.scheduler.framework import MAX_NODE_SCORE, CycleState, PodInfo
from sim.scheduler.nodetable import NodeTable
from sim.scheduler.plugins.names import IMAGE_LOCALITY

__all__ = ["MAX_CONTAINER_THRESHOLD", "MIN_THRESHOLD", "ImageLocality", "calculate_priority",
           "normalized_image_name", "scaled_image_score"]

MB = 1024 * 1024
MIN_THRESHOLD = 23 * MB  # about the 90th percentile range of images on Docker Hub, per upstream
MAX_CONTAINER_THRESHOLD = 1000 * MB


def normalized_image_name(name: str) -> str:
    """Append ``:latest`` when the last ``:`` is not after the last ``/`` (no tag given)."""
    return name + ":latest" if name.rfind(":") <= name.rfind("/") else name


def scaled_image_score(size: int, num_nodes: int, total_nodes: int) -> int:
    """size * spread, truncated as upstream's int64(float64(size) * spread).

    A 500 MiB image on 2 of 4 nodes: 524288000 * 0.5 = 262144000 (250 MiB).
    """
    return int(float(size) * (float(num_nodes) / float(total_nodes)))


def calculate_priority(sum_scores: np.ndarray, num_containers: int) -> np.ndarray:
    """Clamp to [23 MiB, 1000 MiB * containers], then 100 * (sum - min) // (max - min).

    One container, 250 MiB: 100 * (250 - 23) // (1000 - 23) = 22700 // 977 = 23.
    """
    max_threshold = MAX_CONTAINER_THRESHOLD * num_containers
    clamped = np.minimum(np.maximum(sum_scores, MIN_THRESHOLD), max_threshold)
    return MAX_NODE_SCORE * (clamped - MIN_THRESHOLD) // (max_threshold - MIN_THRESHOLD)


@dataclass
class ImageLocality:
    """Score plugin (default weight 1)."""

    name: str = IMAGE_LOCALITY
    STABLE_CHECKS = True  # its checks read only what a template's plan is kept for (FilterPlugin)
    _holders: dict[str, tuple[int, np.ndarray, int]] = field(default_factory=dict, repr=False)
    _scores: dict[int, tuple[Any, NodeTable, int, np.ndarray, int | None]] = field(default_factory=dict, repr=False)

    def _image_state(self, table: NodeTable, name: str) -> tuple[np.ndarray, int] | None:
        """(rows holding the image as a mask, its scaled score), cached per node-table version."""
        cached = self._holders.get(name)
        if cached is not None and cached[0] == table.version:
            return cached[1], cached[2]
        holders = table.image_rows.get(name)
        if not holders:
            self._holders.pop(name, None)
            return None
        mask = np.zeros(table.n, dtype=bool)
        mask[list(holders)] = True
        scaled = scaled_image_score(table.image_sizes[name], len(holders), int(table.present[: table.n].sum()))
        self._holders[name] = (table.version, mask, scaled)
        return mask, scaled

    def score(self, state: CycleState, pod: PodInfo, table: NodeTable, rows: np.ndarray) -> np.ndarray:
        return self._per_row(pod, table)[0][rows]

    def constant_score(self, state: CycleState, pod: PodInfo, table: NodeTable) -> int | None:
        """The score every present node gets, if they all get the same (e.g. the image is everywhere)."""
        return self._per_row(pod, table)[1]

    def _per_row(self, pod: PodInfo, table: NodeTable) -> tuple[np.ndarray, int | None]:
        # A node's score depends on the pod's images and the cache's image states alone, which
        # change only with the node table's version: kept per spec (pods of a template share it).
        spec = pod.pod.spec
        cached = self._scores.get(id(spec))
        if cached is None or cached[0] is not spec or cached[1] is not table or cached[2] != table.version \
                or len(cached[3]) != table.n:
            if len(self._scores) > 256:
                self._scores.clear()
            values = self._score_rows(pod, table, np.arange(table.n))
            present = values[table.present[: table.n]]
            constant = int(present[0]) if len(present) and bool((present == present[0]).all()) else None
            cached = self._scores[id(spec)] = (spec, table, table.version, values, constant)
        return cached[3], cached[4]

    def _score_rows(self, pod: PodInfo, table: NodeTable, rows: np.ndarray) -> np.ndarray:
        containers = pod.pod.spec.init_containers + pod.pod.spec.containers
        sums = None
        for container in containers:
            image = self._image_state(table, normalized_image_name(container.image))
            if image is not None and image[1] > 0:
                add = np.where(image[0][rows], image[1], 0)
                sums = add if sums is None else sums + add
        if sums is None:  # no image of the pod on any node: everyone scores 0
            return np.zeros(len(rows), dtype=np.int64)
        return calculate_priority(sums, len(containers))
