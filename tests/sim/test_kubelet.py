"""Kubelet timing: readiness probes, serialised image pulls and the image cache; container
exits, CrashLoopBackOff restarts and the terminal phase of deleted pods."""

from __future__ import annotations

import pytest

from sim.engine import run
from sim.kubelet import probe_ready_time, restart_backoff
from sim.scenario import scenario_from_text


@pytest.mark.parametrize(("worker", "started", "warmup", "delay", "period", "threshold", "expected"), [
    (0.0, 0.0, 0.0, 0.0, 10.0, 1, 0.0),     # probe at the worker's first tick
    (0.0, 3.0, 0.0, 0.0, 10.0, 1, 10.0),    # container started after tick 0: next tick
    (0.0, 3.0, 0.0, 10.0, 10.0, 1, 20.0),   # initialDelay 10 s after start: tick at 20
    (0.0, 1.0, 25.0, 0.0, 5.0, 1, 30.0),    # warm-up until 26 s: tick at 30
    (0.0, 1.0, 25.0, 0.0, 5.0, 3, 40.0),    # three successes needed: 30, 35, 40
    (2.0, 2.0, 0.0, 0.0, 10.0, 1, 2.0),
], ids=["immediate", "next-tick", "initial-delay", "warmup", "success-threshold", "offset-worker"])
def test_probe_ready_time(worker: float, started: float, warmup: float, delay: float, period: float,
                          threshold: int, expected: float) -> None:
    """Ready at the first probe tick after both initialDelaySeconds and the app's warm-up."""
    assert probe_ready_time(worker, started, warmup, delay, period, threshold) == pytest.approx(expected)


PULLS = """
name: pulls
duration: 5m
controlPlane:
  kubelet:
    registryBandwidth: 10Mi
    imagePullOverhead: 0s
    sandboxStart: 0s
cluster:
  nodePools:
  - {name: w, count: 1, capacity: {cpu: "8", memory: 16Gi}}
workloads:
- name: a
  manifests:
  - {apiVersion: v1, kind: Pod, metadata: {name: a}, spec: {containers: [{name: c, image: "img-a:1"}]}}
  behavior: {imageSize: 100Mi, containerStart: 0s}
- name: b
  manifests:
  - {apiVersion: v1, kind: Pod, metadata: {name: b}, spec: {containers: [{name: c, image: "img-b:1"}]}}
  behavior: {imageSize: 50Mi, containerStart: 0s}
- name: c
  at: 60s
  manifests:
  - {apiVersion: v1, kind: Pod, metadata: {name: c}, spec: {containers: [{name: c, image: "img-a:1"}]}}
  behavior: {imageSize: 100Mi, containerStart: 0s}
"""


def test_pulls_are_serialised_and_cached() -> None:
    """Two images on one node pull one after the other; a later pod reuses the cached image."""
    pods = run(scenario_from_text(PULLS)).pods().set_index("name")
    own = {"a": 10.0, "b": 5.0}  # 100 MiB and 50 MiB at 10 MiB/s
    first, second = sorted(own, key=lambda name: pods.loc[name, "pulled"])
    assert pods.loc[first, "pulled"] - pods.loc[first, "pulling"] == pytest.approx(own[first], abs=0.01)
    # the second asked at about the same time but waited for the first pull to finish
    waited = pods.loc[second, "pulled"] - pods.loc[second, "pulling"]
    assert waited == pytest.approx(own[first] + own[second], abs=0.05)
    # c's image is present (IfNotPresent for a tagged image): no Pulling event
    assert pods.loc["c", "pulling"] != pods.loc["c", "pulling"]  # NaN
    assert pods.loc["c", "pulled"] >= 60


@pytest.mark.parametrize(("backoff", "last", "exited", "expected"), [
    (None, 0.0, 5.0, (0.0, 10.0)),       # first exit: restart at once, back-off now 10 s
    (10.0, 5.0, 20.0, (10.0, 20.0)),     # second exit: wait 10 s
    (20.0, 30.0, 45.0, (20.0, 40.0)),
    (160.0, 100.0, 200.0, (160.0, 300.0)),
    (300.0, 100.0, 200.0, (300.0, 300.0)),  # capped at 5 minutes
    (300.0, 100.0, 701.0, (0.0, 10.0)),  # ran over 10 minutes since its restart: reset
], ids=["first", "second", "third", "reaches-cap", "capped", "reset-after-long-run"])
def test_restart_backoff(backoff: float | None, last: float, exited: float, expected: tuple[float, float]) -> None:
    """CrashLoopBackOff: restarts after 0, 10, 20, 40 ... s, capped at 300 s, reset after 600 s of running."""
    assert restart_backoff(backoff, last, exited, 10.0, 300.0) == expected


