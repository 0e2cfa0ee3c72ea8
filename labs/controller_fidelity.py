"""``kubesim fidelity-controllers``: the simulated controllers against the real
kube-controller-manager, on the same scenarios, compared step by step.

Five cases, one scenario each in ``scenarios/fidelity/`` (pods become Ready 1 s after they
are bound on both sides: ``behavior.readiness`` in the simulation, the
``kubesim.io/ready-after`` annotation and kubesim's KWOK stage on the cluster, see
``labs/controlplane/stages/kubesim-stages.yaml``):

* ``deployment`` - three Deployments of 10 replicas get a new image: RollingUpdate 25%/25%
  (surge 3, unavailable 2), RollingUpdate 0/1, and Recreate. Compared: the sequence of
  (new RS replicas, old RS replicas) scale steps, the most pods asked for (sum of the
  ReplicaSets' spec.replicas) and present, the fewest available during the rollout, the
  final state.
* ``statefulset`` - OrderedReady and Parallel sets of 4: creation order, Ready order,
  whether each pod waited for its predecessor to be Ready.
* ``job`` - a Job with backoffLimit 2 whose pods fail 1 s after starting
  (``behavior.failure`` / the ``kubesim.io/fail-after`` annotation): pods created, the
  back-off from each failure to the next pod, the final condition and its reason.
* ``daemonset`` - two DaemonSets on four nodes get a new image: maxUnavailable 1 and
  maxSurge 1 / maxUnavailable 0. Compared: one pod per node before and after, how many
  nodes were ever without an available (Ready, not terminating) pod at once, the most
  pods on one node at once, and how many pods were replaced.
* ``cronjob`` - a CronJob every minute, concurrencyPolicy Forbid, whose Job runs 70 s
  (``behavior.runDuration`` / the ``kubesim.io/succeed-after`` annotation). The cluster runs
  first; the simulation then starts at the replay's wall-clock start (``startTime``), so
  both read the schedule against the same clock. Compared: the Jobs' activations (minutes
  after the first), whether the activation during the first run was skipped with
  JobAlreadyActive, and the delays from an activation, and from the first Job's
  completion, to the Job created for it.

What must agree exactly, and what may differ (``Check.exact``):

* Steps the upstream algorithm takes whatever the timing agree exactly: every step of
  0/1 (never more than one new pod is unready, so readiness cannot arrive in another
  order) and of Recreate, and the steps of 25%/25% up to the first new pod becoming
  Ready (``deterministic_prefix``). After that, a batch of new pods created together
  becomes Ready within a few milliseconds; the deployment controller may see the batch
  at once (one scale-down step) or in parts (several smaller steps), on either side.
  So for 25%/25% only the invariants must agree: the bounds (at most replicas + maxSurge
  pods asked for and present, at least replicas - maxUnavailable available) and the final
  state. The number of steps is shown, not compared: the simulator sees each pod's
  readiness on its own (13 steps); the cluster sees some together, and more of them the
  busier the machine is (12 steps in a run on a quiet machine, 9 in one under load).
* Back-off intervals are measured from the failure seen by a watch to the replacement's
  creation. Upstream counts the back-off from the failed container's ``finishedAt``,
  which the API stores in whole seconds, so the replacement comes between 0 and 1 s
  earlier than the nominal 10 s / 20 s after the failure, on the cluster and in the
  simulator alike (``BACKOFF_TOLERANCE_S``).
* A CronJob's Job comes ``nextScheduleDelta`` (100 ms) after its activation plus a sync and
  a write; both sides must create it within ``CRON_DELAY_S`` of the activation (and of the
  completion it waited for).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.scenario import Scenario, load_scenario

from labs.replay import Observer

__all__ = ["CASES", "STAGES_FILE", "Check", "Recording", "compare_case", "controller_fidelity",
           "cronjob_runs", "daemonset_rollout", "deployment_rollout", "ensure_stages", "expected_of", "finished",
           "job_backoff", "print_report", "record_real", "record_sim",
           "statefulset_order"]

ROOT = Path(__file__).resolve().parents[1]
STAGES_FILE = ROOT / "labs" / "controlplane" / "stages" / "kubesim-stages.yaml"
CASES = {"deployment": "scenarios/fidelity/deployment-rollout.yaml",
         "statefulset": "scenarios/fidelity/statefulset-ordering.yaml",
         "job": "scenarios/fidelity/job-backoff.yaml",
         "cronjob": "scenarios/fidelity/cronjob-forbid.yaml",
         "daemonset": "scenarios/fidelity/daemonset-rollout.yaml"}
REVISION = "deployment.kubernetes.io/revision"
TEMPLATE_GENERATION = "pod-template-generation"  # a DaemonSet's pods
BACKOFF_TOLERANCE_S = 1.2  # finishedAt in whole seconds (up to 1 s early) + watch and sync latency
CRON_DELAY_S = (0.1, 1.5)  # a CronJob's Job after its activation: nextScheduleDelta .. + sync, write, watch

Update = tuple[float, str, str, dict[str, Any]]  # (t, stream, ADDED/MODIFIED/DELETED, normalised object)


# ---------------------------------------------------------------------- recording
def _norm_real(stream: str, obj: dict[str, Any]) -> dict[str, Any]:
    """The fields the analyses read, from an API object as JSON."""
    meta, spec, status = obj.get("metadata") or {}, obj.get("spec") or {}, obj.get("status") or {}
    owners = [o for o in meta.get("ownerReferences") or [] if o.get("controller")]
    out: dict[str, Any] = {"name": meta.get("name", ""), "owner": owners[0]["name"] if owners else ""}
    if stream == "pod":
        conds = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
        out |= {"phase": status.get("phase", "Pending"), "ready": conds.get("Ready") == "True",
                "terminating": bool(meta.get("deletionTimestamp")), "node": spec.get("nodeName") or "",
                "generation": (meta.get("labels") or {}).get(TEMPLATE_GENERATION, "")}
    elif stream == "replicaset":
        out |= {"replicas": int(spec.get("replicas") or 0),
                "revision": int((meta.get("annotations") or {}).get(REVISION) or 0)}
    elif stream == "job":
        out |= {"failed": int(status.get("failed") or 0),
                "conditions": [(c.get("type"), c.get("status"), c.get("reason") or "")
                               for c in status.get("conditions") or []]}
    elif stream == "event":
        involved = obj.get("involvedObject") or obj.get("regarding") or {}
        out = {"name": involved.get("name", ""), "kind": involved.get("kind", ""), "owner": "",
               "reason": obj.get("reason", "")}
    return out


def _norm_sim(obj: Any) -> tuple[str, dict[str, Any]] | None:
    """(stream, fields) of a simulated object, or None for kinds not observed."""
    from sim.api.objects import Job, Pod, ReplicaSet

    owner = obj.meta.owner.name if getattr(obj.meta, "owner", None) is not None else ""
    out: dict[str, Any] = {"name": obj.meta.name, "owner": owner}
    if isinstance(obj, Pod):
        return "pod", out | {"phase": obj.phase, "ready": obj.ready, "terminating": obj.terminating,
                             "node": obj.node_name, "generation": obj.meta.labels.get(TEMPLATE_GENERATION, "")}
    if isinstance(obj, ReplicaSet):
        return "replicaset", out | {"replicas": obj.replicas, "revision": int(obj.meta.annotations.get(REVISION) or 0)}
    if isinstance(obj, Job):
        return "job", out | {"failed": obj.failed,
                             "conditions": [(c.type, c.status, c.reason) for c in obj.conditions]}
    return None


class Recording(Observer):
    """The updates of one run (either side), normalised; ``done`` ends a replay early.

    ``expected`` is what the scenario asks for: replicas by Deployment, pods by StatefulSet,
    or the Job names (``expected_of``)."""

    def __init__(self, case: str, expected: dict[str, int]) -> None:
        self.case = case
        self.expected = expected
        self.streams = {"deployment": ("replicaset",), "job": ("job",), "cronjob": ("job", "event")}.get(case, ())
        self.updates: list[Update] = []
        self.timeline_end = 0.0
        self.t0_unix: float | None = None  # the wall-clock time of t = 0 (a replay's start)

    def update(self, t: float, stream: str, etype: str, obj: dict[str, Any]) -> None:
        self.updates.append((t, stream, etype, _norm_real(stream, obj)))

    def done(self) -> bool:
        return finished(self.case, self.updates, self.expected)


def expected_of(scenario: Scenario) -> dict[str, int]:
    """Replicas of each Deployment, StatefulSet and Job (parallelism) in the scenario, the Jobs
    each CronJob must create (2: the first activation's and the skipped one's) and the nodes
    each DaemonSet must run on (every node of the scenario)."""
    nodes = scenario.node_count
    wanted = {"CronJob": 2, "DaemonSet": nodes}
    return {m["metadata"]["name"]: wanted.get(m["kind"]) or int((m.get("spec") or {}).get("replicas", 1))
            for _, _, m in scenario.manifests() if m.get("kind") in ("Deployment", "StatefulSet", "Job", "CronJob",
                                                                     "DaemonSet")}


def finished(case: str, updates: list[Update], expected: dict[str, int]) -> bool:
    """Whether everything the case measures has happened."""
    if case == "deployment":
        states = _deployment_states(updates)
        return all(states.get(name, {}).get("rolled_out") == want for name, want in expected.items())
    if case == "statefulset":
        ready = {(o["owner"], o["name"]) for _, s, _, o in updates if s == "pod" and o["ready"]}
        return all(sum(1 for owner, _ in ready if owner == name) >= want for name, want in expected.items())
    if case == "daemonset":
        pods = _last(updates, "pod")
        return all(len({p["node"] for p in pods.values() if p["owner"] == name and p["generation"] == "2"
                        and p["ready"] and not p["terminating"]}) >= want
                   and not any(p["owner"] == name and p["generation"] != "2" for p in pods.values())
                   for name, want in expected.items())
    if case == "cronjob":
        jobs = {o["name"]: o["owner"] for _, s, _, o in updates if s == "job"}
        return all(sum(1 for owner in jobs.values() if owner == name) >= want for name, want in expected.items())
    jobs = _last(updates, "job")
    return all(name in jobs and any(c[0] in ("Failed", "Complete") and c[1] == "True"
                                    for c in jobs[name]["conditions"]) for name in expected)


def _last(updates: list[Update], stream: str) -> dict[str, dict[str, Any]]:
    last: dict[str, dict[str, Any]] = {}
    for _, s, etype, obj in updates:
        if s == stream:
            if etype == "DELETED":
                last.pop(obj["name"], None)
            else:
                last[obj["name"]] = obj
    return last


def record_sim(scenario: Scenario, case: str, t0_unix: float | None = None) -> Recording:
    """Run the simulator, recording every committed change of the observed kinds (and, for
    the CronJob case, the controller's events); ``t0_unix`` sets the scenario's startTime."""
    from datetime import UTC, datetime

    from sim.engine import Simulation

    rec = Recording(case, expected_of(scenario))
    if t0_unix is not None:
        scenario = scenario.model_copy(update={"start_time": datetime.fromtimestamp(int(t0_unix), UTC)})
    rec.t0_unix = scenario.start_time.timestamp()
    sim = Simulation(scenario)
    fan_out = sim.api._fan_out

    def observe(events: list[tuple[str, Any]]) -> None:
        now = sim.env.now
        for etype, obj in events:
            norm = _norm_sim(obj)
            if norm is not None and (norm[0] == "pod" or norm[0] in rec.streams):
                rec.updates.append((now, norm[0], etype, norm[1]))
        fan_out(events)

    sim.api._fan_out = observe  # type: ignore[method-assign]
    sim.run()
    if "event" in rec.streams:  # upstream's Events are trace records here
        for row in sim.trace.events():
            if row["kind"] == "CronJob" and row["reason"]:
                rec.updates.append((row["t"], "event", "ADDED", {"name": row["name"], "kind": "CronJob",
                                                               "owner": "", "reason": row["reason"]}))
        rec.updates.sort(key=lambda u: u[0])
    rec.timeline_end = max((a.at for a in scenario.timeline), default=0.0)
    return rec


def ensure_stages(api: Any) -> None:
    """Create kubesim's KWOK stages on the cluster if they are missing (never deleted: shared)."""
    import yaml
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    from labs.cluster import LabError

    custom = client.CustomObjectsApi(api)
    for body in yaml.safe_load_all(STAGES_FILE.read_text()):
        try:
            custom.create_cluster_custom_object("kwok.x-k8s.io", "v1alpha1", "stages", body)
        except ApiException as exc:
            if exc.status == 409:
                continue
            if exc.status == 404:
                raise LabError("the cluster has no KWOK Stage CRD (stages.kwok.x-k8s.io): controller fidelity "
                               "needs the kwok-kubesim control plane (`make cluster`)") from None
            raise


def record_real(scenario: Scenario, case: str, context: str, kubeconfig: str | Path | None = None,
                allow_context: str | None = None, log: Callable[[str], None] | None = None) -> Recording:
    """Replay the scenario on the cluster, recording the same updates; stops once the case is done."""
    from labs.cluster import connect
    from labs.replay import replay

    target = connect(context, allow_context, kubeconfig)
    if target.flavor != "kwok":
        from labs.cluster import LabError

        raise LabError(f"{context} is a {target.flavor} cluster: controller fidelity needs KWOK with kubesim's "
                       "stages (readiness delay, failing pods)")
    ensure_stages(target.api)
    rec = Recording(case, expected_of(scenario))
    kwargs: dict[str, Any] = {"allow_context": allow_context, "kubeconfig": kubeconfig, "observer": rec}
    if log is not None:
        kwargs["log"] = log
    result = replay(scenario, context, **kwargs)
    rec.t0_unix = result.trace.header.get("t0_unix")
    rec.timeline_end = max((a.at for a in scenario.timeline), default=0.0)
    return rec


# ---------------------------------------------------------------------- analyses
def _deployment_states(updates: list[Update]) -> dict[str, dict[str, Any]]:
    """Per Deployment: ``rolled_out`` = the replicas of a finished rollout (new RS Ready with all
    its pods, old RSs empty and their pods gone), else False."""
    rss = _last(updates, "replicaset")
    pods = _last(updates, "pod")
    out: dict[str, dict[str, Any]] = {}
    for name in {o["owner"] for o in rss.values()}:
        mine = [o for o in rss.values() if o["owner"] == name]
        if len(mine) < 2:
            out[name] = {"rolled_out": False}
            continue
        new = max(mine, key=lambda o: o["revision"])
        olds = [o for o in mine if o is not new]
        ready = sum(1 for p in pods.values() if p["owner"] == new["name"] and p["ready"] and not p["terminating"])
        old_pods = sum(1 for p in pods.values() if any(p["owner"] == o["name"] for o in olds))
        done = sum(o["replicas"] for o in olds) == 0 and ready == new["replicas"] > 0 and old_pods == 0
        out[name] = {"rolled_out": new["replicas"] if done else False}
    return out


def deployment_rollout(updates: list[Update], deployment: str, start: float) -> dict[str, Any]:
    """The rollout of ``deployment`` from ``start`` (the image change) on.

    Returns ``steps`` (each distinct (new RS replicas, old RS replicas) in order, from the
    state at ``start``), ``deterministic_prefix`` (the steps before the first new pod
    became Ready), ``max_asked`` (largest sum of spec.replicas), ``max_pods`` (most pods
    not terminating and not finished), ``min_available`` (fewest of those Ready),
    ``overlap`` (old and new pods ever present together), ``final`` and ``duration_s`` (until
    every pod is new and Ready)."""
    rs_replicas: dict[str, int] = {}
    rs_revision: dict[str, int] = {}
    pods: dict[str, dict[str, Any]] = {}
    steps: list[tuple[int, int]] = []
    prefix: list[tuple[int, int]] | None = None
    max_asked = max_pods = 0
    min_available: int | None = None
    overlap = False
    done: float | None = None

    def current() -> tuple[int, int]:
        if not rs_revision:
            return 0, 0
        top = max(rs_revision.values())
        new = sum(n for rs, n in rs_replicas.items() if rs_revision[rs] == top and top > 1)
        return new, sum(rs_replicas.values()) - new

    for t, stream, etype, obj in updates:
        if t >= start and not steps:
            steps.append(current())  # the state the rollout starts from
        if stream == "replicaset" and obj["owner"] == deployment:
            if etype == "DELETED":
                rs_replicas.pop(obj["name"], None)
                rs_revision.pop(obj["name"], None)
            else:
                rs_replicas[obj["name"]], rs_revision[obj["name"]] = obj["replicas"], obj["revision"]
        elif stream == "pod" and obj["owner"] in rs_revision:
            if etype == "DELETED":
                pods.pop(obj["name"], None)
            else:
                pods[obj["name"]] = obj
        else:
            continue
        if t < start:
            continue
        state = current()
        if not steps or steps[-1] != state:
            steps.append(state)
        top = max(rs_revision.values()) if rs_revision else 0
        live = [p for p in pods.values() if not p["terminating"] and p["phase"] in ("Pending", "Running")]
        new_live = [p for p in live if rs_revision.get(p["owner"]) == top]
        available = sum(1 for p in live if p["ready"])
        if prefix is None and any(p["ready"] for p in new_live) and top > 1:
            prefix = list(steps)
        max_asked = max(max_asked, sum(rs_replicas.values()))
        max_pods = max(max_pods, len(live))
        min_available = available if min_available is None else min(min_available, available)
        overlap = overlap or (bool(new_live) and len(new_live) < len(live) and top > 1)
        if done is None and state[1] == 0 and len(new_live) == len(live) == state[0] > 0 \
                and all(p["ready"] for p in live):
            done = t
    return {"steps": steps, "deterministic_prefix": prefix if prefix is not None else list(steps),
            "max_asked": max_asked, "max_pods": max_pods, "min_available": min_available, "overlap": overlap,
            "final": steps[-1] if steps else None,
            "duration_s": None if done is None else round(done - start, 3)}


def statefulset_order(updates: list[Update], name: str) -> dict[str, Any]:
    """Creation and Ready order of the set's pods, and whether each waited for its predecessor."""
    created: dict[str, float] = {}
    ready: dict[str, float] = {}
    for t, stream, _etype, obj in updates:
        if stream != "pod" or obj["owner"] != name:
            continue
        created.setdefault(obj["name"], t)
        if obj["ready"] and not obj["terminating"]:
            ready.setdefault(obj["name"], t)
    order = sorted(created, key=lambda n: created[n])
    ordinal = {n: int(n.rsplit("-", 1)[1]) for n in created}
    by_ordinal = sorted(created, key=lambda n: ordinal[n])
    waited = [created[b] >= ready.get(a, float("inf")) for a, b in zip(by_ordinal, by_ordinal[1:], strict=False)]
    first_ready = min(ready.values(), default=float("inf"))
    return {"created": [ordinal[n] for n in order], "ready": [ordinal[n] for n in sorted(ready, key=ready.get)],
            "each_waited_for_previous": bool(waited) and all(waited),
            "all_created_before_first_ready": all(t < first_ready for t in created.values()),
            "creation_span_s": round(max(created.values()) - min(created.values()), 3) if created else None}


def job_backoff(updates: list[Update], name: str) -> dict[str, Any]:
    """Pods created, when each failed, the back-off before each replacement, the final condition."""
    created: dict[str, float] = {}
    failed: dict[str, float] = {}
    condition: tuple[str, str] | None = None
    condition_t: float | None = None
    for t, stream, _, obj in updates:
        if stream == "pod" and obj["owner"] == name:
            created.setdefault(obj["name"], t)
            if obj["phase"] == "Failed":
                failed.setdefault(obj["name"], t)
        elif stream == "job" and obj["name"] == name and condition is None:
            done = [(c[0], c[2]) for c in obj["conditions"] if c[0] in ("Failed", "Complete") and c[1] == "True"]
            if done:
                condition, condition_t = done[0], t
    order = sorted(created, key=lambda n: created[n])
    intervals = [round(created[b] - failed[a], 3) for a, b in zip(order, order[1:], strict=False) if a in failed]
    last_failure = max(failed.values(), default=None)
    return {"pods_created": len(order), "pods_failed": len(failed), "backoff_intervals_s": intervals,
            "condition": condition,
            "condition_after_last_failure_s": (round(condition_t - last_failure, 3)
                                               if condition_t is not None and last_failure is not None else None)}


def daemonset_rollout(updates: list[Update], name: str, start: float) -> dict[str, Any]:
    """The rollout of DaemonSet ``name`` from ``start`` (the image change): pods per node before
    it, the fewest nodes with an available pod (Ready, not terminating) at once, the most pods
    (not terminating) on one node at once, the new pods created, the final pods per node and
    when the last old pod went."""
    pods: dict[str, dict[str, Any]] = {}
    before: dict[str, int] | None = None
    fewest: int | None = None
    most = 0
    done: float | None = None
    for t, stream, etype, obj in updates:
        if stream != "pod" or obj["owner"] != name:
            continue
        if t >= start and before is None:
            before = _per_node(pods.values())
        if etype == "DELETED":
            pods.pop(obj["name"], None)
        else:
            pods[obj["name"]] = obj
        if t < start:
            continue
        live = [p for p in pods.values() if not p["terminating"] and p["phase"] in ("Pending", "Running")]
        available = {p["node"] for p in live if p["ready"] and p["node"]}
        fewest = len(available) if fewest is None else min(fewest, len(available))
        most = max([most, *_per_node(live).values()])
        if done is None and live and all(p["generation"] == "2" for p in pods.values()) and \
                all(p["ready"] for p in live) and len(available) == len(live):
            done = t
    new = {n for _, s, _, o in updates if s == "pod" and o["owner"] == name and o["generation"] == "2"
           for n in [o["name"]]}
    final = _per_node(p for p in pods.values() if not p["terminating"])
    return {"pods_per_node_before": sorted((before or {}).values()), "fewest_nodes_available": fewest,
            "most_pods_on_a_node": most, "new_pods": len(new), "pods_per_node_after": sorted(final.values()),
            "duration_s": None if done is None else round(done - start, 3)}


def _per_node(pods: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for p in pods:
        if p["node"]:
            out[p["node"]] = out.get(p["node"], 0) + 1
    return out


def cronjob_runs(updates: list[Update], name: str, t0_unix: float) -> dict[str, Any]:
    """The Jobs of CronJob ``name``: their activations (whole minutes since the epoch, from
    the names upstream gives them) relative to the first, how long after its activation each
    was created, whether an activation was skipped (JobAlreadyActive) and how long after the
    first Job completed the next one came."""
    created: dict[str, float] = {}
    completed: dict[str, float] = {}
    skipped = 0
    for t, stream, etype, obj in updates:
        if stream == "job" and obj["owner"] == name:
            created.setdefault(obj["name"], t)
            if any(c[0] == "Complete" and c[1] == "True" for c in obj["conditions"]):
                completed.setdefault(obj["name"], t)
        elif stream == "event" and obj["name"] == name and obj["reason"] == "JobAlreadyActive" and etype == "ADDED":
            skipped += 1
    order = sorted(created, key=lambda n: created[n])
    minutes = [int(n.rsplit("-", 1)[1]) for n in order]
    delays = [round(created[n] - (m * 60 - t0_unix), 3) for n, m in zip(order, minutes, strict=True)]
    after = (round(created[order[1]] - completed[order[0]], 3)
             if len(order) > 1 and order[0] in completed else None)
    return {"activations": [m - minutes[0] for m in minutes], "delays_after_activation_s": delays,
            "skipped_while_running": skipped > 0, "second_after_first_completed_s": after}


# ---------------------------------------------------------------------- comparison
@dataclass
class Check:
    """One compared figure: the simulated and real values, and whether they agree.

    ``exact`` checks must be equal; the others must agree within the stated tolerance."""

    case: str
    item: str
    figure: str
    sim: Any
    real: Any
    agree: bool
    exact: bool = True
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"case": self.case, "item": self.item, "figure": self.figure, "sim": _plain(self.sim),
                "real": _plain(self.real), "agree": self.agree, "exact": self.exact, "note": self.note}


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, default=list))


