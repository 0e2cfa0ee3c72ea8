"""``kubesim compare SIM_TRACE REAL_TRACE``: a simulated run next to a real replay.

Both traces share one schema (``sim.trace``), so every figure is computed the same way for
both (``sim.metrics.trace_metrics``, ``Trace.pods_frame``). Three kinds of comparison:

* **Latency distributions** - pod startup (the SIG-Scalability SLI: created to all
  containers running, image pulls excluded) and created-to-Ready, as CDFs.
* **Placements** - pods are matched by namespace and name (a real replay records pods under
  the scenario's namespace). *Same-node agreement* is the share of pods bound in both runs
  that went to the same node; it means something only for bare Pods (Deployment pods get
  random names) and for scenarios where scores never tie (the scheduler breaks ties at
  random). *Pending sets* are the pods never bound (a Deployment's pods, whose names are
  random, by Deployment: ``model-server-*`` twice); *sorted per-node counts* compare how
  full the nodes are regardless of which node is which.
* **Pods over time** - pending, running and ready counts from the events.

``differences`` names what differs in words, with the likely reason where one is known
(e.g. KWOK's fast stages have no image pulls and no container runtime).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.metrics import pod_latencies, pod_state_series, trace_metrics
from sim.trace import Trace

__all__ = ["Comparison", "Placement", "compare", "differences", "figure", "load_trace", "placement", "render_compare",
           "stable_name", "write_compare"]

ROWS = (("pods_created", "Pods created", ""), ("pods_scheduled", "Pods scheduled", ""),
        ("pods_ready", "Pods ready", ""), ("pods_pending_at_end", "Pods pending at the end", ""),
        ("pod_startup_p50_s", "Pod startup p50 (SLI)", "s"), ("pod_startup_p99_s", "Pod startup p99 (SLI)", "s"),
        ("pod_ready_p50_s", "Created to Ready p50", "s"), ("pod_ready_p99_s", "Created to Ready p99", "s"),
        ("scheduling_latency_p50_s", "Created to scheduled p50", "s"),
        ("scheduling_latency_p99_s", "Created to scheduled p99", "s"),
        ("image_pull_p50_s", "Image pull p50", "s"),
        ("scheduling_throughput_pods_per_s", "Scheduling throughput", "pods/s"))


def load_trace(path: str | Path) -> Trace:
    """A trace from a ``trace.jsonl`` or a run/replay folder holding one."""
    path = Path(path)
    file = path / "trace.jsonl" if path.is_dir() else path
    if not file.is_file():
        raise FileNotFoundError(f"{path}: no trace.jsonl (give a trace file or a run folder)")
    return Trace.read_jsonl(file)


@dataclass
class Placement:
    """Where pods went in two runs of the same scenario."""

    compared: int = 0  # pods bound in both runs
    same_node: int = 0
    moved: list[tuple[str, str, str]] = field(default_factory=list)  # (pod, sim node, real node)
    pending_sim: list[str] = field(default_factory=list)  # stable names (see stable_name), sorted
    pending_real: list[str] = field(default_factory=list)
    counts_sim: dict[str, int] = field(default_factory=dict)  # node -> pods bound there at the end
    counts_real: dict[str, int] = field(default_factory=dict)

    @property
    def same_node_fraction(self) -> float | None:
        return self.same_node / self.compared if self.compared else None

    @property
    def pending_identical(self) -> bool:
        return self.pending_sim == self.pending_real

    @property
    def sorted_counts(self) -> tuple[list[int], list[int]]:
        nodes = sorted(set(self.counts_sim) | set(self.counts_real))
        return (sorted((self.counts_sim.get(n, 0) for n in nodes), reverse=True),
                sorted((self.counts_real.get(n, 0) for n in nodes), reverse=True))

    @property
    def counts_identical(self) -> bool:
        a, b = self.sorted_counts
        return a == b


# Pods of a Deployment are named <deployment>-<pod-template-hash>-<5 random>, from the
# alphabet of k8s.io/apimachinery's rand.SafeEncodeString; the simulator and the cluster
# hash templates differently and draw different suffixes, so such pods are compared by
# Deployment ("<name>-*"), and only pods with fixed names (bare Pods) by name.
_SAFE = "[bcdfghjklmnpqrstvwxz2456789]"
_DEPLOYMENT_POD = re.compile(rf"^(?P<deployment>.+)-{_SAFE}{{1,10}}-{_SAFE}{{5}}$")


def stable_name(pod: str) -> str:
    """``ns/name`` for a bare pod, ``ns/<deployment>-*`` for a Deployment's pod."""
    match = _DEPLOYMENT_POD.match(pod)
    return f"{match.group('deployment')}-*" if match else pod


