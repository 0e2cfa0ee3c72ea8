"""batch/v1 Job manifests (sim/api/batch.py): upstream's defaults and located validation errors."""

from __future__ import annotations

import pytest

from sim.api.manifests import parse_manifest
from sim.api.objects import CronJob, Job, PodFailurePolicyRule, WorkloadBehavior
from sim.yamlio import SourceError, load_text

TEMPLATE = """
    template:
      spec:
        restartPolicy: Never
        containers: [{name: c, image: "img:1"}]"""


def parse(spec: str, template: str = TEMPLATE) -> Job:
    text = f"apiVersion: batch/v1\nkind: Job\nmetadata: {{name: j}}\nspec:\n{spec}{template}\n"
    return parse_manifest(load_text(text, "m.yaml")[0], "default", WorkloadBehavior())


@pytest.mark.parametrize(("spec", "expected"), [
    ("    {}", (1, 1, "NonIndexed", 6, "TerminatingOrFailed")),
    ("    parallelism: 4", (4, None, "NonIndexed", 6, "TerminatingOrFailed")),
    ("    completions: 5", (1, 5, "NonIndexed", 6, "TerminatingOrFailed")),
    ("    completions: 3\n    completionMode: Indexed\n    backoffLimitPerIndex: 1",
     (1, 3, "Indexed", 2**31 - 1, "TerminatingOrFailed")),
    ("    podFailurePolicy: {rules: [{action: Ignore, onPodConditions: [{type: DisruptionTarget}]}]}",
     (1, 1, "NonIndexed", 6, "Failed")),
], ids=["all-unset", "work-queue", "completions-only", "per-index", "with-pod-failure-policy"])
def test_job_defaults(spec: str, expected: tuple) -> None:
    """Both unset: 1/1; parallelism only: a work queue; backoffLimit 6 (max int32 per index)."""
    job = parse(spec.replace("    {}", ""))
    assert (job.parallelism, job.completions, job.completion_mode, job.backoff_limit,
            job.pod_replacement_policy) == expected


def test_pod_failure_policy_rules() -> None:
    """Rules keep their order; onPodConditions status defaults to True; exit codes sorted."""
    job = parse("""    podFailurePolicy:
      rules:
      - {action: FailJob, onExitCodes: {containerName: c, operator: In, values: [42, 3]}}
      - {action: Ignore, onPodConditions: [{type: DisruptionTarget}]}""")
    assert job.pod_failure_policy == (
        PodFailurePolicyRule("FailJob", "In", (3, 42), "c"),
        PodFailurePolicyRule("Ignore", on_pod_conditions=(("DisruptionTarget", "True"),)))


@pytest.mark.parametrize(("spec", "template", "line", "field", "message"), [
    ("    completions: 2", TEMPLATE.replace("restartPolicy: Never", "restartPolicy: Always"), 8,
     "spec.template.spec.restartPolicy", 'restartPolicy OnFailure or Never, got "Always"'),
    ("    parallelism: 2\n    completionMode: Indexed", TEMPLATE, 4, "spec.completions",
     "an Indexed Job needs completions"),
    ("    backoffLimitPerIndex: 1", TEMPLATE, 5, "spec.backoffLimitPerIndex", "needs completionMode Indexed"),
    ("    podFailurePolicy: {rules: [{action: FailIndex, onExitCodes: {operator: In, values: [1]}}]}", TEMPLATE,
     5, "spec.podFailurePolicy.rules[0].action", "FailIndex needs spec.backoffLimitPerIndex"),
    ("    podFailurePolicy: {rules: [{action: Ignore, onExitCodes: {operator: In, values: [0, 1]}}]}", TEMPLATE,
     5, "spec.podFailurePolicy.rules[0].onExitCodes.values", "0 is not a failure exit code"),
    ("    podFailurePolicy: {rules: [{action: Ignore}]}", TEMPLATE, 5, "spec.podFailurePolicy.rules[0]",
     "exactly one of onExitCodes and onPodConditions"),
    ("    podFailurePolicy: {rules: []}", TEMPLATE.replace("Never", "OnFailure"), 5, "spec.podFailurePolicy",
     "restartPolicy Never"),
    ("    selector: {matchLabels: {a: b}}", TEMPLATE, 5, "spec.selector", "manualSelector: true"),
    ("    completions: -1", TEMPLATE, 5, "spec.completions", "must be >= 0"),
], ids=["restart-always", "indexed-without-completions", "per-index-not-indexed", "failindex-without-per-index",
        "in-zero", "rule-without-requirement", "policy-needs-never", "selector", "negative-completions"])
