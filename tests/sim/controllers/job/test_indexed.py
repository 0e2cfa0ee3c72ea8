"""Indexed Jobs (indexed_job_utils.go): index sets, pending indexes, names, failure counts."""

from __future__ import annotations

import pytest
from job_fakes import make_job, make_pod

from sim.api.objects import PodFailurePolicyRule
from sim.controllers.job.indexed import (
    first_pending_indexes,
    format_indexes,
    index_failure_counts,
    is_index_failed,
    parse_indexes,
    pod_generate_name,
    split_duplicated_indexes,
)


@pytest.mark.parametrize(("indexes", "text"), [
    ([], ""), ([3], "3"), ([0, 1], "0,1"), ([0, 1, 2], "0-2"), ([6, 0, 1, 2, 4, 7], "0-2,4,6,7"),
], ids=["empty", "one", "two-neighbours", "run-of-three", "mixed"])
def test_index_sets_are_written_as_upstream_writes_them(indexes: list[int], text: str) -> None:
    """Runs of three or more become first-last; two neighbours are listed."""
    assert format_indexes(indexes) == text
    assert parse_indexes(text, 100) == set(indexes)


def test_parse_drops_indexes_beyond_completions_and_garbage() -> None:
    """Indexes >= completions are cut; a malformed interval is skipped."""
    assert parse_indexes("0-2,x,5-9", 7) == {0, 1, 2, 5, 6}


@pytest.mark.parametrize(("count", "completions", "busy", "expected"), [
    (2, 5, set(), [0, 1]),
    (3, 5, {0, 2}, [1, 3, 4]),
    (5, 4, {1}, [0, 2, 3]),
    (0, 4, set(), []),
], ids=["from-zero", "skip-busy", "bounded-by-completions", "none-wanted"])
def test_first_pending_indexes_are_the_lowest_free_ones(count: int, completions: int, busy: set[int],
                                                        expected: list[int]) -> None:
    """Indexes that succeeded, failed or have an active pod are not pending."""
    assert first_pending_indexes(count, completions, busy) == expected


@pytest.mark.parametrize(("job", "index", "expected"), [
    ("train", None, "train-"), ("train", 3, "train-3-"), ("x" * 60, 12, "x" * 54 + "-12-"),
], ids=["nonindexed", "indexed", "long-name-cut"])
def test_pod_names_carry_the_index(job: str, index: int | None, expected: str) -> None:
    """generateName is <job>-<index>-, cut to 58 characters keeping the index."""
    assert pod_generate_name(job, index) == expected


def test_duplicated_and_invalid_indexes_are_removed_first() -> None:
    """Per index one pod stays (the last in removal order); no or out-of-range index goes."""
    a, b, c = make_pod(1, index=0), make_pod(2, index=0), make_pod(3, index=1)
    no_index, too_big = make_pod(4), make_pod(5, index=9)
    remove, keep = split_duplicated_indexes([a, b, c, no_index, too_big], 3, order=[b, a, c, no_index, too_big])
    assert [p.meta.uid for p in remove] == [4, 5, 2]
    assert [p.meta.uid for p in keep] == [1, 3]


def test_replacement_counts_the_failures_of_its_index() -> None:
    """A pod replacing a failed one carries its failure count + 1 (ignored failures apart)."""
    job = make_job(completion_mode="Indexed", completions=3, backoff_limit_per_index=2,
                   pod_failure_policy=(PodFailurePolicyRule("Ignore", "In", (9,)),))
    assert index_failure_counts(job, None) == (0, 0)
    failed = make_pod(1, "Failed", index=0, exit_codes=(("c", 1),),
                      annotations={"batch.kubernetes.io/job-index-failure-count": "1"})
    assert index_failure_counts(job, failed) == (2, 0)
    ignored = make_pod(2, "Failed", index=0, exit_codes=(("c", 9),),
                       annotations={"batch.kubernetes.io/job-index-failure-count": "1"})
    assert index_failure_counts(job, ignored) == (1, 1)


@pytest.mark.parametrize(("previous_failures", "exit_code", "failed"), [
    (0, 1, False), (1, 1, True), (0, 3, True), (5, 9, False),
], ids=["retries-left", "retries-used-up", "failindex-rule", "ignored"])
def test_an_index_fails_once_its_retries_are_used_up(previous_failures: int, exit_code: int, failed: bool) -> None:
    """backoffLimitPerIndex 1: the second counted failure of an index fails it; FailIndex at once."""
    rules = (PodFailurePolicyRule("FailIndex", "In", (3,)), PodFailurePolicyRule("Ignore", "In", (9,)))
    job = make_job(completion_mode="Indexed", completions=2, backoff_limit_per_index=1, pod_failure_policy=rules)
    pod = make_pod(1, "Failed", index=0, exit_codes=(("c", exit_code),),
                   annotations={"batch.kubernetes.io/job-index-failure-count": str(previous_failures)})
    assert is_index_failed(job, pod, pod_failed=True) is failed