def _failing(policy: str, failure: str, kind: str = "Pod", duration: str = "5m") -> str:
    meta = "metadata: {name: app}"
    if kind == "Pod":
        manifest = f"""  - apiVersion: v1
    kind: Pod
    {meta}
    spec:
      restartPolicy: {policy}
      containers: [{{name: main, image: "img:1"}}]"""
    else:
        manifest = f"""  - apiVersion: apps/v1
    kind: Deployment
    {meta}
    spec:
      replicas: 1
      selector: {{matchLabels: {{app: a}}}}
      template:
        metadata: {{labels: {{app: a}}}}
        spec:
          containers: [{{name: main, image: "img:1"}}]"""
    return f"""
name: exits
duration: {duration}
cluster:
  nodePools:
  - {{name: w, count: 1, capacity: {{cpu: "8", memory: 16Gi}}}}
workloads:
- name: app
  behavior: {{runDuration: 1m, failure: {failure}}}
  manifests:
{manifest}
"""


def test_a_never_pod_fails_with_its_containers_exit_code() -> None:
    """restartPolicy Never: the crash is seen at the next PLEG relist; phase Failed, exit code kept."""
    result = run(scenario_from_text(_failing("Never", "{exitCode: 3, after: 10s}")))
    pod = result.simulation.api.store.get("Pod", "default", "app")
    assert (pod.phase, pod.exit_codes, pod.restart_count) == ("Failed", (("main", 3),), 0)
    row = result.pods().set_index("name").loc["app"]
    assert pod.finish_time == pytest.approx(row["started"] + 10, abs=1.0)
    assert 0 <= row["failed"] - pod.finish_time <= 1.01  # PLEG relists every second
    events = result.to_frame()
    assert events.loc[events["event"] == "failed", "message"].tolist() == ["Container main exited with code 3"]


@pytest.mark.parametrize("policy", ["OnFailure", "Always"])
def test_a_restarting_pod_backs_off_0_10_20_40_seconds(policy: str) -> None:
    """OnFailure and Always restart the container in place; the pod stays Running, restarts grow."""
    result = run(scenario_from_text(_failing(policy, "{after: 5s}", duration="3m")))
    events = result.to_frame()
    crashes = events[events["event"] == "backOff"]
    assert crashes["message"].str.extract(r"restarting in (\d+)s")[0].astype(int).tolist()[:4] == [0, 10, 20, 40]
    pod = result.simulation.api.store.get("Pod", "default", "app")
    assert pod.phase == "Running"
    assert pod.restart_count == (events["event"] == "restarted").sum() >= 4
    assert (events["event"] == "failed").sum() == 0


def test_a_deployment_pod_crash_loops() -> None:
    """An app that always crashes under a Deployment: CrashLoopBackOff, never Failed."""
    result = run(scenario_from_text(_failing("Always", "{after: 2s}", kind="Deployment", duration="4m")))
    events = result.to_frame()
    reasons = events.loc[events["event"] == "backOff", "reason"].tolist()
    assert reasons[0] == "Error"
    assert set(reasons[1:]) == {"CrashLoopBackOff"}
    assert (events["event"] == "failed").sum() == 0


def test_failures_are_drawn_per_run_from_their_own_stream() -> None:
    """probability 0.5: some runs fail; the same seed gives the same runs, and timings do not move."""
    text = _failing("OnFailure", "{probability: 0.5, after: 5s}", duration="20m")
    first, again = run(scenario_from_text(text)), run(scenario_from_text(text))
    assert first.to_frame().equals(again.to_frame())
    events = first.to_frame()
    crashes = (events["event"] == "backOff").sum()
    assert crashes >= 1
    assert (events["event"] == "succeeded").sum() == 1
    never = run(scenario_from_text(_failing("OnFailure", "{probability: 0, after: 5s}", duration="20m")))
    started = never.pods().set_index("name").loc["app", "started"]
    assert started == pytest.approx(first.pods().set_index("name").loc["app", "started"])


@pytest.mark.parametrize(("policy", "failed"), [("Never", 1), ("OnFailure", 1), ("Always", 0)])
def test_a_deleted_pod_that_may_not_restart_is_reported_failed_first(policy: str, failed: int) -> None:
    """A deleted Never/OnFailure pod ends Failed with exit code 143 before removal; Always pods just go."""
    text = _failing(policy, "{probability: 0}") + "timeline:\n- {at: 30s, action: delete, target: pod/app}\n"
    result = run(scenario_from_text(text))
    events = result.to_frame()
    assert (events["event"] == "failed").sum() == failed
    if failed:
        assert events.loc[events["event"] == "failed", "message"].iloc[0] == "Killed with exit code 143"
    assert result.pods()["deleted"].notna().all()
