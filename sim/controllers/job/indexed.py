"""Indexed Jobs: models pkg/controller/job/indexed_job_utils.go.

An Indexed Job with ``completions: N`` runs indexes 0..N-1, one success each. A pod carries
its index in the annotation and label ``batch.kubernetes.io/job-completion-index`` and is
named ``<job>-<index>-<suffix>``. Sets of indexes are written in status as upstream writes
them: runs of three or more as ``first-last``, so {0, 1, 2, 4, 6, 7} is "0-2,4,6,7".

With ``backoffLimitPerIndex`` each pod also carries how many earlier pods of its index
failed (``job-index-failure-count``; failures a podFailurePolicy ignored are counted apart):
the index fails once a pod that already had ``backoffLimitPerIndex`` failed predecessors fails.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sim.api.batch import JOB_COMPLETION_INDEX
from sim.api.batch import completion_index as _annotated_index
from sim.api.objects import Job, Pod
from sim.controllers.job.pod_failure_policy import match_pod_failure_policy

__all__ = [
    "COMPLETION_INDEX",
    "INDEX_FAILURE_COUNT",
    "INDEX_IGNORED_FAILURE_COUNT",
    "completion_index",
    "first_pending_indexes",
    "format_indexes",
    "index_failure_counts",
    "is_index_failed",
    "parse_indexes",
    "pod_generate_name",
    "split_duplicated_indexes",
]

COMPLETION_INDEX = JOB_COMPLETION_INDEX
INDEX_FAILURE_COUNT = "batch.kubernetes.io/job-index-failure-count"
INDEX_IGNORED_FAILURE_COUNT = "batch.kubernetes.io/job-index-ignored-failure-count"
MAX_GENERATED_NAME_LENGTH = 58  # apiserver names.MaxGeneratedNameLength (63 - 5 random chars)


def completion_index(pod: Pod) -> int | None:
    """The pod's completion index, or None if the annotation is missing or not a natural number."""
    return _annotated_index(pod.meta.annotations)


def valid_index(pod: Pod, completions: int) -> int | None:
    """The pod's index if it is within 0..completions-1."""
    ix = completion_index(pod)
    return ix if ix is not None and ix < completions else None


def parse_indexes(text: str | None, completions: int) -> set[int]:
    """ "0-2,4" -> {0, 1, 2, 4}, dropping indexes >= completions and malformed intervals."""
    out: set[int] = set()
    for part in (text or "").split(","):
        first, _, last = part.partition("-")
        if not first.isdigit() or (last and not last.isdigit()):
            continue
        lo = int(first)
        hi = min(int(last) if last else lo, completions - 1)
        out.update(range(lo, hi + 1))
    return out


def format_indexes(indexes: Iterable[int]) -> str:
    """{0, 1, 2, 4, 6, 7} -> "0-2,4,6,7" (two neighbours are listed, three or more are a range)."""
    runs: list[list[int]] = []
    for ix in sorted(set(indexes)):
        if runs and ix == runs[-1][1] + 1:
            runs[-1][1] = ix
        else:
            runs.append([ix, ix])
    parts = []
    for lo, hi in runs:
        parts.append(str(lo) if lo == hi else f"{lo},{hi}" if hi == lo + 1 else f"{lo}-{hi}")
    return ",".join(parts)


def first_pending_indexes(count: int, completions: int, not_pending: set[int]) -> list[int]:
    """The ``count`` lowest indexes below ``completions`` that are not in ``not_pending``."""
    out: list[int] = []
    candidate = 0
    while len(out) < count and candidate < completions:
        if candidate not in not_pending:
            out.append(candidate)
        candidate += 1
    return out


def pod_generate_name(job_name: str, index: int | None) -> str:
    """``generateName`` of a Job's pod: ``<job>-`` or ``<job>-<index>-`` (job name cut to fit)."""
    if index is None:
        return f"{job_name}-"
    suffix = f"-{index}-"
    prefix = job_name + suffix
    if len(prefix) > MAX_GENERATED_NAME_LENGTH:
        prefix = prefix[:MAX_GENERATED_NAME_LENGTH - len(suffix)] + suffix
    return prefix


def split_duplicated_indexes(pods: Sequence[Pod], completions: int,
                             order: Sequence[Pod]) -> tuple[list[Pod], list[Pod]]:
    """(to remove, to keep): pods without a valid index and all but one pod per index.

    ``order`` ranks pods for removal (first = removed first); the last of an index is kept.
    """
    rank = {p.meta.uid: i for i, p in enumerate(order)}
    by_index: dict[int, list[Pod]] = {}
    remove: list[Pod] = []
    for pod in pods:
        ix = valid_index(pod, completions)
        if ix is None:
            remove.append(pod)
        else:
            by_index.setdefault(ix, []).append(pod)
    keep = []
    for ix in sorted(by_index):
        same = sorted(by_index[ix], key=lambda p: rank[p.meta.uid])
        remove.extend(same[:-1])
        keep.append(same[-1])
    return remove, keep


def _annotation_count(pod: Pod, key: str) -> int:
    value = pod.meta.annotations.get(key, "0")
    return int(value) if value.isdigit() else 0


def index_failure_count(pod: Pod) -> int:
    """Failed predecessors of this pod within its index (the annotation; 0 if absent)."""
    return _annotation_count(pod, INDEX_FAILURE_COUNT)


def absolute_failure_count(pod: Pod) -> int:
    """Counted plus ignored failed predecessors of this pod within its index."""
    return index_failure_count(pod) + _annotation_count(pod, INDEX_IGNORED_FAILURE_COUNT)


def index_failure_counts(job: Job, replaced: Pod | None) -> tuple[int, int]:
    """(failure count, ignored failure count) for the pod replacing ``replaced`` in its index."""
    if replaced is None:
        return 0, 0
    counted = index_failure_count(replaced)
    ignored = _annotation_count(replaced, INDEX_IGNORED_FAILURE_COUNT)
    if match_pod_failure_policy(job.pod_failure_policy, replaced).count_failed:
        return counted + 1, ignored
    return counted, ignored + 1


def is_index_failed(job: Job, pod: Pod, pod_failed: bool) -> bool:
    """Whether this failed pod fails its index (FailIndex, or its index used up its retries)."""
    if not pod_failed or job.backoff_limit_per_index is None:
        return False
    match = match_pod_failure_policy(job.pod_failure_policy, pod)
    if match.action == "FailIndex":
        return True
    return match.count_failed and index_failure_count(pod) >= job.backoff_limit_per_index