@dataclass
class CaseResult:
    """One case's analyses on both sides and the checks made of them."""

    case: str
    scenario: str
    sim: dict[str, dict[str, Any]]
    real: dict[str, dict[str, Any]]
    checks: list[Check] = field(default_factory=list)
    replay_s: float | None = None

    @property
    def agree(self) -> bool:
        return all(c.agree for c in self.checks)

    def as_dict(self) -> dict[str, Any]:
        return {"case": self.case, "scenario": self.scenario, "agree": self.agree, "replay_s": self.replay_s,
                "sim": _plain(self.sim), "real": _plain(self.real), "checks": [c.as_dict() for c in self.checks]}


def _rollout_params(scenario: Scenario) -> dict[str, tuple[int, int, int, str]]:
    """Per Deployment: (replicas, maxSurge, maxUnavailable, strategy type) as resolved upstream."""
    import math

    out = {}
    for _, _, m in scenario.manifests():
        if m.get("kind") != "Deployment":
            continue
        spec = m["spec"]
        replicas = int(spec.get("replicas", 1))
        strategy = spec.get("strategy") or {}
        kind = strategy.get("type", "RollingUpdate")
        ru = strategy.get("rollingUpdate") or {}

        def resolve(value: Any, default: str, up: bool, replicas: int = replicas) -> int:
            value = default if value is None else value
            if isinstance(value, str) and value.endswith("%"):
                exact = int(value[:-1]) * replicas / 100
                return math.ceil(exact) if up else math.floor(exact)
            return int(value)

        surge = resolve(ru.get("maxSurge"), "25%", True) if kind == "RollingUpdate" else 0
        unavailable = resolve(ru.get("maxUnavailable"), "25%", False) if kind == "RollingUpdate" else replicas
        if kind == "RollingUpdate" and surge == 0 and unavailable == 0:
            unavailable = 1
        out[m["metadata"]["name"]] = (replicas, surge, unavailable, kind)
    return out


