"""batch/v1 Job manifests: models pkg/apis/batch/v1/defaults.go and pkg/apis/batch/validation.

Defaulting as upstream: with neither ``completions`` nor ``parallelism`` set both are 1, a
Job with only ``parallelism`` is a work queue (``completions`` stays unset), ``backoffLimit``
is 6 (or 2^31-1 with ``backoffLimitPerIndex``), and ``podReplacementPolicy`` is ``Failed``
when a ``podFailurePolicy`` is set. Validation rejects what the API server rejects: a
restartPolicy other than OnFailure/Never, an Indexed Job without completions, FailIndex
without ``backoffLimitPerIndex``, ``In`` exit codes that contain 0, and so on.

The pods of a Job are matched by their owner reference, so ``spec.selector`` (generated
upstream from the Job's uid) is accepted only with ``manualSelector: true`` and then unused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sim.api.objects import Job, ObjectMeta, PodFailurePolicyRule, PodTemplate

if TYPE_CHECKING:
    from sim.api.manifests import _Reader

__all__ = ["JOB_COMPLETION_INDEX", "JOB_NAME_LABEL", "MAX_INT32", "completion_index", "parse_job"]

JOB_COMPLETION_INDEX = "batch.kubernetes.io/job-completion-index"  # annotation and label on pods
JOB_NAME_LABEL = "batch.kubernetes.io/job-name"
MAX_INT32 = 2**31 - 1
MAX_INDEXED_COMPLETIONS = 100_000  # completionsHardLimit / parallelismLimitForHighCompletions
MAX_POD_FAILURE_POLICY_RULES = 20
ACTIONS = ("FailJob", "FailIndex", "Ignore", "Count")
Path = tuple[str | int, ...]


def completion_index(annotations: dict[str, str]) -> int | None:
    """A pod's completion index from its annotations; None if absent or not a natural number."""
    value = annotations.get(JOB_COMPLETION_INDEX)
    return int(value) if value is not None and value.isdigit() else None


def _optional_int(r: _Reader, value: Any, path: Path, minimum: int = 0) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise r.fail(path, f"expected an integer, got {value!r}")
    if value < minimum:
        raise r.fail(path, f"must be >= {minimum}, got {value}")
    return value


def _rule(r: _Reader, value: Any, path: Path, per_index: bool) -> PodFailurePolicyRule:
    m = r.mapping(value, path)
    action = r.string(m.get("action"), (*path, "action"), required=True)
    if action not in ACTIONS:
        raise r.fail((*path, "action"), f"expected one of {', '.join(ACTIONS)}, got {action!r}")
    if action == "FailIndex" and not per_index:
        raise r.fail((*path, "action"), "FailIndex needs spec.backoffLimitPerIndex")
    on_codes, on_conditions = m.get("onExitCodes"), m.get("onPodConditions")
    if (on_codes is None) == (on_conditions is None):
        raise r.fail(path, "specify exactly one of onExitCodes and onPodConditions")
    if on_conditions is not None:
        patterns = []
        for i, item in enumerate(r.sequence(on_conditions, (*path, "onPodConditions"))):
            p = r.mapping(item, (*path, "onPodConditions", i))
            ctype = r.string(p.get("type"), (*path, "onPodConditions", i, "type"), required=True)
            status = r.string(p.get("status"), (*path, "onPodConditions", i, "status")) or "True"
            patterns.append((ctype, status))
        return PodFailurePolicyRule(action, on_pod_conditions=tuple(patterns))
    cpath = (*path, "onExitCodes")
    c = r.mapping(on_codes, cpath)
    operator = r.string(c.get("operator"), (*cpath, "operator"), required=True)
    if operator not in ("In", "NotIn"):
        raise r.fail((*cpath, "operator"), f"expected In or NotIn, got {operator!r}")
    codes = tuple(_optional_int(r, v, (*cpath, "values", i), -(2**31)) or 0
                  for i, v in enumerate(r.sequence(c.get("values"), (*cpath, "values"))))
    if not codes:
        raise r.fail((*cpath, "values"), "at least one exit code is required")
    if operator == "In" and 0 in codes:
        raise r.fail((*cpath, "values"), "0 is not a failure exit code, so operator In cannot list it")
    container = r.string(c.get("containerName"), (*cpath, "containerName"))
    return PodFailurePolicyRule(action, operator, tuple(sorted(set(codes))), container)


