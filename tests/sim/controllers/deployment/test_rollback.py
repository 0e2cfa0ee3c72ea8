"""rollback.go: resolve the requested revision to a ReplicaSet whose template to restore."""

from __future__ import annotations

import pytest

from sim.controllers.deployment.rollback import (
    ROLLBACK_DONE,
    ROLLBACK_NOT_FOUND,
    ROLLBACK_UNCHANGED,
    decide_rollback,
    rollback_to,
)
from sim.controllers.deployment.util import RSState

# Revision 1 ran image v1 (hash h1), 2 ran v2 (h2), 3 runs v3 (h3) and is current.
RSS = [RSState("web-h1", 0, revision=1), RSState("web-h2", 0, revision=2), RSState("web-h3", 10, revision=3)]
HASHES = {"web-h1": "h1", "web-h2": "h2", "web-h3": "h3"}


@pytest.mark.parametrize(("requested", "current", "reason", "source"), [
    (0, "h3", ROLLBACK_DONE, "web-h2"),        # 0: the previous revision (second highest)
    (1, "h3", ROLLBACK_DONE, "web-h1"),        # an explicit earlier revision
    (7, "h3", ROLLBACK_NOT_FOUND, None),       # cleaned up or never existed
    (3, "h3", ROLLBACK_UNCHANGED, None),       # already running that template
], ids=["previous", "to-revision", "unknown-revision", "same-template"])
def test_decide_rollback(requested: int, current: str, reason: str, source: str | None) -> None:
    """The decision names the ReplicaSet to copy from, or why the request is dropped."""
    decision = decide_rollback("web", requested, RSS, current, HASHES)
    assert (decision.reason, decision.source) == (reason, source)


def test_rollback_without_history_is_not_found() -> None:
    """With a single revision there is no previous one to go back to."""
    decision = decide_rollback("web", 0, [RSState("web-h1", 3, revision=1)], "h1", {"web-h1": "h1"})
    assert (decision.reason, decision.message) == (ROLLBACK_NOT_FOUND, "Unable to find last revision.")


@pytest.mark.parametrize(("annotations", "expected"), [
    ({"deprecated.deployment.rollback.to": "0"}, 0),
    ({"deprecated.deployment.rollback.to": "4"}, 4),
    ({"deprecated.deployment.rollback.to": "x"}, None),  # invalid values are ignored
    ({}, None),
], ids=["previous", "explicit", "invalid", "absent"])
def test_rollback_to(annotations: dict[str, str], expected: int | None) -> None:
    """The rollback request is read from the Deployment's annotation."""
    assert rollback_to(annotations) == expected
