"""Small builders of Jobs and their pods for the Job controller's table tests."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sim.api.objects import Container, Job, ObjectMeta, OwnerReference, Pod, PodSpec, PodTemplate

__all__ = ["make_job", "make_pod"]

_SPEC = PodSpec(containers=(Container("c", "img:1"),), restart_policy="Never")


def make_job(name: str = "j", uid: int = 1, restart_policy: str = "Never", **fields: Any) -> Job:
    """A Job with a one-container template; ``fields`` set spec and status fields."""
    template = PodTemplate((), (), replace(_SPEC, restart_policy=restart_policy), "h")
    return Job(meta=ObjectMeta(name=name, uid=uid), template=template, **fields)


def make_pod(uid: int, phase: str = "Running", index: int | None = None, node: str = "n1", ready: bool = False,
             created: float = 0.0, finished: float | None = None, deleted: float | None = None,
             exit_codes: tuple[tuple[str, int], ...] = (), conditions: dict[str, str] | None = None,
             restarts: int = 0, annotations: dict[str, str] | None = None) -> Pod:
    """A pod of Job ``j`` (uid 1)."""
    notes = dict(annotations or {})
    if index is not None:
        notes["batch.kubernetes.io/job-completion-index"] = str(index)
    meta = ObjectMeta(name=f"p{uid}", uid=uid, annotations=notes, creation_time=created, deletion_time=deleted,
                      owner=OwnerReference("Job", "j", 1))
    return Pod(meta=meta, spec=_SPEC, node_name=node, phase=phase, ready=ready, finish_time=finished,
               exit_codes=exit_codes, conditions=dict(conditions or {}), restart_count=restarts)