def test_invalid_jobs_are_rejected_where_they_are_wrong(spec: str, template: str, line: int, field: str,
                                                        message: str) -> None:
    """What the API server rejects is an error naming the line and field."""
    with pytest.raises(SourceError) as err:
        parse(spec, template)
    text = str(err.value)
    assert f"m.yaml:{line}:" in text, text
    assert field in text, text
    assert message in text, text


CRON_TEMPLATE = """
  jobTemplate:
    metadata: {labels: {team: ml}}
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{name: c, image: "img:1"}]"""


def parse_cron(spec: str, template: str = CRON_TEMPLATE, name: str = "nightly") -> CronJob:
    text = f"apiVersion: batch/v1\nkind: CronJob\nmetadata: {{name: {name}}}\nspec:\n{spec}{template}\n"
    return parse_manifest(load_text(text, "m.yaml")[0], "default", WorkloadBehavior())


def test_cron_job_defaults() -> None:
    """SetDefaults_CronJob: Allow, not suspended, keep 3 successful and 1 failed Job; the job
    template is a Job with its own defaults (backoffLimit 6) and the template's labels."""
    cron_job = parse_cron('  schedule: "0 2 * * *"')
    assert (cron_job.concurrency_policy, cron_job.suspend, cron_job.successful_jobs_history_limit,
            cron_job.failed_jobs_history_limit, cron_job.time_zone, cron_job.starting_deadline_seconds) == (
        "Allow", False, 3, 1, None, None)
    assert cron_job.job_template.backoff_limit == 6
    assert cron_job.job_template.meta.labels == {"team": "ml"}


@pytest.mark.parametrize(("spec", "template", "name", "line", "field", "message"), [
    ("  concurrencyPolicy: Allow", CRON_TEMPLATE, "nightly", 4, "spec.schedule", "required field is missing"),
    ('  schedule: "0 25 * * *"', CRON_TEMPLATE, "nightly", 5, "spec.schedule",
     "'0 25 * * *': end of range (25) above maximum (23): 25"),
    ('  schedule: "TZ=UTC 0 2 * * *"', CRON_TEMPLATE, "nightly", 5, "spec.schedule",
     "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"),
    ('  schedule: "@daily"\n  timeZone: Mars/Olympus', CRON_TEMPLATE, "nightly", 6, "spec.timeZone",
     "unknown time zone Mars/Olympus"),
    ('  schedule: "@daily"\n  timeZone: Local', CRON_TEMPLATE, "nightly", 6, "spec.timeZone",
     "must be an explicit time zone"),
    ('  schedule: "@daily"\n  concurrencyPolicy: Sometimes', CRON_TEMPLATE, "nightly", 6, "spec.concurrencyPolicy",
     "expected one of Allow, Forbid, Replace"),
    ('  schedule: "@daily"', CRON_TEMPLATE, "x" * 53, 3, "metadata.name", "must be no more than 52 characters"),
    ('  schedule: "@daily"', CRON_TEMPLATE.replace("restartPolicy: OnFailure", "restartPolicy: Always"), "nightly",
     11, "spec.jobTemplate.spec.template.spec.restartPolicy", "restartPolicy OnFailure or Never"),
    ('  schedule: "@daily"', CRON_TEMPLATE.replace("    spec:\n      template:",
                                                   "    spec:\n      selector: {matchLabels: {a: b}}\n      template:"),
     "nightly", 9, "spec.jobTemplate.spec.selector", "`selector` will be auto-generated"),
    ('  schedule: "@daily"\n  startingDeadlineSeconds: -5', CRON_TEMPLATE, "nightly", 6,
     "spec.startingDeadlineSeconds", "must be >= 0"),
], ids=["no-schedule", "bad-hour", "tz-in-schedule", "unknown-zone", "local-zone", "bad-policy", "long-name",
        "restart-always", "selector", "negative-deadline"])
def test_invalid_cron_jobs_are_rejected_where_they_are_wrong(spec: str, template: str, name: str, line: int,
                                                             field: str, message: str) -> None:
    """ValidateCronJobCreate's refusals, located (job template errors under spec.jobTemplate)."""
    with pytest.raises(SourceError) as err:
        parse_cron(spec, template, name)
    text = str(err.value)
    assert f"m.yaml:{line}:" in text, text
    assert field in text, text
    assert message in text, text
