"""Deployment rollouts end to end through the API server: bounds, scaling, deadline, rollback."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sim.engine import Result, run
from sim.scenario import scenario_from_text


def scenario(timeline: str = "", replicas: int = 10, strategy: str = "", extra_spec: str = "",
             duration: str = "20m") -> str:
    """A 10-replica Deployment ``web`` of image web:1 whose web:2 never becomes ready."""
    return f"""
name: rollout
duration: {duration}
cluster:
  nodePools:
  - {{name: w, count: 6, capacity: {{cpu: "8", memory: 16Gi}}}}
workloads:
- name: web
  manifests:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {{name: web}}
    spec:
      replicas: {replicas}
      selector: {{matchLabels: {{app: web}}}}
      {strategy}
      {extra_spec}
      template:
        metadata: {{labels: {{app: web}}}}
        spec:
          containers:
          - {{name: c, image: "web:1", resources: {{requests: {{cpu: 100m}}}}, readinessProbe: {{periodSeconds: 2}}}}
  behavior:
    imageSize: 20Mi
    readiness: {{dist: uniform, low: 5s, high: 15s}}
    images:
      "web:2": {{neverReady: true}}
timeline:
{timeline}
"""


def replica_sets(result: Result) -> dict[str, tuple[str, int]]:
    """Final {RS name: (image, spec.replicas)} of the run."""
    return {rs.meta.name: (rs.template.spec.containers[0].image, rs.replicas)
            for rs in result.simulation.api.store.list("ReplicaSet")}


def deployment_events(result: Result) -> pd.DataFrame:
    df = result.to_frame()
    return df[df["kind"] == "Deployment"]


def counts_over_time(pods: pd.DataFrame, start: float, end: float, step: float = 0.5) -> tuple[Any, Any]:
    """Active pods (created, not terminating) and available pods (ready, not terminating) over time."""
    t = np.arange(start, end, step)
    created = pods["created"].to_numpy()[:, None]
    terminating = pods["terminating"].fillna(np.inf).to_numpy()[:, None]
    ready = pods["ready"].fillna(np.inf).to_numpy()[:, None]
    return ((created <= t) & (terminating > t)).sum(axis=0), ((ready <= t) & (terminating > t)).sum(axis=0)


def test_rolling_update_keeps_between_8_available_and_13_pods() -> None:
    """10 replicas at 25%/25%: never more than 13 active pods nor fewer than 8 available."""
    text = scenario("- {at: 2m, action: setImage, target: deployment/web, image: 'web:3'}", duration="8m")
    result = run(scenario_from_text(text))
    pods = result.pods()
    assert len(pods) == 20  # 10 old + 10 new
    total, available = counts_over_time(pods, 100, 480)
    assert total.max() <= 13
    assert available.min() >= 8
    survivors = pods[pods["deleted"].isna()]
    assert len(survivors) == 10
    assert survivors["ready"].notna().all()
    assert total.max() == 13  # the surge was actually used


def test_scaling_mid_rollout_is_proportional() -> None:
    """Stalled at old 8 / new 5, a scale to 15 gives old 12 / new 7 (sync.py's worked example)."""
    text = scenario("- {at: 1m, action: setImage, target: deployment/web, image: 'web:2'}\n"
                    "- {at: 3m, action: scale, target: deployment/web, replicas: 15}", duration="5m")
    result = run(scenario_from_text(text))
    sizes = sorted(replica_sets(result).values())
    assert sizes == [("web:1", 12), ("web:2", 7)]
    scaled = result.to_frame().query("event == 'scaled' and t >= 180")
    assert len(scaled) == 2  # one write per ReplicaSet, no rollout step in between


def test_bad_version_exceeds_progress_deadline_and_rollback_restores() -> None:
    """A version that never becomes ready times out 600 s after the last progress; undo brings v1 back."""
    text = scenario("- {at: 1m, action: setImage, target: deployment/web, image: 'web:2'}\n"
                    "- {at: 13m, action: rollback, target: deployment/web}")
    result = run(scenario_from_text(text))
    events = deployment_events(result)
    last_progress = events.query("t < 700 and reason == 'ReplicaSetUpdated'")["t"].max()
    exceeded = events.query("event == 'progressDeadlineExceeded'")
    assert len(exceeded) == 1
    assert exceeded["reason"].iloc[0] == "ProgressDeadlineExceeded"
    # requeued at lastUpdateTime + 600 s + 1 s, then one watch/sync round trip
    assert last_progress + 600 < exceeded["t"].iloc[0] < last_progress + 602
    rolled = events.query("event == 'rolledBack'")
    assert rolled["message"].tolist() == ['Rolled back deployment "web" to revision 1']
    assert sorted(replica_sets(result).values()) == [("web:1", 10), ("web:2", 0)]
    d = result.simulation.api.store.get("Deployment", "default", "web")
    assert d.template.spec.containers[0].image == "web:1"
    assert d.meta.annotations["deployment.kubernetes.io/revision"] == "3"
    assert d.condition("Progressing").reason == "NewReplicaSetAvailable"
    assert d.available_replicas == 10


def test_rollback_to_revision_and_unchanged_template() -> None:
    """toRevision picks a specific ReplicaSet; rolling back onto the running template is skipped."""
    text = scenario("- {at: 1m, action: setImage, target: deployment/web, image: 'web:3'}\n"
                    "- {at: 3m, action: setImage, target: deployment/web, image: 'web:4'}\n"
                    "- {at: 5m, action: rollback, target: deployment/web, toRevision: 1}\n"
                    "- {at: 7m, action: rollback, target: deployment/web, toRevision: 4}", duration="9m")
    result = run(scenario_from_text(text))
    events = deployment_events(result)
    assert events.query("event == 'rolledBack'")["message"].tolist() == [
        'Rolled back deployment "web" to revision 1']
    assert events.query("event == 'rollbackSkipped'")["reason"].tolist() == ["DeploymentRollbackTemplateUnchanged"]
    images = {image: n for image, n in replica_sets(result).values()}
    assert images == {"web:1": 10, "web:3": 0, "web:4": 0}


def test_recreate_never_overlaps_old_and_new_pods() -> None:
    """Recreate: every old pod is gone before the first new pod is created."""
    text = scenario("- {at: 2m, action: setImage, target: deployment/web, image: 'web:3'}",
                    strategy="strategy: {type: Recreate}", duration="5m")
    result = run(scenario_from_text(text))
    pods = result.pods()
    old = pods[pods["created"] < 120]
    new = pods[pods["created"] >= 120]
    assert len(old) == 10
    assert len(new) == 10
    assert old["deleted"].max() < new["created"].min()
    assert new["ready"].notna().all()


def test_pause_stops_the_rollout_and_resume_continues() -> None:
    """Paused mid-way (old 8, new 5), nothing moves although new pods turn ready; resume finishes."""
    text = scenario("- {at: 1m, action: setImage, target: deployment/web, image: 'web:3'}\n"
                    "- {at: 70s, action: pause, target: deployment/web}\n"
                    "- {at: 4m, action: resume, target: deployment/web}", duration="7m")
    result = run(scenario_from_text(text))
    df = result.to_frame()
    scaled = df.query("event == 'scaled'")
    before = scaled.query("t < 70")["message"].str.extract(r"to (\d+)$")[0].astype(int).tolist()
    assert before == [8, 5]  # old 10 -> 8, new 3 -> 5: the first steps of the rollout
    assert scaled.query("70 < t < 240").empty
    assert not df.query("kind == 'Pod' and event == 'ready' and 70 < t < 240").empty  # new pods turned ready meanwhile
    assert not scaled.query("t >= 240").empty
    events = deployment_events(result)
    assert events.query("event in ['paused', 'resumed']")["reason"].tolist() == [
        "DeploymentPaused", "DeploymentResumed"]
    assert sorted(replica_sets(result).values()) == [("web:1", 0), ("web:3", 10)]


def test_revision_history_limit_deletes_old_replica_sets() -> None:
    """revisionHistoryLimit 1: after three rollouts only the current RS and one old one remain."""
    text = scenario("- {at: 1m, action: setImage, target: deployment/web, image: 'web:3'}\n"
                    "- {at: 3m, action: setImage, target: deployment/web, image: 'web:4'}\n"
                    "- {at: 5m, action: setImage, target: deployment/web, image: 'web:5'}",
                    extra_spec="revisionHistoryLimit: 1", duration="8m")
    result = run(scenario_from_text(text))
    assert sorted(replica_sets(result).values()) == [("web:4", 0), ("web:5", 10)]


def test_min_ready_seconds_slows_the_rollout() -> None:
    """minReadySeconds 30: old pods go only after new ones have been ready for 30 s."""
    text = scenario("- {at: 1m, action: setImage, target: deployment/web, image: 'web:3'}",
                    extra_spec="minReadySeconds: 30", duration="10m")
    result = run(scenario_from_text(text))
    pods = result.pods()
    new = pods[pods["created"] >= 60]
    old = pods[pods["created"] < 60]
    first_ready = new["ready"].min()
    # the first old pods go right away (8 of 10 may be unavailable... no: 2 surge, 2 unavailable)
    late = old[old["terminating"] > 61]
    assert (late["terminating"] >= first_ready + 30).all()
    assert len(late) == 8


def test_serving_rollout_scenario_tells_its_story() -> None:
    """scenarios/serving-rollout.yaml: v2 rolls out keeping 6 of 8 ready, the broken v3 times out, undo restores v2."""
    from sim import load_scenario

    result = run(load_scenario("scenarios/serving-rollout.yaml"))
    pods = result.pods()
    _, available = counts_over_time(pods, 150, 530)  # the v1 -> v2 rollout
    assert available.min() >= 6
    events = deployment_events(result)
    exceeded = events.query("event == 'progressDeadlineExceeded'")["t"].tolist()
    assert len(exceeded) == 1
    assert 540 + 300 < exceeded[0] < 960
    assert events.query("event == 'rolledBack'")["message"].tolist() == [
        'Rolled back deployment "model-server" to revision 2']
    images = sorted(replica_sets(result).values())
    assert images == [("registry.k8s.io/pause:3.10", 8), ("registry.k8s.io/pause:3.10-broken", 0),
                      ("registry.k8s.io/pause:3.9", 0)]


def test_scaling_past_the_progress_deadline_requeues_at_the_rate_limiters_pace() -> None:
    """Scaled up 10 minutes after its rollout completed (its Progressing condition is older than
    progressDeadlineSeconds), a Deployment waiting for new pods gets a progress check "now" after
    every sync: kube-controller-manager rate-limits those (the 100-token burst, then 10 per
    second), so the ~12 s the new pods take cost at most 100 + 10 x 12 syncs, not one per 5 ms."""
    from sim.engine import Simulation

    text = scenario("- {at: 10m, action: scale, target: deployment/web, replicas: 12}",
                    extra_spec="progressDeadlineSeconds: 60", duration="12m")
    sim = Simulation(scenario_from_text(text))
    controller = sim.deployment_controller
    syncs: list[float] = []
    original = controller.sync

    def counted(key):  # type: ignore[no-untyped-def]
        syncs.append(sim.env.now)
        return original(key)

    controller.sync = counted
    result = sim.run()
    waiting = [t for t in syncs if t >= 600]
    ready = result.pods()["ready"].dropna()
    last_ready = float(ready.max())
    assert last_ready > 605  # the new pods took a while
    assert 100 < len(waiting) <= 100 + 10 * (last_ready - 600) + 20
