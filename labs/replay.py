"""``kubesim replay``: play a scenario on a real cluster and record what happened.

The same scenario file the simulator runs is played against a real control plane:

1. ``labs.cluster.connect`` checks the context is a local test cluster, reachable and
   permitted, and whether it is KWOK (fake nodes) or kind (real kubelets).
2. A namespace ``kubesim-<scenario>-<random>`` labelled ``app.kubernetes.io/managed-by=kubesim``
   receives every namespaced object; the scenario's nodes are created as KWOK fake nodes
   (or, on kind, GPU pools' extended resources are patched onto the workers) - ``labs.nodes``.
3. Once the nodes are Ready and the node lifecycle controller has lifted their
   ``node.kubernetes.io/not-ready`` taint (so a pod can land on them), that instant is
   ``t = 0``: each workload's original manifests are applied at their ``at`` and the
   timeline's ``scale`` / ``setImage`` / ``delete`` at theirs, in wall-clock seconds, with
   the official client.
4. Watches of pods, events and nodes feed ``labs.recorder.Recorder``, which writes a
   ``sim.trace.Trace`` in the simulator's schema (receive times as ``t``, the server's own
   timestamps kept in each event's ``upstream`` field).
5. The run stops at the scenario's duration (or ``--until``, or, with ``--idle``, once the
   timeline is done and nothing changed for that long); the trace, a summary from
   ``sim.metrics.trace_metrics`` and a report are written atomically to ``--out``.

Whatever happens - success, an error, Ctrl-C or SIGTERM - the namespace, the nodes it
created, the node patches and any cluster-scoped object it created are removed again
(``--keep`` leaves them for inspection).
"""

from __future__ import annotations

import json
import queue
import re
import secrets
import signal
import string
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.config import KUBERNETES_VERSION
from sim.metrics import trace_metrics
from sim.scenario import DeleteAction, ScaleAction, Scenario, SetImageAction, load_scenario
from sim.trace import Trace

from labs.cluster import LabError, Target, connect, describe_api_error, exclusive, wait_until
from labs.nodes import MANAGED_BY, REPLAY_LABEL, NodeChanges, advertise_extended_resources, register_fake_nodes
from labs.recorder import Recorder
from labs.watchers import Watcher

__all__ = ["OBSERVABLE", "Observer", "ReplayResult", "namespace_name", "replay", "scenario_namespace", "supported"]

READY_TIMEOUT_S = 60.0
# The node lifecycle controller lifts each new node's not-ready taint with a PATCH through its
# own client (20 QPS): hundreds of fake nodes take a while, so the wait grows with their number.
NODE_READY_S_PER_NODE = 0.25
CLEANUP_TIMEOUT_S = 120.0
LOCK_TIMEOUT_S = 900.0  # how long a replay waits for another one on the same cluster
SETTLED = {"ready", "failedScheduling", "deleted", "succeeded", "failed"}


# Collections an ``observer`` can ask to watch besides pods (stream name -> API class, list method).
OBSERVABLE = {
    "replicaset": ("AppsV1Api", "list_namespaced_replica_set"),
    "deployment": ("AppsV1Api", "list_namespaced_deployment"),
    "statefulset": ("AppsV1Api", "list_namespaced_stateful_set"),
    "job": ("BatchV1Api", "list_namespaced_job"),
    "cronjob": ("BatchV1Api", "list_namespaced_cron_job"),
}
WATCHED = ("pod", "event")  # always watched by a replay; an observer may ask for them too


class Observer:
    """Sees the raw watch updates of a replay, for measurements beyond the trace.

    ``streams`` names extra collections of the replay's namespace to watch (keys of
    ``OBSERVABLE``, or ``event`` for core Events); ``update`` is called on the replay's thread with every pod update and
    every update of those streams, at the same ``t`` as the trace; once the timeline is
    done, the replay stops as soon as ``done()`` is true."""

    streams: tuple[str, ...] = ()

    def update(self, t: float, stream: str, etype: str, obj: dict[str, Any]) -> None:
        """One watch update (``etype`` ADDED, MODIFIED or DELETED) received at ``t``."""

    def done(self) -> bool:
        """True once everything to be measured has happened."""
        return False


