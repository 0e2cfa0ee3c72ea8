"""Rollback to an earlier revision: models pkg/controller/deployment/rollback.go (Kubernetes 1.36.5).

A rollback is requested by the annotation ``deprecated.deployment.rollback.to: N`` on the
Deployment (``N = 0``: the previous revision). The controller finds the ReplicaSet whose
``deployment.kubernetes.io/revision`` is N, copies its pod template (without the
pod-template-hash label) and its annotations back into the Deployment and clears the
request; the normal rollout then makes that ReplicaSet the new one again, with the next
revision number. ``kubectl rollout undo`` performs the same lookup on the client side.

Worked example (ours): revisions 1 (v1) and 2 (v2, current). ``rollback.to: 0`` resolves
to 1, the Deployment's template becomes v1's, and v1's ReplicaSet is renumbered 3, with
``revision-history: 1``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.controllers.deployment.util import ROLLBACK_TO, RSState, last_revision

__all__ = ["ROLLBACK_DONE", "ROLLBACK_NOT_FOUND", "ROLLBACK_UNCHANGED", "RollbackDecision", "decide_rollback",
           "rollback_to"]

ROLLBACK_DONE = "DeploymentRollback"
ROLLBACK_NOT_FOUND = "DeploymentRollbackRevisionNotFound"
ROLLBACK_UNCHANGED = "DeploymentRollbackTemplateUnchanged"


@dataclass(frozen=True, slots=True)
class RollbackDecision:
    """What to do with a rollback request: copy ``source``'s template, or give up (reason)."""

    reason: str  # one of the ROLLBACK_* event reasons
    message: str
    source: str | None = None  # name of the ReplicaSet whose template to restore


def rollback_to(annotations: dict[str, str]) -> int | None:
    """getRollbackTo: the requested revision, or None (absent or not an integer)."""
    try:
        return int(annotations[ROLLBACK_TO])
    except (KeyError, ValueError):
        return None


def decide_rollback(deployment: str, revision: int, rss: list[RSState], current_hash: str,
                    hashes: dict[str, str]) -> RollbackDecision:
    """Resolve a rollback request against the Deployment's ReplicaSets (``hashes``: RS -> template hash)."""
    if revision == 0:
        revision = last_revision(rss)
        if revision == 0:
            return RollbackDecision(ROLLBACK_NOT_FOUND, "Unable to find last revision.")
    for rs in rss:
        if rs.revision != revision:
            continue
        if hashes[rs.name] == current_hash:
            return RollbackDecision(ROLLBACK_UNCHANGED, "The rollback revision contains the same template "
                                    f'as current deployment "{deployment}"')
        return RollbackDecision(ROLLBACK_DONE, f'Rolled back deployment "{deployment}" to revision {revision}',
                                rs.name)
    return RollbackDecision(ROLLBACK_NOT_FOUND, "Unable to find the revision to rollback to.")