def _pod_failure_policy(r: _Reader, value: Any, per_index: bool,
                        restart_policy: str) -> tuple[PodFailurePolicyRule, ...] | None:
    if value is None:
        return None
    path: Path = ("spec", "podFailurePolicy")
    if restart_policy != "Never":
        raise r.fail(path, f"needs spec.template.spec.restartPolicy Never, got {restart_policy!r}")
    rules = r.sequence(r.mapping(value, path).get("rules"), (*path, "rules"))
    if len(rules) > MAX_POD_FAILURE_POLICY_RULES:
        raise r.fail((*path, "rules"), f"at most {MAX_POD_FAILURE_POLICY_RULES} rules, got {len(rules)}")
    return tuple(_rule(r, rule, (*path, "rules", i), per_index) for i, rule in enumerate(rules))


def parse_job(r: _Reader, meta: ObjectMeta, spec: dict[str, Any], template: PodTemplate) -> Job:
    """A Job from its parsed metadata and template and its raw ``spec``, defaulted and validated."""
    restart = template.spec.restart_policy
    if restart not in ("OnFailure", "Never"):
        raise r.fail(("spec", "template", "spec", "restartPolicy"),
                     f'a Job\'s pods need restartPolicy OnFailure or Never, got "{restart}"'
                     " (Always is the pod default)")
    if spec.get("selector") is not None and spec.get("manualSelector") is not True:
        raise r.fail(("spec", "selector"), "the Job controller generates the selector; "
                     "set manualSelector: true to give one")
    completions = _optional_int(r, spec.get("completions"), ("spec", "completions"))
    parallelism = _optional_int(r, spec.get("parallelism"), ("spec", "parallelism"))
    if completions is None and parallelism is None:
        completions = 1
    parallelism = 1 if parallelism is None else parallelism
    mode = r.string(spec.get("completionMode"), ("spec", "completionMode")) or "NonIndexed"
    if mode not in ("NonIndexed", "Indexed"):
        raise r.fail(("spec", "completionMode"), f"expected NonIndexed or Indexed, got {mode!r}")
    if mode == "Indexed":
        if completions is None:
            raise r.fail(("spec", "completions"), "an Indexed Job needs completions")
        if completions > MAX_INDEXED_COMPLETIONS:
            raise r.fail(("spec", "completions"), f"must be <= {MAX_INDEXED_COMPLETIONS} for an Indexed Job")
    per_index = _optional_int(r, spec.get("backoffLimitPerIndex"), ("spec", "backoffLimitPerIndex"))
    if per_index is not None and mode != "Indexed":
        raise r.fail(("spec", "backoffLimitPerIndex"), "needs completionMode Indexed")
    max_failed = _optional_int(r, spec.get("maxFailedIndexes"), ("spec", "maxFailedIndexes"))
    if max_failed is not None and (per_index is None or max_failed > (completions or 0)):
        raise r.fail(("spec", "maxFailedIndexes"), "needs backoffLimitPerIndex and must be <= completions")
    backoff = _optional_int(r, spec.get("backoffLimit"), ("spec", "backoffLimit"))
    deadline = spec.get("activeDeadlineSeconds")
    ttl = spec.get("ttlSecondsAfterFinished")
    policy = _pod_failure_policy(r, spec.get("podFailurePolicy"), per_index is not None, restart)
    replacement = r.string(spec.get("podReplacementPolicy"), ("spec", "podReplacementPolicy")) or (
        "Failed" if policy is not None else "TerminatingOrFailed")
    if replacement not in ("Failed", "TerminatingOrFailed") or (policy is not None and replacement != "Failed"):
        raise r.fail(("spec", "podReplacementPolicy"),
                     f"expected Failed or TerminatingOrFailed (Failed with a podFailurePolicy), got {replacement!r}")
    return Job(
        meta=meta, template=template, parallelism=parallelism, completions=completions,
        completion_mode=mode,
        backoff_limit=backoff if backoff is not None else (MAX_INT32 if per_index is not None else 6),
        backoff_limit_per_index=per_index, max_failed_indexes=max_failed,
        active_deadline_seconds=None if deadline is None else r.number(
            deadline, ("spec", "activeDeadlineSeconds"), 0, 1),
        ttl_seconds_after_finished=None if ttl is None else r.number(ttl, ("spec", "ttlSecondsAfterFinished"), 0),
        pod_failure_policy=policy, pod_replacement_policy=replacement,
        suspend=bool(spec.get("suspend", False)),
    )