@dataclass
class ReplayResult:
    """A finished replay: its trace and summary, and where they were written."""

    trace: Trace
    summary: dict[str, Any]
    namespace: str
    out_dir: Path | None = None
    notes: list[str] = field(default_factory=list)


# What a replay reproduces on KWOK, and what it does not (``supported``).
REPLAYED_ACTIONS = frozenset({"scale", "setImage", "delete"})
UNSUPPORTED_KINDS = {
    "HorizontalPodAutoscaler": "HPA needs a metrics-server with the simulated load; the cluster has none",
    "CronJob": "the real controller reads the schedule against the wall clock, not the scenario's startTime",
    "PodGroup": "PodGroup is a scheduler-plugins CRD; the real kube-scheduler runs without Coscheduling",
    "PersistentVolumeClaim": "storage provisioning is not part of the cluster",
    "PersistentVolume": "storage provisioning is not part of the cluster",
    "StorageClass": "storage provisioning is not part of the cluster",
}
UNSUPPORTED_BEHAVIOR = {
    "rendezvous": "training rendezvous (workers wait for their peers) has no container on KWOK to wait",
    "training": "training steps and checkpoints need real containers",
    "run_duration": "pods that exit after a run time: KWOK has no container to exit",
    "failure": "failing containers: KWOK has no container to fail",
    "cpu_usage": "CPU load for an autoscaler: there is no metrics-server",
    "pod_metrics": "pod metrics for an autoscaler: there is no metrics-server",
    "external_metrics": "external metrics for an autoscaler: there is no metrics adapter",
}


def supported(scenario: str | Path | Scenario) -> tuple[bool, str]:
    """Whether ``kubesim replay`` on KWOK reproduces ``scenario``: ``(True, "")`` or ``(False, why)``.

    One rule: the real side supports a scenario when everything in it is played as-is -
    its objects are created and its timeline has only ``scale``, ``setImage`` and ``delete``.
    Unsupported are timeline faults and other actions (not injected, see ``_not_reproduced``),
    kinds the cluster cannot act on (``UNSUPPORTED_KINDS``), workload behaviours that need a
    container or a metrics pipeline (``UNSUPPORTED_BEHAVIOR``), the concurrency autoscaler
    (it scales on simulated traffic; a replay applies the objects but sends no requests),
    node-pool autoscaling (no cluster autoscaler), scheduler profiles other than the
    default (the real kube-scheduler runs its default configuration) and component flags the
    scenario changes (client QPS and burst, inflight limits, percentageOfNodesToScore)."""
    from sim.config import SchedulerConfig

    scenario = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    reasons: list[str] = []
    actions = sorted({str(getattr(a, "action", type(a).__name__)) for a in scenario.timeline} - REPLAYED_ACTIONS)
    if actions:
        reasons.append(f"timeline {', '.join(actions)}: a replay plays only scale, setImage and delete "
                       "(faults are not injected into a real cluster)")
    kinds = sorted({m.get("kind", "") for _, _, m in scenario.manifests()} & set(UNSUPPORTED_KINDS))
    reasons += [f"{kind}: {UNSUPPORTED_KINDS[kind]}" for kind in kinds]
    behaviors = [f for f in UNSUPPORTED_BEHAVIOR if any(getattr(w.behavior, f) for w in scenario.workloads)]
    reasons += [f"behavior.{f}: {UNSUPPORTED_BEHAVIOR[f]}" for f in behaviors]
    if scenario.serving.autoscalers:
        reasons.append("serving.autoscalers: the concurrency autoscaler scales on simulated traffic, and a "
                       "replay sends none")
    pools = [p.name for p in scenario.cluster.node_pools if p.autoscaling is not None]
    if pools:
        reasons.append(f"node pool(s) {', '.join(pools)} autoscale: the cluster autoscaler is not part of the cluster")
    if scenario.control_plane.scheduler.profiles != SchedulerConfig().profiles:
        reasons.append("custom scheduler profiles: the real kube-scheduler runs its default profile")
    flags = _control_plane_flags(scenario)
    if flags:
        reasons.append(f"controlPlane {', '.join(flags)}: the real control plane runs with its own flags")
    return (not reasons, "; ".join(reasons))


