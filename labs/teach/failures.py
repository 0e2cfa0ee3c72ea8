"""Lab 06, when nodes fail: detection, taint-based eviction, replacement, and checkpoints."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from sim import Result
from sim.faults import recovery_time_s
from sim.metrics import ready_over_time

from labs.teach.common import close, flow_diagram, run_scenario

__all__ = ["CRASH", "CRASH_AT_S", "REPLACE", "TRAINING", "TRAINING_CRASH_TIMES", "chain_figure", "milestones",
           "recovery_figure", "recovery_s", "run_crash", "run_training", "step_seconds", "training_figure",
           "training_table"]

CRASH = "labs/lab06-node-crash"  # web Deployment, node w-0 crashes at 2 min
REPLACE = "labs/lab06-replace"  # the replacement step alone (replays on KWOK)
TRAINING = "labs/lab06-training-crash"  # 8-worker training Job, node gpu-0 crashes
CRASH_AT_S = 120.0
REPLICAS = 6
TRAINING_CRASH_TIMES = ("10m", "17m", "25m")


def _tolerations(seconds: float) -> str:
    """--set override giving the web pods one unreachable/not-ready toleration of ``seconds``."""
    rule = "{key: node.kubernetes.io/%s, operator: Exists, effect: NoExecute, tolerationSeconds: %d}"
    return ("workloads.web.spec.template.spec.tolerations=["
            + ", ".join(rule % (key, int(seconds)) for key in ("not-ready", "unreachable")) + "]")


def run_crash(toleration_s: float | None = None, grace_s: float | None = None) -> Result:
    """The node-crash scenario, optionally with another tolerationSeconds or node-monitor grace period."""
    over = [] if toleration_s is None else [_tolerations(toleration_s)]
    if grace_s is not None:
        over.append(f"controlPlane.controllerManager.nodeMonitorGracePeriod={grace_s:g}s")
    return run_scenario(CRASH, over)


def recovery_s(result: Result) -> float | None:
    """Seconds from the crash until all 6 replicas are Ready again (None: never)."""
    return recovery_time_s(result.trace, CRASH_AT_S, "web-", REPLICAS)


def milestones(result: Result) -> pd.DataFrame:
    """What happened after the crash, when, and who did it (seconds since the crash)."""
    df = result.to_frame()
    event, kind, msg = df["event"].astype(str), df["kind"].astype(str), df["message"].astype(str)
    after = df["t"] >= CRASH_AT_S
    web_pod = (kind == "Pod") & df["name"].astype(str).str.startswith("web-")

    def first(mask: Any) -> float | None:
        times = df.loc[mask & after, "t"]
        return float(times.min()) if len(times) else None

    def last(mask: Any) -> float | None:
        times = df.loc[mask & after, "t"]
        return float(times.max()) if len(times) else None

    rows = [
        ("node crashes (kubelet stops renewing its lease)", "fault", first(event == "nodeCrash")),
        ("node marked Unknown / NotReady", "node lifecycle controller",
         first((kind == "Node") & (event == "notReady"))),
        ("taint unreachable:NoExecute", "node lifecycle controller",
         first((kind == "Node") & (event == "tainted") & msg.str.contains("NoExecute"))),
        ("pods evicted (tolerationSeconds ran out)", "taint eviction controller", first(event == "evicted")),
        ("replacement pods created", "ReplicaSet controller", first(web_pod & (event == "created"))),
        ("replacement pods Ready", "kubelet (other nodes)", last(web_pod & (event == "ready"))),
    ]
    table = pd.DataFrame(rows, columns=["what", "who", "t (s)"])
    table["since crash (s)"] = (table["t (s)"] - CRASH_AT_S).round(1)
    return table.round({"t (s)": 1})


_CHAIN = [("kubelet on w-0", "kube-apiserver", "1 lease renew\n(every 10 s)"),
          ("kube-apiserver", "node lifecycle\ncontroller", "2 no renew for 50 s:\nUnknown + taint"),
          ("node lifecycle\ncontroller", "taint eviction\ncontroller", "3 NoExecute taint"),
          ("taint eviction\ncontroller", "ReplicaSet\ncontroller", "4 evict after\ntolerationSeconds"),
          ("ReplicaSet\ncontroller", "kube-scheduler", "5 new pods"),
          ("kube-scheduler", "kubelet on w-1/w-2", "6 bind, start,\nReady")]
_POS = {"kubelet on w-0": (0, 1), "kube-apiserver": (1, 1), "node lifecycle\ncontroller": (2, 1),
        "taint eviction\ncontroller": (2, 0), "ReplicaSet\ncontroller": (1, 0), "kube-scheduler": (0, 0),
        "kubelet on w-1/w-2": (0, -1)}


def chain_figure() -> Any:
    """Who notices a dead node and who replaces its pods, in order."""
    fig, _ = flow_diagram(_CHAIN, _POS,
                          "From a dead node to replacement pods (every arrow goes through the API server)",
                          figsize=(9, 4.2), node_size=3200, font_size=7, arrowsize=15, margins=0.18,
                          highlight=lambda name: name == "kubelet on w-0")
    return close(fig)


def recovery_figure(toleration_s: float = 300) -> Any:
    """Ready web replicas over time for the default 300 s toleration and for ``toleration_s``."""
    import matplotlib.pyplot as plt
    import numpy as np

    runs = {"tolerationSeconds 300 (default)": run_crash()}
    if int(toleration_s) != 300:
        runs[f"tolerationSeconds {int(toleration_s)}"] = run_crash(toleration_s)
    fig, ax = plt.subplots(figsize=(8.5, 3))
    for label, result in runs.items():
        times, counts = ready_over_time(result.trace, "web-")
        end = result.summary["sim_time_s"]
        times, counts = np.r_[times, end], np.r_[counts, counts[-1:] if len(counts) else 0]
        took = recovery_s(result)
        ax.step(times, counts, where="post", label=f"{label}: recovered in {took:.0f} s" if took else label)
    ax.axvline(CRASH_AT_S, color="#cc0000", linestyle="--", linewidth=1)
    ax.text(CRASH_AT_S + 5, 0.5, "w-0 crashes", color="#cc0000", fontsize=8)
    ax.set(xlabel="simulated time (s)", ylabel="Ready replicas", ylim=(0, REPLICAS + 0.5),
           title="Ready web replicas after a node crash")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return close(fig)


def run_training(interval: int = 100, crash_at: str = "10m") -> Result:
    """The training job with checkpoints every ``interval`` steps and node gpu-0 crashing at ``crash_at``."""
    return run_scenario(TRAINING, [f"workloads.training.behavior.training.checkpointInterval={int(interval)}",
                                   f"timeline.0.at={crash_at}"])


def step_seconds(result: Result) -> float:
    """Seconds per training step when the job first started (compute + all-reduce)."""
    df = result.to_frame()
    started = df[(df["kind"] == "TrainingJob") & (df["event"] == "started")]["message"].astype(str)
    found = re.search(r"([\d.]+)s per step", started.iloc[0]) if len(started) else None
    return float(found.group(1)) if found else 0.0


def training_table(interval: int = 100) -> pd.DataFrame:
    """Per crash time: steps lost, that work in seconds, and the job's completion time."""
    rows = []
    for at in TRAINING_CRASH_TIMES:
        result = run_training(interval, at)
        s = result.summary
        lost = int(s.get("training_lost_steps") or 0)
        jct = s.get("training_jct_mean_s")
        rows.append({"node crash at": at, "steps lost": lost,
                     "work lost (s)": round(lost * step_seconds(result), 1),
                     "job time (min)": round(jct / 60, 1) if jct else None})
    return pd.DataFrame(rows)


def training_figure(interval: float = 100) -> Any:
    """Work lost and job completion time for one checkpoint interval, at each crash time."""
    import matplotlib.pyplot as plt

    table = training_table(int(interval))
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 2.8))
    left.bar(table["node crash at"], table["work lost (s)"], color="#e06666")
    left.axhline(180, color="black", linestyle=":", linewidth=1)
    left.set(xlabel="node crashes at", ylabel="work lost (s)",
             title=f"Lost work, checkpoint every {int(interval)} steps")
    right.bar(table["node crash at"], table["job time (min)"].fillna(0), color="#6fa8dc")
    right.axhline(40, color="black", linestyle=":", linewidth=1)
    right.set(xlabel="node crashes at", ylabel="job completion time (min)", title="Job time (0 = not done in 1 h)")
    fig.tight_layout()
    return close(fig)
