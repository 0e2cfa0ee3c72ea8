"""``kubectl patch --type merge``: models RFC 7386 JSON merge patch as the API server applies it
(``staging/src/k8s.io/apimachinery/pkg/util/json`` + ``jsonpatch.MergePatch``) for the objects
and fields a timeline may change:

- Deployment: ``spec.replicas``, ``spec.paused`` and ``spec.template`` (a template change, such
  as a ``checksum/config`` annotation, starts a rollout), plus ``metadata`` labels/annotations;
- CronJob: ``spec.suspend`` (``kubectl patch cronjob x -p '{"spec":{"suspend":true}}'``),
  ``spec.schedule``, ``spec.timeZone``, ``spec.concurrencyPolicy`` and
  ``spec.startingDeadlineSeconds``;
- ConfigMap: ``data``, ``binaryData``; Secret: ``data``, ``stringData`` (merged into data);
  both refuse data changes once ``immutable``.

A merge patch replaces values, recurses into mappings, and deletes a key patched to null.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from sim.api.manifests import template_from_raw

__all__ = ["PATCHABLE", "apply_patch", "merge_patch", "patch_problem"]

PATCHABLE = {
    "Deployment": {"spec": ("replicas", "paused", "template")},
    "CronJob": {"spec": ("suspend", "schedule", "timeZone", "concurrencyPolicy", "startingDeadlineSeconds")},
    "ConfigMap": {"data": None, "binaryData": None},
    "Secret": {"data": None, "stringData": None},
}
_METADATA = ("labels", "annotations")


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: the patched copy of ``target`` (neither argument is changed)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def patch_problem(kind: str, patch: dict[str, Any], immutable: bool = False) -> tuple[tuple[str, ...], str] | None:
    """(field path, message) if ``patch`` changes something kubesim cannot change on ``kind``."""
    allowed = PATCHABLE.get(kind)
    if allowed is None:
        return (), f"patch supports {', '.join(sorted(PATCHABLE))}, not {kind}"
    for key, value in patch.items():
        if key == "metadata":
            if not isinstance(value, dict):
                return ("metadata",), "expected a mapping"
            for sub in value:
                if sub not in _METADATA:
                    return ("metadata", sub), ("only metadata.labels and metadata.annotations can be patched, "
                                               f"not {sub!r}")
            continue
        if key not in allowed:
            fields = sorted([*allowed, "metadata"])
            return (key,), f"a {kind} patch may change {', '.join(fields)}, not {key!r}"
        subfields = allowed[key]
        if subfields is not None:
            if not isinstance(value, dict):
                return (key,), "expected a mapping"
            for sub in value:
                if sub not in subfields:
                    return (key, sub), f"a {kind} patch may change {key}.{', '.join(subfields)}, not {key}.{sub}"
        elif immutable:
            return (key,), f"{kind} is immutable: {key} cannot change (field is immutable when `immutable` is set)"
    return None


def apply_patch(patch: dict[str, Any]) -> Callable[[Any], None]:
    """The update (run at commit) that applies ``patch`` to the stored object."""
    def mutate(target: Any) -> None:
        meta = patch.get("metadata") or {}
        for field in _METADATA:
            if field in meta:
                setattr(target.meta, field, {k: str(v) for k, v in merge_patch(getattr(target.meta, field),
                                                                                meta[field]).items()})
        if target.kind == "Deployment":
            _patch_deployment(target, patch.get("spec") or {})
        elif target.kind == "CronJob":
            _patch_cron_job(target, patch.get("spec") or {})
        elif target.kind == "ConfigMap":
            data = merge_patch(target.data, patch.get("data") or {})
            target.data = merge_patch(data, patch.get("binaryData") or {})
        elif target.kind == "Secret":
            data = merge_patch(target.data, patch.get("data") or {})
            target.data = merge_patch(data, patch.get("stringData") or {})
    return mutate


_CRON_JOB_FIELDS = {"suspend": "suspend", "schedule": "schedule", "timeZone": "time_zone",
                    "concurrencyPolicy": "concurrency_policy", "startingDeadlineSeconds": "starting_deadline_seconds"}


def _patch_cron_job(cron_job: Any, spec: dict[str, Any]) -> None:
    changed = False
    for key, attr in _CRON_JOB_FIELDS.items():
        if key in spec:
            value = spec[key]
            if value is None:  # a merge patch's null: back to the default
                value = {"suspend": False, "concurrency_policy": "Allow", "schedule": cron_job.schedule}.get(attr)
            changed |= getattr(cron_job, attr) != value
            setattr(cron_job, attr, value)
    if changed:
        cron_job.meta.generation += 1


def _patch_deployment(d: Any, spec: dict[str, Any]) -> None:
    changed = False
    if "replicas" in spec:
        changed |= d.replicas != int(spec["replicas"])
        d.replicas = int(spec["replicas"])
    if "paused" in spec:
        changed |= d.paused != bool(spec["paused"])
        d.paused = bool(spec["paused"])
    if spec.get("template") is not None:
        raw = merge_patch(d.raw_template, spec["template"])
        template = template_from_raw(raw, d.template.spec.behavior, "<patch>")
        changed |= template.hash != d.template.hash
        d.raw_template, d.template = raw, template
    if changed:
        d.meta.generation += 1
