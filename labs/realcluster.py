"""The "Now on a real cluster" cells: replay a lab's scenario when a cluster is there, else say how.

The replay itself belongs to ``labs.replay`` (``kubesim replay``); this module only looks for it
and for a reachable local cluster, so a notebook runs to the end on a laptop with neither.
Set ``KUBESIM_LABS_OFFLINE=1`` (the tests do) to skip the look-up entirely.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_CONTEXT", "how_to_get_a_cluster", "on_real_cluster"]

DEFAULT_CONTEXT = "kwok-kubesim"  # what `make cluster` creates


def how_to_get_a_cluster(scenario: Path, reason: str) -> str:
    """The instructions printed when the real-cluster step cannot run."""
    return "\n".join([
        f"No real cluster for this step ({reason}). To run it:",
        "  make cluster            # etcd, kube-apiserver, scheduler, controller-manager + KWOK nodes,",
        "                          # context 'kwok-kubesim'",
        "  # or: kind create cluster --config <(kubesim kind-config " + str(scenario) + ")",
        "then re-run this cell, or from a shell:",
        f"  kubesim replay {scenario} --context {DEFAULT_CONTEXT} --out runs/real",
        "  kubesim compare runs/sim runs/real",
    ])


def _context_available(context: str) -> str | None:
    """None if ``context`` is in the kubeconfig, else why not."""
    try:
        from kubernetes import config

        names = [c["name"] for c in config.list_kube_config_contexts()[0]]
    except Exception as exc:  # no kubeconfig at all, or an unreadable one
        return f"no usable kubeconfig: {exc.__class__.__name__}"
    return None if context in names else f"no context {context!r} in the kubeconfig"


def on_real_cluster(scenario: str | Path, context: str = DEFAULT_CONTEXT, out: str | Path | None = None) -> Any:
    """Replay ``scenario`` on ``context`` and return labs.replay's result, or print how to get a cluster."""
    scenario = Path(scenario)
    if os.environ.get("KUBESIM_LABS_OFFLINE"):
        reason = "KUBESIM_LABS_OFFLINE is set"
    else:
        try:
            replay = importlib.import_module("labs.replay")
            reason = _context_available(context) or ""
        except ImportError:
            reason = "labs.replay is not installed in this checkout"
    if reason:
        print(how_to_get_a_cluster(scenario, reason))  # noqa: T201 - notebook-facing
        return None
    return replay.replay(scenario, context=context, out=out or Path("runs") / f"{scenario.stem}-real")
