"""The "Now on a real cluster" cells: replay a lab's scenario and set it beside the simulation.

The replay itself belongs to ``labs.replay`` (``kubesim replay``) and the comparison to
``labs.compare`` (``kubesim compare``); this module looks for a reachable cluster, replays,
and shows the comparison table, the differences and the side-by-side figure. When there is no
cluster, or the scenario has parts a cluster of fake (KWOK) nodes cannot reproduce, or the
replay fails, it prints one line saying why and how to get one, so a notebook always runs to
the end. Set ``KUBESIM_LABS_OFFLINE=1`` to skip the look-up entirely.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_CONTEXT", "how_to_get_a_cluster", "on_real_cluster", "show_comparison"]

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
    """None if ``context`` is in the kubeconfig (its current context may be any, or none), else why not."""
    from labs.cluster import LabError, resolve_context

    try:
        resolve_context(context)
    except LabError as exc:
        return str(exc)
    return None


def on_real_cluster(scenario: str | Path, sim: Any = None, context: str = DEFAULT_CONTEXT,
                    out: str | Path | None = None, idle: float | None = 10.0) -> Any:
    """Replay ``scenario`` on ``context``; with ``sim`` (a simulation Result or Trace) show both side by side.

    The replay runs in real time and stops once every pod has settled and nothing has changed
    for ``idle`` seconds after the last timeline step (None: run the scenario's full duration).

    Returns labs.replay's ReplayResult, or None when the step could not run (it says why).
    """
    scenario = Path(scenario)
    if os.environ.get("KUBESIM_LABS_OFFLINE"):
        print(how_to_get_a_cluster(scenario, "KUBESIM_LABS_OFFLINE is set"))  # noqa: T201 - notebook-facing
        return None
    from labs.cluster import LabError
    from labs.replay import replay, supported

    ok, why = supported(scenario)
    if not ok:
        print(f"This scenario cannot be replayed on fake (KWOK) nodes as it is: {why}.")  # noqa: T201
        print("A kind cluster with real containers can run it: see `kubesim kind-config --help`.")  # noqa: T201
        return None
    reason = _context_available(context)
    if reason:
        print(how_to_get_a_cluster(scenario, reason))  # noqa: T201
        return None
    print(f"Replaying {scenario.name} on context {context!r} (real time: this takes a little while)...")  # noqa: T201
    try:
        real = replay(scenario, context=context, out=out or Path("runs") / f"{scenario.stem}-real",
                      idle=idle, log=lambda message: None)
    except LabError as exc:
        print(how_to_get_a_cluster(scenario, str(exc)))  # noqa: T201
        return None
    if sim is not None:
        show_comparison(sim, real.trace)
    return real


def show_comparison(sim: Any, real_trace: Any) -> Any:
    """The comparison table and differences (as Markdown in a notebook) and the side-by-side figure."""
    from labs.compare import compare, figure, render_compare

    sim_trace = getattr(sim, "trace", sim)
    result = compare(sim_trace, real_trace)
    text = render_compare(result, sim_trace, real_trace, plots=[])
    try:
        from IPython.display import Markdown, display

        display(Markdown(text))
    except ImportError:
        print(text)  # noqa: T201
    fig = figure(sim_trace, real_trace, result)
    try:
        import matplotlib.pyplot as plt

        plt.show()
    except Exception:  # a headless backend without a display shows nothing, which is fine
        pass
    return fig