def scenario_namespace(scenario: Any) -> str:
    """The one namespace of a scenario's namespaced objects and timeline targets, which the
    replay's namespace stands for in its trace; '' when there are several. Cluster-scoped
    objects (PriorityClass, StorageClass) have none and do not count."""
    namespaces = {ns for _, ns, _ in scenario.manifests() if ns}
    namespaces |= {a.namespace for a in scenario.timeline if getattr(a, "namespace", "")}  # faults have none
    return next(iter(namespaces)) if len(namespaces) == 1 else ""


# Control-plane settings that are flags of the real components: a scenario that changes them
# describes another cluster than the one a replay runs on (timings stay the model's own).
_FLAG_FIELDS = {"apiServer": ("api_server", ("max_requests_inflight", "max_mutating_requests_inflight")),
                "controllerManager": ("controller_manager", ("qps", "burst")),
                "scheduler": ("scheduler", ("qps", "burst", "percentage_of_nodes_to_score"))}


def _control_plane_flags(scenario: Scenario) -> list[str]:
    """``section.field`` for each component flag the scenario sets away from its default."""
    from sim.config import ControlPlane

    default, ours = ControlPlane(), scenario.control_plane
    changed = []
    for section, (attr, fields) in _FLAG_FIELDS.items():
        for name in fields:
            if getattr(getattr(ours, attr), name) != getattr(getattr(default, attr), name):
                camel = name.split("_")[0] + "".join(w.title() for w in name.split("_")[1:])
                changed.append(f"{section}.{camel}")
    return changed


def namespace_name(scenario: str, suffix: str | None = None) -> str:
    """``kubesim-<scenario>-<5 random chars>``, a valid namespace name of at most 63 chars."""
    suffix = suffix or "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(5))
    slug = re.sub(r"[^a-z0-9]+", "-", scenario.lower()).strip("-")[: 63 - len("kubesim--") - len(suffix)]
    return f"kubesim-{slug.strip('-') or 'scenario'}-{suffix}"


NOT_SCHEDULABLE_TAINTS = frozenset({"node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"})


def _schedulable(node: dict[str, Any]) -> bool:
    """A node (raw JSON) is Ready and carries no not-ready/unreachable taint."""
    ready = any(c.get("type") == "Ready" and c.get("status") == "True"
                for c in (node.get("status") or {}).get("conditions") or [])
    taints = (node.get("spec") or {}).get("taints") or []
    return ready and not any(t.get("key") in NOT_SCHEDULABLE_TAINTS for t in taints)


def _stderr(message: str) -> None:
    print(f"kubesim: {message}", file=sys.stderr, flush=True)


