"""Admission for pods: models plugin/pkg/admission/priority and defaulttolerationseconds.

Priority: a pod's ``priorityClassName`` is resolved to ``spec.priority`` (and its
preemptionPolicy) at creation; without a class the global-default class applies, else 0;
an unknown class is rejected. DefaultTolerationSeconds: every pod tolerates the
``not-ready`` and ``unreachable`` NoExecute taints for 300 s unless it says otherwise, which
is why pods on a dead node are evicted about five minutes after it goes.
"""

from __future__ import annotations

import dataclasses

from sim.api.objects import Pod, PodSpec, PriorityClass, Toleration
from sim.api.store import Store

__all__ = ["DEFAULT_TOLERATION_SECONDS", "AdmissionError", "admit_pod"]

DEFAULT_TOLERATION_SECONDS = 300.0
NOT_READY_TAINT = "node.kubernetes.io/not-ready"
UNREACHABLE_TAINT = "node.kubernetes.io/unreachable"


class AdmissionError(Exception):
    """The API server rejects the object (the message is upstream's)."""


def _resolve_priority(spec: PodSpec, store: Store) -> tuple[int, str]:
    if spec.priority_class_name:
        pc = store.get("PriorityClass", "", spec.priority_class_name)
        if pc is None:
            raise AdmissionError(f"no PriorityClass with name {spec.priority_class_name} was found")
        return pc.value, pc.preemption_policy
    defaults: list[PriorityClass] = [pc for pc in store.list("PriorityClass") if pc.global_default]
    if defaults:
        best = max(defaults, key=lambda pc: pc.value)
        return best.value, best.preemption_policy
    return spec.priority, spec.preemption_policy


def _default_tolerations(tolerations: tuple[Toleration, ...]) -> tuple[Toleration, ...]:
    def tolerated(key: str) -> bool:
        return any(t.key in (key, "") and t.effect in ("NoExecute", "") and (t.operator == "Exists" or t.key == key)
                   for t in tolerations)

    added = tuple(Toleration(key=key, operator="Exists", effect="NoExecute",
                             toleration_seconds=DEFAULT_TOLERATION_SECONDS)
                  for key in (NOT_READY_TAINT, UNREACHABLE_TAINT) if not tolerated(key))
    return tolerations + added


class PodAdmission:
    """Mutating admission for pods, caching the admitted spec per (template spec, priority)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        # (id(spec), priority, policy) -> (spec, admitted spec). The spec is kept with its answer:
        # a spec freed (its pod and template gone) must not lend its id to another one's answer.
        self._cache: dict[tuple[int, int, str], tuple[PodSpec, PodSpec]] = {}

    def admit(self, pod: Pod) -> None:
        """Mutate ``pod`` as the admission chain would; raise AdmissionError to reject it."""
        spec = pod.spec
        priority, policy = _resolve_priority(spec, self.store)
        key = (id(spec), priority, policy)
        cached = self._cache.get(key)
        if cached is not None and cached[0] is spec:
            admitted = cached[1]
        else:
            admitted = dataclasses.replace(spec, priority=priority, preemption_policy=policy,
                                           tolerations=_default_tolerations(spec.tolerations))
            self._cache[key] = (spec, admitted)
            self._cache[(id(admitted), priority, policy)] = (admitted, admitted)
        pod.spec = admitted


def admit_pod(pod: Pod, store: Store) -> None:
    """One-off admission of a pod (tests, tools)."""
    PodAdmission(store).admit(pod)
