"""batch/v1 Job manifests (sim/api/batch.py): upstream's defaults and located validation errors."""

from __future__ import annotations

import pytest

from sim.api.manifests import parse_manifest
from sim.api.objects import Job, PodFailurePolicyRule, WorkloadBehavior
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
    assert f"m.yaml:{line}:" in text and field in text and message in text, text
