"""Parses apps/v1 DaemonSet: models SetDefaults_DaemonSet (pkg/apis/apps/v1/defaults.go) and
ValidateDaemonSetSpec (pkg/apis/apps/validation/validation.go), Kubernetes 1.36.5.

Defaults: updateStrategy RollingUpdate with maxUnavailable 1 and maxSurge 0,
revisionHistoryLimit 10. Validation (ValidateRollingUpdateDaemonSet): the selector must
match the template's labels, the template's restartPolicy must be Always, maxUnavailable
and maxSurge are non-negative integers or percentages up to 100%, and exactly one of them
is non-zero - so surging needs an explicit ``maxUnavailable: 0``.
"""

from __future__ import annotations

from typing import Any

from sim.api.objects import DaemonSet, ObjectMeta, PodTemplate
from sim.api.selectors import Selector
from sim.api.statefulset import update_strategy

__all__ = ["parse_daemon_set"]

Path = tuple[str | int, ...]


def _int_or_percent(r: Any, value: Any, path: Path, default: int) -> int | str:
    if value is None:
        return default
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.endswith("%") and value[:-1].isdigit() and int(value[:-1]) <= 100:
        return value
    raise r.fail(path, f"expected a non-negative integer or a percentage like '10%', got {value!r}")


def _is_zero(value: int | str) -> bool:
    return value == 0 or value == "0%"


def parse_daemon_set(r: Any, meta: ObjectMeta, spec: dict[str, Any], selector: Selector,
                     template: PodTemplate, min_ready: float) -> DaemonSet:
    """The DaemonSet-specific fields of a manifest (selector, template and minReadySeconds are read)."""
    if template.spec.restart_policy != "Always":
        raise r.fail(("spec", "template", "spec", "restartPolicy"),
                     f'a DaemonSet\'s pods need restartPolicy Always, got "{template.spec.restart_policy}"')
    strategy, ru, ru_path = update_strategy(r, spec)
    unavailable = _int_or_percent(r, ru.get("maxUnavailable"), (*ru_path, "maxUnavailable"), 1)
    surge = _int_or_percent(r, ru.get("maxSurge"), (*ru_path, "maxSurge"), 0)
    if strategy == "RollingUpdate":
        if not _is_zero(unavailable) and not _is_zero(surge):
            raise r.fail((*ru_path, "maxSurge"), "may not be set when maxUnavailable is non-zero "
                         "(set maxUnavailable: 0 to surge)")
        if _is_zero(unavailable) and _is_zero(surge):
            raise r.fail((*ru_path, "maxUnavailable"), "cannot be 0 when maxSurge is 0")
    return DaemonSet(
        meta=meta, selector=selector, template=template, update_strategy=strategy,
        max_unavailable=unavailable, max_surge=surge, min_ready_seconds=min_ready,
        revision_history_limit=int(r.number(spec.get("revisionHistoryLimit"), ("spec", "revisionHistoryLimit"), 10)),
        raw_template=spec.get("template") or {},
    )