def compare_case(case: str, scenario: Scenario, sim: Recording, real: Recording) -> CaseResult:
    """Analyse both recordings of ``case`` and check what must agree."""
    result = CaseResult(case, scenario.name, {}, {})
    add = result.checks.append
    if case == "deployment":
        start = min((a.at for a in scenario.timeline), default=0.0)
        for name, (replicas, surge, unavail, kind) in _rollout_params(scenario).items():
            a, b = deployment_rollout(sim.updates, name, start), deployment_rollout(real.updates, name, start)
            result.sim[name], result.real[name] = a, b
            deterministic = kind == "Recreate" or unavail + surge <= 1
            if deterministic:
                add(Check(case, name, "scale steps (new, old)", a["steps"], b["steps"], a["steps"] == b["steps"],
                          note="at most one new pod unready at a time: no timing can reorder the steps"
                          if kind != "Recreate" else "old to 0, wait for the old pods to go, new to full"))
            else:
                add(Check(case, name, "steps before the first new pod is Ready", a["deterministic_prefix"],
                          b["deterministic_prefix"], a["deterministic_prefix"] == b["deterministic_prefix"]))
                n_a, n_b = len(a["steps"]), len(b["steps"])
                add(Check(case, name, "number of scale steps", n_a, n_b, True, exact=False,
                          note="shown, not compared: a Ready batch may be seen at once or in parts, the more "
                               "at once the busier the machine"))
                add(Check(case, name, "scale steps (new, old)", a["steps"], b["steps"], True, exact=False,
                          note="shown, not required equal (readiness order)"))
            top = replicas + surge
            add(Check(case, name, f"max pods asked for (<= {top})", a["max_asked"], b["max_asked"],
                      a["max_asked"] == b["max_asked"] and a["max_asked"] <= top))
            add(Check(case, name, f"max pods present (<= {top})", a["max_pods"], b["max_pods"],
                      a["max_pods"] <= top and b["max_pods"] <= top, exact=False, note="both within the bound"))
            floor = 0 if kind == "Recreate" else replicas - unavail
            add(Check(case, name, f"min available (>= {floor})", a["min_available"], b["min_available"],
                      a["min_available"] == b["min_available"] and (a["min_available"] or 0) >= floor))
            if kind == "Recreate":
                add(Check(case, name, "old and new pods together", a["overlap"], b["overlap"],
                          a["overlap"] is b["overlap"] is False))
            add(Check(case, name, "final (new, old)", a["final"], b["final"],
                      a["final"] == b["final"] == (replicas, 0)))
            add(Check(case, name, "rollout duration s", a["duration_s"], b["duration_s"], True, exact=False,
                      note="timing, shown only"))
    elif case == "statefulset":
        for _, _, m in scenario.manifests():
            if m.get("kind") != "StatefulSet":
                continue
            name = m["metadata"]["name"]
            n = int(m["spec"].get("replicas", 1))
            ordered = m["spec"].get("podManagementPolicy", "OrderedReady") == "OrderedReady"
            a, b = statefulset_order(sim.updates, name), statefulset_order(real.updates, name)
            result.sim[name], result.real[name] = a, b
            if ordered:
                want = list(range(n))
                add(Check(case, name, "creation order", a["created"], b["created"],
                          a["created"] == b["created"] == want))
                add(Check(case, name, "Ready order", a["ready"], b["ready"], a["ready"] == b["ready"] == want))
                add(Check(case, name, "each created after the previous was Ready", a["each_waited_for_previous"],
                          b["each_waited_for_previous"], a["each_waited_for_previous"] is b["each_waited_for_previous"]
                          is True))
            else:
                add(Check(case, name, "all created before the first was Ready", a["all_created_before_first_ready"],
                          b["all_created_before_first_ready"],
                          a["all_created_before_first_ready"] is b["all_created_before_first_ready"] is True))
                add(Check(case, name, "first created", a["created"][:1], b["created"][:1],
                          a["created"][:1] == b["created"][:1] == [0],
                          note="slow start: a batch of 1 first, then 2, 4... created concurrently"))
                add(Check(case, name, "pods created / Ready", (len(a["created"]), len(a["ready"])),
                          (len(b["created"]), len(b["ready"])),
                          (len(a["created"]), len(a["ready"])) == (len(b["created"]), len(b["ready"])) == (n, n)))
                add(Check(case, name, "creation / Ready order", (a["created"], a["ready"]), (b["created"], b["ready"]),
                          True, exact=False, note="shown only: pods of a batch are created concurrently"))
    elif case == "daemonset":
        start = min((a.at for a in scenario.timeline), default=0.0)
        nodes = scenario.node_count
        for _, _, m in scenario.manifests():
            if m.get("kind") != "DaemonSet":
                continue
            name = m["metadata"]["name"]
            surge = bool(((m["spec"].get("updateStrategy") or {}).get("rollingUpdate") or {}).get("maxSurge"))
            a, b = daemonset_rollout(sim.updates, name, start), daemonset_rollout(real.updates, name, start)
            result.sim[name], result.real[name] = a, b
            one_each = [1] * nodes
            add(Check(case, name, "pods per node before", a["pods_per_node_before"], b["pods_per_node_before"],
                      a["pods_per_node_before"] == b["pods_per_node_before"] == one_each))
            floor = nodes if surge else nodes - 1
            add(Check(case, name, f"fewest nodes with an available pod (>= {floor})", a["fewest_nodes_available"],
                      b["fewest_nodes_available"], a["fewest_nodes_available"] == b["fewest_nodes_available"] == floor))
            top = 2 if surge else 1
            add(Check(case, name, f"most pods on one node ({top})", a["most_pods_on_a_node"], b["most_pods_on_a_node"],
                      a["most_pods_on_a_node"] == b["most_pods_on_a_node"] == top))
            add(Check(case, name, "new pods", a["new_pods"], b["new_pods"], a["new_pods"] == b["new_pods"] == nodes))
            add(Check(case, name, "pods per node after", a["pods_per_node_after"], b["pods_per_node_after"],
                      a["pods_per_node_after"] == b["pods_per_node_after"] == one_each))
            add(Check(case, name, "rollout duration s", a["duration_s"], b["duration_s"], True, exact=False,
                      note="timing, shown only"))
    elif case == "cronjob":
        low, high = CRON_DELAY_S
        for _, _, m in scenario.manifests():
            if m.get("kind") != "CronJob":
                continue
            name = m["metadata"]["name"]
            a = cronjob_runs(sim.updates, name, sim.t0_unix or 0.0)
            b = cronjob_runs(real.updates, name, real.t0_unix or 0.0)
            result.sim[name], result.real[name] = a, b
            add(Check(case, name, "Jobs' activations (minutes after the first)", a["activations"][:2],
                      b["activations"][:2], a["activations"][:2] == b["activations"][:2] == [0, 1]))
            add(Check(case, name, "activation during the first run skipped (JobAlreadyActive)",
                      a["skipped_while_running"], b["skipped_while_running"],
                      a["skipped_while_running"] is b["skipped_while_running"] is True))
            first_a, first_b = a["delays_after_activation_s"][:1], b["delays_after_activation_s"][:1]
            add(Check(case, name, "first Job after its activation s", first_a, first_b,
                      bool(first_a and first_b) and all(low <= x <= high for x in first_a + first_b), exact=False,
                      note=f"both within {low}-{high} s: nextScheduleDelta, a sync and a write"))
            add(Check(case, name, "skipped activation's Job after the first completed s",
                      a["second_after_first_completed_s"], b["second_after_first_completed_s"],
                      all(x is not None and 0 <= x <= high for x in (a["second_after_first_completed_s"],
                                                                     b["second_after_first_completed_s"])),
                      exact=False, note=f"both within {high} s: made up as soon as the completion is seen"))
    else:
        for _, _, m in scenario.manifests():
            if m.get("kind") != "Job":
                continue
            name = m["metadata"]["name"]
            limit = int(m["spec"].get("backoffLimit", 6))
            a, b = job_backoff(sim.updates, name), job_backoff(real.updates, name)
            result.sim[name], result.real[name] = a, b
            add(Check(case, name, "pods created", a["pods_created"], b["pods_created"],
                      a["pods_created"] == b["pods_created"] == limit + 1))
            add(Check(case, name, "final condition", a["condition"], b["condition"],
                      a["condition"] == b["condition"] == ("Failed", "BackoffLimitExceeded")))
            nominal = [10.0 * 2**i for i in range(limit)]
            ia, ib = a["backoff_intervals_s"], b["backoff_intervals_s"]
            ok = len(ia) == len(ib) == len(nominal) and all(
                abs(x - y) <= BACKOFF_TOLERANCE_S and abs(x - w) <= BACKOFF_TOLERANCE_S
                for x, y, w in zip(ia, ib, nominal, strict=False))
            add(Check(case, name, f"back-off after each failure s (nominal {nominal})", ia, ib, ok, exact=False,
                      note=f"within {BACKOFF_TOLERANCE_S} s: finishedAt has whole seconds upstream"))
            add(Check(case, name, "Failed condition after the last failure s", a["condition_after_last_failure_s"],
                      b["condition_after_last_failure_s"], True, exact=False, note="timing, shown only"))
    return result


