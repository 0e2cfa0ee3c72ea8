"""batch/v1 Job manifests: models pkg/apis/batch/v1/defaults.go and pkg/apis/batch/validation.

Defaulting as upstream: with neither ``completions`` nor ``parallelism`` set both are 1, a
Job with only ``parallelism`` is a work queue (``completions`` stays unset), ``backoffLimit``
is 6 (or 2^31-1 with ``backoffLimitPerIndex``), and ``podReplacementPolicy`` is ``Failed``
when a ``podFailurePolicy`` is set. Validation rejects what the API server rejects: a
restartPolicy other than OnFailure/Never, an Indexed Job without completions, FailIndex
without ``backoffLimitPerIndex``, ``In`` exit codes that contain 0, and so on.

The pods of a Job are matched by their owner reference, so ``spec.selector`` (generated
upstream from the Job's uid) is accepted only with ``manualSelector: true`` and then unused.

CronJob (``parse_cron_job``): defaults ``concurrencyPolicy: Allow``, ``suspend: false`` and
history limits of 3 successful and 1 failed Job; validation as ValidateCronJobCreate: a
schedule robfig/cron parses (``sim.cron``) without ``TZ=``/``CRON_TZ=`` (``timeZone`` says
where it runs), a time zone the tz database knows, a name of at most 52 characters (a
Job's name adds ``-<minutes since the epoch>``) and a job template without a selector.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sim.api.objects import CronJob, Job, ObjectMeta, PodFailurePolicyRule, PodTemplate
from sim.cron import CronError, load_location, parse_standard

if TYPE_CHECKING:
    from sim.api.manifests import _Reader

__all__ = ["CONCURRENCY_POLICIES", "JOB_COMPLETION_INDEX", "JOB_NAME_LABEL", "MAX_INT32", "completion_index",
           "parse_cron_job", "parse_job", "schedule_problem"]

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


CONCURRENCY_POLICIES = ("Allow", "Forbid", "Replace")
MAX_CRON_JOB_NAME = 52  # DNS1035LabelMaxLength - 11: room for "-<minutes since the epoch>"
_ZONE_PART = re.compile(r"^[A-Za-z.\-_0-9+]{1,14}$")


def schedule_problem(schedule: str, time_zone: str | None) -> str | None:
    """Why the API server refuses ``schedule`` (validateScheduleFormat), or None."""
    if not schedule:
        return "required field is missing"
    try:
        parse_standard(schedule)
    except CronError as exc:
        return f"{schedule!r}: {exc}"
    if "TZ" in schedule:
        return f"{schedule!r}: cannot use TZ or CRON_TZ in schedule, use timeZone field instead"
    return None


def time_zone_problem(zone: str) -> str | None:
    """Why the API server refuses ``spec.timeZone`` (validateTimeZone), or None."""
    if not zone:
        return "timeZone must be nil or non-empty string"
    if any(part in (".", "..") or part.startswith("-") or not _ZONE_PART.match(part) for part in zone.split("/")):
        return f"unknown time zone {zone}"
    if zone.lower() == "local":
        return "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones"
    if load_location(zone) is None:
        return f"unknown time zone {zone}"
    return None


def cron_job_patch_problem(cron_job: CronJob, spec: dict[str, Any]) -> tuple[str, str] | None:
    """(field, message) if the API server would refuse a CronJob patched with ``spec``."""
    if "suspend" in spec and not isinstance(spec["suspend"], bool | None):
        return "suspend", f"expected true or false, got {spec['suspend']!r}"
    if spec.get("concurrencyPolicy") not in (None, *CONCURRENCY_POLICIES):
        return "concurrencyPolicy", (f"expected one of {', '.join(CONCURRENCY_POLICIES)}, "
                                     f"got {spec['concurrencyPolicy']!r}")
    deadline = spec.get("startingDeadlineSeconds")
    if deadline is not None and (isinstance(deadline, bool) or not isinstance(deadline, int) or deadline < 0):
        return "startingDeadlineSeconds", f"expected a non-negative integer, got {deadline!r}"
    zone = spec.get("timeZone", cron_job.time_zone)
    if zone is not None:
        if not isinstance(zone, str):
            return "timeZone", f"expected a string, got {zone!r}"
        problem = time_zone_problem(zone)
        if problem:
            return "timeZone", problem
    if "schedule" in spec:
        if not isinstance(spec["schedule"], str):
            return "schedule", f"expected a string, got {spec['schedule']!r}"
        problem = schedule_problem(spec["schedule"], zone)
        if problem:
            return "schedule", problem
    return None


def parse_cron_job(r: _Reader, meta: ObjectMeta, spec: dict[str, Any],
                   parse_template: Callable[[_Reader, Any, Path], PodTemplate]) -> CronJob:
    """A CronJob from its metadata and raw ``spec``, defaulted and validated; ``parse_template``
    reads the job template's pod template (reader, value, path)."""
    if len(meta.name) > MAX_CRON_JOB_NAME:
        raise r.fail(("metadata", "name"), f"must be no more than {MAX_CRON_JOB_NAME} characters")
    schedule = r.string(spec.get("schedule"), ("spec", "schedule"))
    zone = spec.get("timeZone")
    if zone is not None:
        zone = r.string(zone, ("spec", "timeZone"))
        problem = time_zone_problem(zone)
        if problem:
            raise r.fail(("spec", "timeZone"), problem)
    problem = schedule_problem(schedule, zone)
    if problem:
        raise r.fail(("spec", "schedule"), problem)
    policy = r.string(spec.get("concurrencyPolicy"), ("spec", "concurrencyPolicy")) or "Allow"
    if policy not in CONCURRENCY_POLICIES:
        raise r.fail(("spec", "concurrencyPolicy"),
                     f"expected one of {', '.join(CONCURRENCY_POLICIES)}, got {policy!r}")
    deadline = _optional_int(r, spec.get("startingDeadlineSeconds"), ("spec", "startingDeadlineSeconds"))
    limits = [_optional_int(r, spec.get(f), ("spec", f)) for f in ("successfulJobsHistoryLimit",
                                                                    "failedJobsHistoryLimit")]
    path: Path = ("spec", "jobTemplate")
    raw = r.mapping(spec.get("jobTemplate"), path)
    if not raw:
        raise r.fail(path, "required field is missing")
    template_meta = r.mapping(raw.get("metadata"), (*path, "metadata"))
    job_spec = r.mapping(raw.get("spec"), (*path, "spec"))
    if job_spec.get("selector") is not None:
        raise r.fail((*path, "spec", "selector"), "`selector` will be auto-generated")
    if job_spec.get("manualSelector") is True:
        raise r.fail((*path, "spec", "manualSelector"), "must be unset or false in a CronJob's job template")
    sub = type(r)(r.doc, (*r.base, *path))  # the Job's fields, located under spec.jobTemplate
    job_meta = ObjectMeta(name=meta.name, namespace=meta.namespace,
                          labels=r.labels(template_meta.get("labels"), (*path, "metadata", "labels")),
                          annotations=r.labels(template_meta.get("annotations"), (*path, "metadata", "annotations")))
    job = parse_job(sub, job_meta, job_spec, parse_template(sub, job_spec.get("template"), ("spec", "template")))
    return CronJob(meta=meta, schedule=schedule, job_template=job, time_zone=zone,
                   starting_deadline_seconds=deadline, concurrency_policy=policy,
                   suspend=bool(spec.get("suspend", False)),
                   successful_jobs_history_limit=3 if limits[0] is None else limits[0],
                   failed_jobs_history_limit=1 if limits[1] is None else limits[1])