class _Replay:
    """One replay's state; ``run`` drives it, ``cleanup`` undoes it."""

    def __init__(self, scenario: Scenario, target: Target, duration: float, idle: float | None,
                 log: Callable[[str], None], observer: Observer | None = None) -> None:
        from kubernetes import client

        self.scenario, self.target, self.duration, self.idle, self.log = scenario, target, duration, idle, log
        self.observer = observer
        self.core = client.CoreV1Api(target.api)
        self.namespace = namespace_name(scenario.name)
        self.ns_created = False
        self.nodes = NodeChanges(replay_id=self.namespace)
        self.cluster_scoped: list[tuple[Any, str]] = []  # (dynamic resource, name) created
        self.queue: queue.Queue[tuple[str, float, str, dict[str, Any]]] = queue.Queue()
        self.watchers: list[Watcher] = []
        self.notes: list[str] = []
        self.t0 = 0.0  # time.monotonic() at t = 0
        manifests = scenario.manifests()
        self.scenario_ns = scenario_namespace(scenario)
        header = {"scenario": scenario.name, "seed": scenario.seed, "source": "real", "context": target.context,
                  "cluster": target.flavor, "namespace": self.namespace, "kubernetesVersion": target.version,
                  "modelVersion": KUBERNETES_VERSION, "duration_s": duration,
                  "clock": "t = watch receive time - t0 (nodes Ready); 'upstream' = the server's timestamp"}
        self.trace = Trace(header)
        self.recorder = Recorder(self.trace, {self.namespace: self.scenario_ns} if self.scenario_ns else {})
        self.manifests = manifests
        self._dynamic: Any = None

    # ------------------------------------------------------------------ set-up
    @property
    def dynamic(self) -> Any:
        if self._dynamic is None:
            from kubernetes.dynamic import DynamicClient

            self._dynamic = DynamicClient(self.target.api)
        return self._dynamic

    def setup(self) -> None:
        from kubernetes import client
        from kubernetes.client.exceptions import ApiException

        labels = {MANAGED_BY[0]: MANAGED_BY[1], "kubesim.io/scenario": self.namespace[len("kubesim-"):-6]}
        body = client.V1Namespace(metadata=client.V1ObjectMeta(name=self.namespace, labels=labels))
        self.core.create_namespace(body)
        self.ns_created = True
        self.log(f"namespace {self.namespace} created on {self.target.context} ({self.target.flavor}, "
                 f"{self.target.version})")
        clock = time.monotonic
        ns = self.namespace
        self.watchers = [Watcher("pod", self.core.list_namespaced_pod, {"namespace": ns}, self.queue, clock),
                         Watcher("event", self.core.list_namespaced_event, {"namespace": ns}, self.queue, clock)]
        if self.observer is not None:
            from kubernetes import client

            for stream in (s for s in self.observer.streams if s not in WATCHED):
                api_class, method = OBSERVABLE[stream]
                list_fn = getattr(getattr(client, api_class)(self.target.api), method)
                self.watchers.append(Watcher(stream, list_fn, {"namespace": ns}, self.queue, clock))
        if self.target.flavor == "kwok":
            self.watchers.append(Watcher("node", self.core.list_node, {"label_selector": f"{REPLAY_LABEL}={ns}"},
                                         self.queue, clock))
            names = register_fake_nodes(self.core, self.scenario, self.nodes)
            others = [n.metadata.name for n in self.core.list_node(label_selector=f"{REPLAY_LABEL}!={ns}").items]
            if others:
                self.notes.append(f"{len(others)} other node(s) on the cluster can also receive pods "
                                  f"(e.g. {others[0]}); placements may differ from the simulation")
            self.log(f"{len(names)} fake nodes registered; waiting for kwok to make them Ready and the node "
                     "lifecycle controller to lift their not-ready taint")
            started = time.monotonic()
            wait_until(f"{len(names)} fake nodes to become Ready and untainted", lambda: self._nodes_ready(names),
                       READY_TIMEOUT_S + NODE_READY_S_PER_NODE * len(names),
                       " (is kwok running? `labs/controlplane/cluster.sh status`)")
            self.log(f"{len(names)} nodes schedulable after {time.monotonic() - started:.1f}s")
        else:
            self.notes += advertise_extended_resources(self.core, self.scenario, self.nodes)
        for watcher in self.watchers:
            watcher.start()

        def service_account() -> bool:
            try:
                self.core.read_namespaced_service_account("default", ns)
                return True
            except ApiException as exc:
                if exc.status != 404:
                    raise
                return False

        wait_until(f"ServiceAccount default in namespace {ns}", service_account, READY_TIMEOUT_S,
                   " (is kube-controller-manager running?)")
        wait_until("the watches' initial lists", lambda: all(w.synced.is_set() for w in self.watchers),
                   READY_TIMEOUT_S)

    def _nodes_ready(self, names: list[str]) -> bool:
        """Every node Ready and free of the not-ready/unreachable taints.

        A new node is created tainted ``node.kubernetes.io/not-ready:NoSchedule``; the node
        lifecycle controller lifts the taint some time after the kubelet (here kwok) reports
        Ready. Until then the scheduler leaves pods Pending, which the simulation's nodes -
        schedulable from their first instant - never do, so ``t = 0`` waits for both.
        """
        # raw JSON: deserialising hundreds of nodes into client models takes far longer
        response = self.core.list_node(label_selector=f"{REPLAY_LABEL}={self.namespace}", _preload_content=False)
        ready = sum(_schedulable(n) for n in json.loads(response.data).get("items") or [])
        return ready >= len(names)

    # ------------------------------------------------------------------ the run
    def clock(self) -> float:
        return time.monotonic() - self.t0

    def drain(self, timeout: float) -> None:
        """Record queued watch updates, waiting up to ``timeout`` for the first."""
        handlers = {"pod": self.recorder.pod, "event": self.recorder.event, "node": self.recorder.node}
        observer = self.observer
        try:
            item = self.queue.get(timeout=max(timeout, 0.0)) if timeout > 0 else self.queue.get_nowait()
            while True:
                stream, t, etype, obj = item
                if stream in handlers:
                    handlers[stream](t - self.t0, etype, obj)
                if observer is not None and (stream == "pod" or stream in observer.streams):
                    observer.update(t - self.t0, stream, etype, obj)
                item = self.queue.get_nowait()
        except queue.Empty:
            return

    def run(self) -> None:
        self.t0 = time.monotonic()
        self.trace.header["t0_unix"] = round(time.time(), 6)
        steps: list[tuple[float, int, Any]] = [(at, i, (ns, m)) for i, (at, ns, m) in enumerate(self.manifests)]
        steps += [(a.at, len(steps) + i, a) for i, a in enumerate(self.scenario.timeline)]
        steps.sort(key=lambda s: (s[0], s[1]))
        last_step = 0.0
        self.log(f"replaying {self.scenario.name} for up to {self.duration:g}s "
                 f"({len(self.manifests)} objects, {len(self.scenario.timeline)} timeline actions)")
        while True:
            now = self.clock()
            if now >= self.duration:
                break
            if steps and steps[0][0] <= now:
                _, _, step = steps.pop(0)
                if isinstance(step, ScaleAction | SetImageAction | DeleteAction):
                    self._act(step)
                elif isinstance(step, tuple):
                    self._apply(*step)
                else:
                    self._not_reproduced(step)
                last_step = self.clock()
                continue
            if not steps and self.observer is not None and self.observer.done():
                self.log(f"the observer is done at t={now:.1f}s")
                break
            if not steps and self.idle is not None and self._settled(max(last_step, self.recorder.last_change)):
                self.log(f"settled at t={now:.1f}s (no change for {self.idle:g}s)")
                break
            until = min(steps[0][0] if steps else self.duration, self.duration)
            poll = self.idle is not None or self.observer is not None
            self.drain(min(until - now, 0.1 if poll else until - now))
        self.drain(0)
        self.trace.header["replayed_s"] = round(self.clock(), 3)
        for watcher in self.watchers:
            self.notes += [f"{watcher.stream} watch: {e}" for e in watcher.errors[:3]]

    def _not_reproduced(self, fault: Any) -> None:
        """Faults (sim.faults) are recorded as skipped: a replay changes no component of the cluster."""
        name = str(getattr(fault, "action", type(fault).__name__))
        self.trace.record(self.clock(), "Timeline", "", name, name, "", "", "")
        self.trace.record(self.clock(), "Timeline", "", name, "skipped", "", "NotReproduced",
                          f"kubesim replay does not inject {name} into a real cluster")
        note = f"timeline fault {name} was not reproduced (the simulated run has it)"
        if note not in self.notes:
            self.notes.append(note)

    def _settled(self, last: float) -> bool:
        if self.clock() - last < (self.idle or 0):
            return False
        return all(done & SETTLED for done in self.recorder.pod_states().values())

    def _apply(self, scenario_ns: str, manifest: dict[str, Any]) -> None:
        from kubernetes.client.exceptions import ApiException
        from kubernetes.dynamic.exceptions import ResourceNotFoundError

        kind, name = manifest.get("kind", ""), (manifest.get("metadata") or {}).get("name", "")
        try:
            resource = self.dynamic.resources.get(api_version=manifest.get("apiVersion"), kind=kind)
        except ResourceNotFoundError:
            raise LabError(f"the server does not serve {manifest.get('apiVersion')} {kind} (needed by {kind} "
                           f"{name} of {self.scenario.source})") from None
        body = json.loads(json.dumps(manifest))
        meta = body.setdefault("metadata", {})
        try:
            if resource.namespaced:
                meta["namespace"] = self.namespace
                created = resource.create(body=body, namespace=self.namespace)
            else:
                if self._exists(resource, name):
                    raise LabError(f"{kind} {name!r} already exists on the cluster; a replay only creates "
                                   "cluster-scoped objects it can delete afterwards")
                meta.setdefault("labels", {}).update({MANAGED_BY[0]: MANAGED_BY[1], REPLAY_LABEL: self.namespace})
                created = resource.create(body=body)
                self.cluster_scoped.append((resource, name))
        except ApiException as exc:
            raise LabError(f"the server rejected {kind} {name!r} from {self.scenario.source}: "
                           f"{describe_api_error(exc)}") from None
        if kind != "Pod":
            stamp = str(created.metadata.creationTimestamp or "")
            self.trace.record(self.clock(), kind, scenario_ns if resource.namespaced else "", name, "created",
                              upstream=stamp)

    def _exists(self, resource: Any, name: str) -> bool:
        return any(item.metadata.name == name for item in resource.get().items)

    def _resource_of(self, kind: str, scenario_ns: str, name: str) -> Any:
        for _, ns, manifest in self.manifests:
            meta = manifest.get("metadata") or {}
            if manifest.get("kind") == kind and meta.get("name") == name and ns == scenario_ns:
                return self.dynamic.resources.get(api_version=manifest["apiVersion"], kind=kind)
        raise LabError(f"timeline target {kind}/{name} is not one of the scenario's objects")

    def _act(self, action: ScaleAction | SetImageAction | DeleteAction) -> None:
        from kubernetes.client.exceptions import ApiException

        kind, scenario_ns, name = action.target_key
        resource = self._resource_of(kind, scenario_ns, name)
        ns = self.namespace if resource.namespaced else None
        describe = (f"replicas={action.replicas}" if isinstance(action, ScaleAction) else
                    f"image={action.image}" if isinstance(action, SetImageAction) else "")
        self.recorder.action(self.clock(), action.namespace, action.target, action.action, describe)
        try:
            if isinstance(action, ScaleAction):
                resource.patch(name=name, namespace=ns, body={"spec": {"replicas": action.replicas}},
                               content_type="application/merge-patch+json")
            elif isinstance(action, SetImageAction):
                current = resource.get(name=name, namespace=ns)
                containers = [c["name"] for c in current.to_dict()["spec"]["template"]["spec"]["containers"]]
                container = action.container or containers[0]
                patch = {"spec": {"template": {"spec": {"containers": [{"name": container, "image": action.image}]}}}}
                resource.patch(name=name, namespace=ns, body=patch,
                               content_type="application/strategic-merge-patch+json")
            else:
                resource.delete(name=name, namespace=ns)
        except ApiException as exc:
            if exc.status == 404:
                self.recorder.skipped(self.clock(), action.namespace, action.target, f"{action.target} does not exist")
                return
            raise LabError(f"the server rejected {action.action} of {action.target}: "
                           f"{describe_api_error(exc)}") from None

    # ------------------------------------------------------------------ tear-down
    def cleanup(self) -> list[str]:
        """Undo everything; returns the problems met (each already one line)."""
        from kubernetes.client.exceptions import ApiException

        problems = []
        for watcher in self.watchers:
            watcher.stop()
        for resource, name in reversed(self.cluster_scoped):
            try:
                resource.delete(name=name)
            except ApiException as exc:
                if exc.status != 404:
                    problems.append(f"deleting {resource.kind} {name}: {describe_api_error(exc)}")
        if self.ns_created:
            try:
                self.core.delete_namespace(self.namespace)
                # Pods get their grace period from the namespace controller; zero is faster
                # and, on kwok, changes nothing else (there is no process to stop).
                # The namespace controller then removes the namespace itself within seconds; only
                # the pods must be gone before their (fake) nodes are deleted.
                self.core.delete_collection_namespaced_pod(self.namespace, grace_period_seconds=0)
                wait_until(f"the pods of namespace {self.namespace} to be deleted", self._pods_gone, CLEANUP_TIMEOUT_S)
            except (ApiException, LabError) as exc:
                problems.append(str(exc) if isinstance(exc, LabError) else describe_api_error(exc))
        problems += self.nodes.undo(self.core)
        return problems

    def _pods_gone(self) -> bool:
        return not self.core.list_namespaced_pod(self.namespace, limit=1).items