def controller_fidelity(cases: list[str], context: str, kubeconfig: str | Path | None = None,
                        allow_context: str | None = None, log: Callable[[str], None] | None = None,
                        out: str | Path | None = None) -> list[CaseResult]:
    """Run each case in the simulator and on the cluster; returns one ``CaseResult`` each.

    With ``out``, ``out/<case>.json`` holds both sides' analyses and the checks."""
    import time

    results = []
    for case in cases:
        if case not in CASES:
            from labs.cluster import LabError

            raise LabError(f"unknown case {case!r}; choose from {', '.join(CASES)}")
        scenario = load_scenario(ROOT / CASES[case])
        started = time.monotonic()
        if case == "cronjob":  # the schedule is read against the wall clock: the simulation follows the replay
            real = record_real(scenario, case, context, kubeconfig, allow_context, log)
            replay_s = time.monotonic() - started
            sim = record_sim(scenario, case, real.t0_unix)
        else:
            sim = record_sim(scenario, case)
            started = time.monotonic()
            real = record_real(scenario, case, context, kubeconfig, allow_context, log)
            replay_s = time.monotonic() - started
        result = compare_case(case, scenario, sim, real)
        result.replay_s = round(replay_s, 1)
        if out is not None:
            Path(out).mkdir(parents=True, exist_ok=True)
            (Path(out) / f"{case}.json").write_text(json.dumps(result.as_dict(), indent=1) + "\n")
        results.append(result)
    return results


