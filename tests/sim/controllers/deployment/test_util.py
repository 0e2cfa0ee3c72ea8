"""Rollout arithmetic of deployment_util.go: fenceposts, revisions, proportions."""

from __future__ import annotations

import pytest

from sim.controllers.deployment.util import (
    RSState,
    find_active_or_latest,
    get_proportion,
    is_saturated,
    last_revision,
    max_revision,
    new_rs_new_replicas,
    resolve_fenceposts,
    round_half_away,
)


@pytest.mark.parametrize(("surge", "unavailable", "desired", "expected"), [
    ("25%", "25%", 10, (3, 2)),   # surge rounds up (2.5 -> 3), unavailable down (2.5 -> 2)
    ("25%", "25%", 4, (1, 1)),
    ("25%", "25%", 1, (1, 0)),    # 0.25 -> surge 1, unavailable 0
    (0, 0, 5, (0, 1)),            # both zero would stall: unavailable becomes 1
    ("0%", "0%", 5, (0, 1)),
    (2, "50%", 5, (2, 2)),
], ids=["10-default", "4-default", "1-default", "zero-int", "zero-pct", "mixed"])
def test_resolve_fenceposts(surge: int | str, unavailable: int | str, desired: int,
                            expected: tuple[int, int]) -> None:
    """maxSurge rounds up, maxUnavailable rounds down, and both 0 becomes unavailable 1."""
    assert resolve_fenceposts(surge, unavailable, desired) == expected


@pytest.mark.parametrize(("all_replicas", "new_replicas", "expected"), [
    (10, 0, 3),    # 10 old pods: the new RS may take the 3 surge pods
    (13, 3, 3),    # at 13 nothing more may be added
    (11, 3, 5),    # old scaled to 8: 2 more fit under 13
    (10, 8, 10),   # never beyond the desired 10
], ids=["first-step", "at-max", "after-old-scaled-down", "capped-at-desired"])
def test_new_rs_new_replicas(all_replicas: int, new_replicas: int, expected: int) -> None:
    """10 desired, surge 3: the new RS grows until all RSs together hold 13."""
    assert new_rs_new_replicas(10, "25%", "25%", all_replicas, new_replicas) == expected


def _rs(name: str, replicas: int, created: float = 0.0, revision: int | None = 0, **kw: int) -> RSState:
    return RSState(name, replicas, created=created, revision=revision, **kw)


@pytest.mark.parametrize(("revisions", "top", "previous"), [
    ([1, 2, 3], 3, 2),
    ([3, 1, 2], 3, 2),
    ([5], 5, 0),         # no previous revision to go back to
    ([2, None, 1], 2, 1),  # an unparseable revision is skipped
    ([4, 4, 1], 4, 4),   # equal tops: upstream's >= makes the second one "previous"
], ids=["ordered", "unordered", "single", "unparseable", "tie"])
def test_max_and_last_revision(revisions: list[int | None], top: int, previous: int) -> None:
    """MaxRevision and LastRevision (the second highest) over a Deployment's ReplicaSets."""
    rss = [_rs(f"rs{i}", 0, revision=r) for i, r in enumerate(revisions)]
    assert (max_revision(rss), last_revision(rss)) == (top, previous)


def test_find_active_or_latest() -> None:
    """One active RS is returned; none active gives the new one (else the newest old); two give None."""
    new, old, older = _rs("new", 0, 3.0), _rs("old", 4, 2.0), _rs("older", 0, 1.0)
    assert find_active_or_latest(new, [older, old]) == old
    assert find_active_or_latest(new, [older, _rs("old", 0, 2.0)]) == new
    assert find_active_or_latest(None, [older, _rs("old", 0, 2.0)]).name == "old"
    assert find_active_or_latest(_rs("new", 1, 3.0), [old]) is None


@pytest.mark.parametrize(("rs", "desired", "surge", "to_add", "added", "expected"), [
    # Deployment scaled 10 -> 15 (surge 4: 19 allowed) while old = 8, new = 5 were annotated max 13.
    (_rs("old", 8, max_annotation=13), 15, 4, 6, 0, 4),    # round(8 * 19 / 13) - 8 = 12 - 8
    (_rs("new", 5, max_annotation=13), 15, 4, 6, 4, 2),    # round(5 * 19 / 13) - 5 = 7 - 5
    (_rs("new", 5, max_annotation=13), 15, 4, 6, 5, 1),    # only 1 left to hand out
    # Scaled 15 -> 8 (surge 2: 10 allowed) with old = 12 annotated max 19: 9 to remove.
    (_rs("old", 12, max_annotation=19), 8, 2, -9, 0, -6),  # round(12 * 10 / 19) - 12 = 6 - 12
    (_rs("old", 12, max_annotation=19), 0, 0, -12, 0, -12),  # to zero: the whole RS goes
    (_rs("empty", 0, max_annotation=13), 15, 4, 6, 0, 0),  # an empty RS never grows proportionally
    (_rs("old", 8, max_annotation=0), 15, 4, 6, 0, 4),    # a zero annotation falls back to status (13)
    (_rs("old", 8), 15, 4, 6, 0, 4),                      # ... and so does a missing one
], ids=["larger-rs", "smaller-rs", "bounded-by-rest", "scale-down", "to-zero", "empty-rs", "zero-annotation",
        "no-annotation"])
def test_get_proportion(rs: RSState, desired: int, surge: int, to_add: int, added: int, expected: int) -> None:
    """Each RS's share of a scaling event follows its max-replicas annotation."""
    assert get_proportion(rs, desired, surge, status_replicas=13, to_add=to_add, added=added) == expected


@pytest.mark.parametrize(("x", "expected"), [(2.5, 3), (3.5, 4), (-2.5, -3), (11.69, 12), (7.31, 7)],
                         ids=["2.5", "3.5", "-2.5", "11.69", "7.31"])
def test_round_half_away(x: float, expected: int) -> None:
    """Halves round away from zero as Go's math.Round does, not to even."""
    assert round_half_away(x) == expected


def test_is_saturated_needs_annotation_and_availability() -> None:
    """A new RS is saturated only at the desired size, annotated so, with every pod available."""
    assert is_saturated(10, _rs("new", 10, desired_annotation=10, available=10))
    assert not is_saturated(10, _rs("new", 10, desired_annotation=8, available=10))
    assert not is_saturated(10, _rs("new", 10, desired_annotation=10, available=9))
    assert not is_saturated(10, None)
