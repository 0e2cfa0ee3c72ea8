"""A node's image list in its status: models pkg/kubelet/nodestatus/setters.go (Images),
pkg/kubelet/kubelet_node_status.go (syncNodeStatus) and the image cache of
pkg/kubelet/images/image_gc_manager.go, plus containerd's reference normalisation.

The runtime names an image by its normalised reference: ``nginx:1.25`` is stored as
``docker.io/library/nginx:1.25`` and ``nginx`` as ``docker.io/library/nginx:latest``. The
kubelet lists the runtime's images into a cache every 30 s and, every
``nodeStatusUpdateFrequency`` (10 s), writes ``status.images`` (largest first, at most
``nodeStatusMaxImages``) when it differs from what it last reported. Nothing runs on an
idle node: a finished pull schedules the next cache refresh, which schedules the next
status tick; pulls landing before the same tick share one write.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import simpy

from sim.clock import call_later

__all__ = ["IMAGE_CACHE_UPDATE_PERIOD", "ImageStatusReporter", "next_tick", "node_status_images",
           "runtime_image_name"]

IMAGE_CACHE_UPDATE_PERIOD = 30.0  # realImageGCManager.Start: ListImages into the cache every 30 s
DEFAULT_DOMAIN = "docker.io"
OFFICIAL_REPO_PREFIX = "library/"


@lru_cache(maxsize=4096)
def runtime_image_name(reference: str) -> str:
    """The name containerd lists an image under (distribution/reference ParseNormalizedNamed).

    A first path component without ``.`` or ``:`` (and not ``localhost``) is not a registry,
    so Docker Hub is implied, with ``library/`` for single-name images; a reference with
    neither tag nor digest gets ``:latest``. ``nginx`` -> ``docker.io/library/nginx:latest``;
    ``registry.k8s.io/pause:3.10`` is unchanged.
    """
    name, at, digest = reference.partition("@")
    first, slash, rest = name.partition("/")
    if not slash or ("." not in first and ":" not in first and first != "localhost"):
        first, rest = DEFAULT_DOMAIN, name
    if first == "index.docker.io":
        first = DEFAULT_DOMAIN
    if first == DEFAULT_DOMAIN and "/" not in rest:
        rest = OFFICIAL_REPO_PREFIX + rest
    out = f"{first}/{rest}"
    if at:
        return f"{out}@{digest}"
    if ":" not in rest.rsplit("/", 1)[-1]:
        out += ":latest"
    return out


def node_status_images(sizes: Mapping[str, int], max_images: int) -> dict[str, int]:
    """status.images: largest first (ties by name), at most ``max_images`` (-1: all)."""
    ordered = sorted(sizes.items(), key=lambda item: (-item[1], item[0]))
    if max_images >= 0:
        ordered = ordered[:max_images]
    return dict(ordered)


def next_tick(now: float, phase: float, period: float) -> float:
    """The first time ``phase + k * period`` (k an integer) at or after ``now``."""
    return phase + math.ceil((now - phase) / period - 1e-9) * period


class ImageStatusReporter:
    """One kubelet's images and their way into its Node's status."""

    def __init__(self, env: simpy.Environment, api: Any, client: Any, node: Any, max_images: int,
                 status_period: float, status_phase: float = 0.0, cache_phase: float = 0.0) -> None:
        self.env = env
        self.api = api
        self.client = client
        self.node = node
        self.max_images = max_images
        self.status_period = status_period
        self.status_phase = status_phase
        self.cache_phase = cache_phase
        self.sizes: dict[str, int] = dict(node.images)  # the runtime's image store
        self._listed: dict[str, int] = dict(self.sizes)  # the kubelet's image cache
        self._reported: Mapping[str, int] = node.images
        self._refresh_pending = False
        self._report_pending = False
        self.writes = 0

    def pulled(self, name: str, size: int) -> None:
        """The runtime finished pulling ``name`` (its runtime name) of ``size`` bytes."""
        if name in self.sizes:
            return
        self.sizes[name] = size
        if not self._refresh_pending:
            self._refresh_pending = True
            at = next_tick(self.env.now, self.cache_phase, IMAGE_CACHE_UPDATE_PERIOD)
            call_later(self.env, at - self.env.now, self._refresh)

    def _refresh(self) -> None:
        self._refresh_pending = False
        self._listed = dict(self.sizes)
        if not self._report_pending:
            self._report_pending = True
            at = next_tick(self.env.now, self.status_phase, self.status_period)
            call_later(self.env, at - self.env.now, self._report)

    def _report(self) -> None:
        self._report_pending = False
        images = node_status_images(self._listed, self.max_images)
        if images == self._reported:
            return
        self._reported = images
        self.writes += 1

        def set_images(node: Any) -> None:
            node.images = images

        self.api.update(self.client, self.node, set_images)