def _show(value: Any) -> str:
    if isinstance(value, list) and value and isinstance(value[0], tuple | list) and len(value[0]) == 2 \
            and all(isinstance(v, int) for v in value[0]):
        return " ".join(f"{a}/{b}" for a, b in value)
    if isinstance(value, tuple | list):
        return str(list(value)) if not isinstance(value, tuple) else "(" + ", ".join(_show(v) for v in value) + ")"
    return "–" if value is None else str(value)


def print_report(results: list[CaseResult], context: str) -> None:
    """One table per case: figure, simulated, real, agreement."""
    from rich.console import Console
    from rich.table import Table

    console = Console(width=160)
    for result in results:
        table = Table(title=f"{result.case}: simulator vs kube-controller-manager on {context} "
                            f"({result.scenario}, replay {result.replay_s} s)")
        for col in ("object", "figure", "sim", "real", "agree"):
            table.add_column(col, overflow="fold")
        for c in result.checks:
            mark = ("yes" if c.agree else "NO") + ("" if c.exact else " ~")
            table.add_row(c.item, c.figure, _show(c.sim), _show(c.real), mark)
        console.print(table)
        for c in result.checks:
            if c.note:
                console.print(f"  {c.item} / {c.figure}: {c.note}", highlight=False)
    console.print("steps are new/old ReplicaSet replicas; '~' marks a figure compared within a tolerance "
                  "(or only shown), the others must be equal", highlight=False)