def _final(trace: Trace) -> tuple[dict[str, str], list[str], dict[str, int]]:
    """(pod -> node for pods bound and not deleted, pending pods, node -> pod count)."""
    pods = trace.pods_frame()
    nodes = {rec["name"]: 0 for rec in trace.events() if rec["kind"] == "Node" and rec["event"] == "created"}
    where: dict[str, str] = {}
    pending = []
    for row in pods.itertuples(index=False):
        key = f"{row.namespace}/{row.name}"
        if not np.isnan(row.deleted):
            continue
        if np.isnan(row.bound):
            pending.append(stable_name(key))
        elif row.node:
            where[key] = row.node
            nodes[row.node] = nodes.get(row.node, 0) + 1
    return where, sorted(pending), nodes


def placement(sim: Trace, real: Trace) -> Placement:
    """Compare final placements (see the module docstring)."""
    sim_at, sim_pending, sim_counts = _final(sim)
    real_at, real_pending, real_counts = _final(real)
    out = Placement(pending_sim=sim_pending, pending_real=real_pending, counts_sim=sim_counts,
                    counts_real=real_counts)
    for pod in sorted(set(sim_at) & set(real_at)):
        out.compared += 1
        if sim_at[pod] == real_at[pod]:
            out.same_node += 1
        else:
            out.moved.append((pod, sim_at[pod], real_at[pod]))
    return out


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f} {unit}".strip()
    return f"{value} {unit}".strip()


def _failure_messages(trace: Trace) -> dict[str, str]:
    """namespace/pod -> its latest FailedScheduling message."""
    return {f"{r['namespace']}/{r['name']}": r["message"] for r in trace.events() if r["event"] == "failedScheduling"}


