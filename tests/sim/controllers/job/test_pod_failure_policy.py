"""podFailurePolicy matching (pod_failure_policy.go): the first matching rule decides."""

from __future__ import annotations

import pytest
from job_fakes import make_pod

from sim.api.objects import PodFailurePolicyRule as Rule
from sim.controllers.job.pod_failure_policy import PolicyMatch, match_pod_failure_policy

FAIL_42 = Rule("FailJob", "In", (42,))
IGNORE_DISRUPTION = Rule("Ignore", on_pod_conditions=(("DisruptionTarget", "True"),))
COUNT_NOT_0_1 = Rule("Count", "NotIn", (0, 1))
IGNORE_1_ON_SIDECAR = Rule("Ignore", "In", (1,), container_name="sidecar")


@pytest.mark.parametrize(("rules", "exit_codes", "conditions", "expected"), [
    (None, (("c", 1),), {}, PolicyMatch()),
    ((FAIL_42,), (("c", 42),), {}, PolicyMatch(
        "Container c for pod default/p1 failed with exit code 42 matching FailJob rule at index 0", True, "FailJob")),
    ((FAIL_42,), (("c", 1),), {}, PolicyMatch()),
    ((IGNORE_DISRUPTION, FAIL_42), (("c", 42),), {"DisruptionTarget": "True"}, PolicyMatch(None, False, "Ignore")),
    ((FAIL_42, IGNORE_DISRUPTION), (("c", 42),), {"DisruptionTarget": "True"}, PolicyMatch(
        "Container c for pod default/p1 failed with exit code 42 matching FailJob rule at index 0", True, "FailJob")),
    ((COUNT_NOT_0_1,), (("c", 137),), {}, PolicyMatch(None, True, "Count")),
    ((COUNT_NOT_0_1,), (("c", 1),), {}, PolicyMatch()),
    ((Rule("Ignore", "NotIn", (1,)),), (("c", 0),), {}, PolicyMatch()),
    ((IGNORE_1_ON_SIDECAR,), (("c", 1),), {}, PolicyMatch()),
    ((IGNORE_1_ON_SIDECAR,), (("c", 0), ("sidecar", 1)), {}, PolicyMatch(None, False, "Ignore")),
    ((Rule("FailJob", on_pod_conditions=(("DisruptionTarget", "True"),)),), (), {"DisruptionTarget": "True"},
     PolicyMatch("Pod default/p1 has condition DisruptionTarget matching FailJob rule at index 0", True, "FailJob")),
    ((Rule("FailIndex", "In", (3,)),), (("c", 3),), {}, PolicyMatch(None, True, "FailIndex")),
], ids=["no-policy", "failjob-exit-code", "failjob-other-code", "ignore-first", "rule-order", "count-notin",
        "notin-excluded", "exit-0-never-matches", "other-container", "named-container", "failjob-condition",
        "failindex"])
def test_first_matching_rule_decides(rules: tuple[Rule, ...] | None, exit_codes: tuple[tuple[str, int], ...],
                                     conditions: dict[str, str], expected: PolicyMatch) -> None:
    """FailJob carries upstream's message, Ignore does not count, no match counts as usual."""
    pod = make_pod(1, "Failed", exit_codes=exit_codes, conditions=conditions)
    assert match_pod_failure_policy(rules, pod) == expected
