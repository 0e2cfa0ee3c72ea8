"""Eviction API: which pods skip the budget, and each answer of the budget check."""

from __future__ import annotations

import dataclasses

import pytest

from sim.api.objects import ObjectMeta, Pod, PodDisruptionBudget, PodSpec
from sim.api.selectors import Selector
from sim.eviction import PDB_VIOLATION, can_ignore_pdb, check_budget


def _pod(phase: str = "Running", ready: bool = True, terminating: bool = False) -> Pod:
    meta = ObjectMeta(name="db-1", labels={"app": "db"}, deletion_time=1.0 if terminating else None)
    return Pod(meta=meta, spec=PodSpec(containers=()), phase=phase, ready=ready)


def _pdb(**status: object) -> PodDisruptionBudget:
    base = PodDisruptionBudget(ObjectMeta(name="db"), Selector.from_labels({"app": "db"}), min_available=2,
                               current_healthy=3, desired_healthy=2, expected_pods=3, disruptions_allowed=1,
                               observed_generation=1)
    return dataclasses.replace(base, **status)  # type: ignore[arg-type]


@pytest.mark.parametrize(("pod", "ignored"), [
    (_pod(), False), (_pod(phase="Pending"), True), (_pod(phase="Succeeded"), True),
    (_pod(phase="Failed"), True), (_pod(terminating=True), True),
], ids=["running", "pending", "succeeded", "failed", "terminating"])
def test_can_ignore_pdb(pod: Pod, ignored: bool) -> None:
    """Only a running pod that is not already terminating needs the budget's permission."""
    assert can_ignore_pdb(pod) is ignored


# pod, PDBs -> (HTTP code or None for allowed, spends a disruption, words in the message)
CASES = {
    "allowed-spends": (_pod(), [_pdb()], None, True, ""),
    "no-pdb": (_pod(), [], None, False, ""),
    "two-pdbs": (_pod(), [_pdb(), _pdb()], 500, False, "more than one PodDisruptionBudget"),
    "budget-zero": (_pod(), [_pdb(disruptions_allowed=0, current_healthy=2)], 429,
                    False, "The disruption budget db needs 2 healthy pods and has 2 currently"),
    "not-observed-yet": (_pod(), [_pdb(observed_generation=0)], 429, False, "still being processed"),
    "negative": (_pod(), [_pdb(disruptions_allowed=-1)], 403, False, "negative"),
    "too-many-pending": (_pod(), [_pdb(disrupted_pods={f"p{i}": 0.0 for i in range(2001)})], 403, False,
                         "too big"),
    "unready-budget-met": (_pod(ready=False), [_pdb(disruptions_allowed=0)], None, False, ""),
    "unready-budget-short": (_pod(ready=False), [_pdb(disruptions_allowed=0, current_healthy=1)], 429,
                             False, "needs 2 healthy pods and has 1"),
    "unready-always-allow": (_pod(ready=False),
                             [_pdb(disruptions_allowed=0, current_healthy=0,
                                   unhealthy_pod_eviction_policy="AlwaysAllow")], None, False, ""),
    "ready-always-allow-still-checked": (_pod(), [_pdb(disruptions_allowed=0,
                                                       unhealthy_pod_eviction_policy="AlwaysAllow")],
                                         429, False, PDB_VIOLATION),
}


@pytest.mark.parametrize(("pod", "pdbs", "code", "spends", "words"), CASES.values(), ids=CASES.keys())
def test_check_budget(pod: Pod, pdbs: list[PodDisruptionBudget], code: int | None, spends: bool, words: str) -> None:
    """eviction.go's decision: refuse with 429/403/500, or allow (spending a disruption or not)."""
    refusal, spend = check_budget(pod, pdbs)
    assert (refusal.code if refusal else None) == code
    assert spend is spends
    if refusal is not None:
        assert words in refusal.message