def differences(sim: Trace, real: Trace, ms: dict[str, Any], mr: dict[str, Any], place: Placement) -> list[str]:
    """What differs between the runs, in words, with known reasons."""
    out = []
    sim_pulls = ms.get("image_pull_p50_s") is not None
    real_pulls = mr.get("image_pull_p50_s") is not None
    kwok = real.header.get("cluster") == "kwok"
    why = {"pod_startup_p50_s": ("KWOK's fast stages mark containers running at once: no kubelet, PLEG or "
                                 "container runtime (the sim models them)") if kwok else "",
           "pod_ready_p50_s": ("KWOK ignores readiness probes and skips image pulls; the sim models both "
                               "(behavior.readiness, imageSize)") if kwok else "",
           "scheduling_latency_p50_s": "scheduler cycle, binding and watch delays differ"}
    for key, label in (("pod_startup_p50_s", "p50 startup"), ("pod_ready_p50_s", "p50 created-to-ready"),
                       ("scheduling_latency_p50_s", "p50 scheduling latency")):
        a, b = ms.get(key), mr.get(key)
        if a is None or b is None:
            continue
        if abs(a - b) > 0.1 and max(a, b) > 1.5 * min(a, b):
            reason = f": {why[key]}" if why[key] else ""
            out.append(f"real {label} {b:.2f} s vs sim {a:.2f} s{reason}")
    if sim_pulls and not real_pulls:
        out.append(f"the sim pulls images (p50 {ms['image_pull_p50_s']:.2f} s); the real run has no Pulling events"
                   + (" (KWOK nodes have no kubelet)" if kwok else ""))
    for key, label in (("pods_created", "pods created"), ("pods_ready", "pods ready"),
                       ("pods_pending_at_end", "pods pending at the end")):
        if ms.get(key) != mr.get(key):
            out.append(f"{label}: real {mr.get(key)} vs sim {ms.get(key)}")
    if place.compared and place.same_node < place.compared:
        pod, a, b = place.moved[0]
        out.append(f"{place.compared - place.same_node} of {place.compared} pods on a different node "
                   f"(e.g. {pod}: sim {a}, real {b}); meaningful only where scores never tie")
    only_sim = sorted((Counter(place.pending_sim) - Counter(place.pending_real)).elements())
    only_real = sorted((Counter(place.pending_real) - Counter(place.pending_sim)).elements())
    if only_sim:
        out.append(f"pending only in the sim: {', '.join(only_sim[:5])}{' ...' if len(only_sim) > 5 else ''}")
    if only_real:
        out.append(f"pending only in the real run: {', '.join(only_real[:5])}{' ...' if len(only_real) > 5 else ''}")
    sim_msg, real_msg = _failure_messages(sim), _failure_messages(real)
    differ = sorted(pod for pod in set(sim_msg) & set(real_msg) if sim_msg[pod] != real_msg[pod])
    if differ:
        pod = differ[0]
        out.append(f"FailedScheduling messages differ for {len(differ)} pod(s), e.g. {pod}: sim "
                   f"{sim_msg[pod]!r} vs real {real_msg[pod]!r}")
    if not place.counts_identical:
        a, b = place.sorted_counts
        out.append(f"sorted per-node pod counts differ: sim {a[:8]} vs real {b[:8]}")
    end_real = real.header.get("replayed_s")
    end_sim = sim.header.get("duration_s")
    later = [r for r in sim.events() if end_real is not None and r["t"] > end_real
             and (r["kind"] == "Timeline" or (r["kind"] != "Pod" and r["event"] == "created"))]
    if later and end_sim:
        out.append(f"the real replay stopped at {end_real:g} s, the sim ran {float(end_sim):g} s: "
                   f"{len(later)} later step(s) of the scenario are missing from the real run")
    return out


@dataclass
class Comparison:
    """Everything ``kubesim compare`` shows."""

    rows: list[tuple[str, str, str]]
    placement: Placement
    differences: list[str]
    sim_metrics: dict[str, Any]
    real_metrics: dict[str, Any]


def compare(sim: Trace, real: Trace) -> Comparison:
    """Figures, placements and named differences of a simulated and a real trace."""
    ms, mr = trace_metrics(sim), trace_metrics(real)
    place = placement(sim, real)
    rows = [(label, _fmt(ms.get(key), unit), _fmt(mr.get(key), unit)) for key, label, unit in ROWS]
    frac = place.same_node_fraction
    rows.append(("Same node (pods bound in both)", f"{place.same_node} of {place.compared}",
                 f"{frac:.0%}" if frac is not None else "–"))
    rows.append(("Pending sets identical", "", "yes" if place.pending_identical else "no"))
    rows.append(("Sorted per-node counts identical", "", "yes" if place.counts_identical else "no"))
    return Comparison(rows, place, differences(sim, real, ms, mr, place), ms, mr)


def render_compare(result: Comparison, sim: Trace, real: Trace, plots: list[str]) -> str:
    """Markdown: the table, the differences and the figure."""
    name = sim.header.get("scenario") or real.header.get("scenario") or "run"
    out = [f"# {name}: simulation vs real cluster", "",
           f"Simulated by kubesim (model of Kubernetes {sim.header.get('kubernetesVersion')}, seed "
           f"{sim.header.get('seed')}); real run on context `{real.header.get('context', '?')}` "
           f"({real.header.get('cluster', '?')}, {real.header.get('kubernetesVersion', '?')}).", "",
           "| Figure | Simulated | Real |", "|---|---:|---:|"]
    out += [f"| {label} | {a} | {b} |" for label, a, b in result.rows]
    out += ["", "## Differences", ""]
    out += [f"- {d}" for d in result.differences] or ["- none above the thresholds"]
    for file in plots:
        out += ["", f"![{file}]({file})"]
    return "\n".join(out) + "\n"


