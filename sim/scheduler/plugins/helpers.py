"""Shared plugin helpers: models pkg/scheduler/framework/plugins/helper (normalize_score.go)
and pkg/scheduler/util (IsScalarResourceName)."""

from __future__ import annotations

import numpy as np

from sim.scheduler.framework import MAX_NODE_SCORE

__all__ = ["default_normalize_score", "is_scalar_resource"]

_NATIVE = ("cpu", "memory", "ephemeral-storage", "pods")


def is_scalar_resource(name: str) -> bool:
    """Extended resources (and hugepages): scored only when the pod requests them."""
    return name not in _NATIVE


def default_normalize_score(scores: np.ndarray, reverse: bool) -> np.ndarray:
    """Scale raw scores so the highest is MAX_NODE_SCORE (integer division); optionally reverse."""
    top = int(scores.max()) if len(scores) else 0
    if top == 0:
        return np.full(len(scores), MAX_NODE_SCORE if reverse else 0, dtype=np.int64)
    scaled = MAX_NODE_SCORE * scores.astype(np.int64) // top
    return MAX_NODE_SCORE - scaled if reverse else scaled
