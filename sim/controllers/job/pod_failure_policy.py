"""Matching a failed pod against a Job's podFailurePolicy: models pkg/controller/job/pod_failure_policy.go.

Rules are tried in order and the first match decides: ``FailJob`` fails the whole Job at
once, ``FailIndex`` fails the pod's index (with ``backoffLimitPerIndex``), ``Ignore`` does
not count the failure toward ``backoffLimit`` (the usual rule for ``DisruptionTarget``:
a preempted or evicted pod is not the program's fault), ``Count`` counts it as usual. A
pod that matches no rule is counted. Exit code 0 never matches ``onExitCodes``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sim.api.objects import Pod, PodFailurePolicyRule

__all__ = ["PolicyMatch", "match_pod_failure_policy"]


@dataclass(frozen=True, slots=True)
class PolicyMatch:
    """The outcome for one failed pod: FailJob's message, whether it counts, the action."""

    fail_job_message: str | None = None
    count_failed: bool = True
    action: str | None = None


NO_MATCH = PolicyMatch()


def _exit_code_match(pod: Pod, rule: PodFailurePolicyRule) -> tuple[str, int] | None:
    for container, code in pod.exit_codes:
        if code == 0 or (rule.container_name and rule.container_name != container):
            continue
        if (code in rule.exit_codes) == (rule.exit_codes_operator == "In"):
            return container, code
    return None


def _condition_match(pod: Pod, rule: PodFailurePolicyRule) -> str | None:
    for ctype, status in pod.conditions.items():
        if (ctype, status) in rule.on_pod_conditions:
            return ctype
    return None


def match_pod_failure_policy(rules: Sequence[PodFailurePolicyRule] | None, pod: Pod) -> PolicyMatch:
    """The first rule matching a failed pod decides its fate (``matchPodFailurePolicy``)."""
    for index, rule in enumerate(rules or ()):
        if rule.exit_codes_operator:
            hit = _exit_code_match(pod, rule)
            if hit is None:
                continue
            message = (f"Container {hit[0]} for pod {pod.meta.namespace}/{pod.meta.name} failed with exit "
                       f"code {hit[1]} matching {rule.action} rule at index {index}")
        else:
            ctype = _condition_match(pod, rule)
            if ctype is None:
                continue
            message = (f"Pod {pod.meta.namespace}/{pod.meta.name} has condition {ctype} matching "
                       f"{rule.action} rule at index {index}")
        if rule.action == "Ignore":
            return PolicyMatch(None, False, "Ignore")
        if rule.action == "FailJob":
            return PolicyMatch(message, True, "FailJob")
        return PolicyMatch(None, True, rule.action)  # Count, FailIndex
    return NO_MATCH