def figure(sim: Trace, real: Trace, result: Comparison) -> Any:
    """Three panels: startup CDFs, per-node pod counts, pods over time."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(16, 4.4))
    colors = {"sim": "#457b9d", "real": "#e76f51"}
    for label, trace in (("sim", sim), ("real", real)):
        pods = trace.pods_frame()
        if pods.empty:
            continue
        lat = pod_latencies(pods)
        for key, style in (("startup", "-"), ("ready", ":")):
            values = np.sort(lat[key][~np.isnan(lat[key])])
            if len(values):
                fraction = np.arange(0, len(values) + 1) / len(values)
                axes[0].step(np.r_[values[0], values], fraction, where="post", linestyle=style,
                             color=colors[label], label=f"{label} {key}")
    axes[0].set_xscale("symlog", linthresh=0.1)
    axes[0].set(title="Pod startup (—) and created-to-Ready (···) CDF", xlabel="seconds",
                ylabel="fraction of pods")
    axes[0].legend(fontsize=8)
    place = result.placement
    nodes = sorted(set(place.counts_sim) | set(place.counts_real))
    x = np.arange(len(nodes))
    axes[1].bar(x - 0.2, [place.counts_sim.get(n, 0) for n in nodes], 0.4, color=colors["sim"], label="sim")
    axes[1].bar(x + 0.2, [place.counts_real.get(n, 0) for n in nodes], 0.4, color=colors["real"], label="real")
    axes[1].set_xticks(x, nodes if len(nodes) <= 30 else [""] * len(nodes), rotation=90, fontsize=7)
    frac = place.same_node_fraction
    axes[1].set(title="Pods per node at the end" + (f" (same node: {frac:.0%})" if frac is not None else ""),
                ylabel="pods")
    axes[1].legend(fontsize=8)
    for label, trace in (("sim", sim), ("real", real)):
        end = float(trace.header.get("replayed_s") or trace.header.get("duration_s") or 0)
        for state, style in (("pending", ":"), ("ready", "-")):
            t, v = pod_state_series(trace)[state]
            if len(t):
                axes[2].step(np.r_[0, t, max(end, t[-1])], np.r_[0, v, v[-1]], where="post", linestyle=style,
                             color=colors[label], label=f"{label} {state}")
    axes[2].set(title="Pods over time", xlabel="time (s)", ylabel="pods")
    axes[2].legend(fontsize=8)
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def write_compare(out_dir: str | Path, sim: Trace, real: Trace, result: Comparison) -> None:
    """compare.md, compare.json and compare.png, written atomically."""
    import matplotlib.pyplot as plt

    from sim.report import write_atomically

    def write(tmp: Path) -> None:
        fig = figure(sim, real, result)
        fig.savefig(tmp / "compare.png", dpi=110)
        plt.close(fig)
        (tmp / "compare.md").write_text(render_compare(result, sim, real, ["compare.png"]))
        place = result.placement
        data = {"sim": result.sim_metrics, "real": result.real_metrics, "differences": result.differences,
                "placement": {"compared": place.compared, "same_node": place.same_node,
                              "pending_sim": place.pending_sim, "pending_real": place.pending_real,
                              "pending_identical": place.pending_identical,
                              "sorted_counts_sim": place.sorted_counts[0], "sorted_counts_real": place.sorted_counts[1],
                              "counts_identical": place.counts_identical,
                              "moved": [list(m) for m in place.moved]}}
        (tmp / "compare.json").write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")

    write_atomically(out_dir, write)