def _on_sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def replay(scenario: str | Path | Scenario, context: str, out: str | Path | None = None,
           allow_context: str | None = None, until: float | None = None, idle: float | None = None,
           kubeconfig: str | Path | None = None, keep: bool = False,
           log: Callable[[str], None] = _stderr, wait_for_lock: float = LOCK_TIMEOUT_S,
           observer: Observer | None = None) -> ReplayResult:
    """Replay ``scenario`` on ``context``; writes ``out`` (if given) and always cleans up.

    ``observer`` (an ``Observer``) also receives the raw watch updates and may end the run early.

    Raises:
        LabError: one line for the user (the CLI exits 2).
        KeyboardInterrupt: on Ctrl-C or SIGTERM, after cleaning up.
    """
    from labs.report import write_replay

    scenario = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    target = connect(context, allow_context, kubeconfig)
    duration = min(scenario.duration, until) if until else scenario.duration
    started = time.monotonic()
    run = _Replay(scenario, target, duration, idle, log, observer)
    node_count = 0
    main_thread = threading.current_thread() is threading.main_thread()
    old_term = signal.signal(signal.SIGTERM, _on_sigterm) if main_thread else None
    try:
        with exclusive(target, wait_for_lock, log):
            try:
                run.setup()
                node_count = len(run.nodes.created)
                run.run()
            finally:
                old_int = signal.signal(signal.SIGINT, signal.SIG_IGN) if main_thread else None
                try:
                    _finish(run, keep, log)
                finally:
                    if main_thread:
                        signal.signal(signal.SIGINT, old_int)
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, old_term)
    trace = run.trace
    summary: dict[str, Any] = {
        "scenario": scenario.name, "source": "real", "context": target.context, "cluster": target.flavor,
        "namespace": run.namespace, "kubernetes_version": target.version, "seed": None,
        "replayed_s": trace.header.get("replayed_s"), "wall_time_s": round(time.monotonic() - started, 3),
        "nodes": node_count if target.flavor == "kwok" else None, **trace_metrics(trace),
    }
    result = ReplayResult(trace, summary, run.namespace, None, run.notes)
    if out is not None:
        write_replay(out, trace, summary, scenario, run.notes)
        result.out_dir = Path(out)
    return result


def _finish(run: _Replay, keep: bool, log: Callable[[str], None]) -> None:
    if keep:
        log(f"--keep: left namespace {run.namespace} and {len(run.nodes.created)} nodes in place")
        return
    log(f"cleaning up namespace {run.namespace} and {len(run.nodes.created) + len(run.nodes.patched)} node(s)")
    for problem in run.cleanup():
        log(f"warning: cleanup: {problem}")
