"""Control-plane and registry faults end to end: etcd leader loss and slow disk, API server restart,
registry slowdown and outage."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from sim import load_scenario
from sim.engine import Result, run
from sim.etcd import election_stall


def _events(result: Result, event: str, **match: str) -> list[dict[str, Any]]:
    return [e for e in result.trace.events() if e["event"] == event and all(e[k] == v for k, v in match.items())]


@pytest.mark.parametrize(("ticks", "since", "votes", "stall"), [
    ([10, 10], 0.0, 0.01, 1.01), ([17, 12], 0.05, 0.01, 1.16), ([19], 0.0, 0.0, 1.9),
], ids=["fastest", "first-follower-wins", "single-follower"])
def test_election_stall(ticks: list[int], since: float, votes: float, stall: float) -> None:
    """The first follower to time out (ticks x 100 ms after the last heartbeat) wins after its vote rounds."""
    assert election_stall(ticks, 0.1, since, votes) == pytest.approx(stall)


def test_etcd_leader_loss_gap_in_commits_and_latency_spike() -> None:
    """Nothing commits for the election (1-2 s); the write that waited sees it as latency."""
    result = run(load_scenario("scenarios/faults/etcd-leader-loss.yaml"))
    etcd = result.simulation.api.etcd
    lost, elected = _events(result, "etcdLeaderLoss")[0]["t"], _events(result, "leaderElected")[0]["t"]
    assert 1.0 <= elected - lost < 2.1  # electionTimeout 1 s, randomised up to 2 s, plus votes
    times = np.array(etcd.commit_times)
    assert not ((times > lost) & (times < elected)).any()
    first_after = times[times >= elected].min()
    assert first_after - times[times <= lost].max() >= elected - lost
    # the scale issued 0.2 s into the election commits after it: its request took ~0.9 s
    scaled = _events(result, "scaled")[0]["t"]
    assert scaled > elected
    assert max(result.simulation.api.latencies) == pytest.approx(elected - 30.2, abs=0.05)
    assert result.summary["pods_ready"] == 40


def test_etcd_slow_disk_raises_commit_latency_only_while_it_lasts() -> None:
    """fsync at a 40 ms median from 30 s to 90 s: commits take ~20x longer, then recover."""
    result = run(load_scenario("scenarios/faults/etcd-slow-disk.yaml"))
    etcd = result.simulation.api.etcd
    t, latency = np.array(etcd.commit_times), np.array(etcd.commit_latencies)
    before = np.median(latency[t < 30])
    during = np.median(latency[(t > 31) & (t < 90)])
    after = np.median(latency[t > 91])
    assert during > 10 * before
    assert after < 2 * before
    assert during == pytest.approx(0.04, rel=0.35)  # leader fsync || (RTT + follower fsync) at 40 ms medians
    assert result.summary["pods_ready"] == 60


def _without_fault(path: str, action: str) -> Result:
    scenario = load_scenario(path)
    baseline = scenario.model_copy(update={"timeline": [a for a in scenario.timeline if a.action != action]})
    baseline._objects = scenario.objects
    return run(baseline)


def test_apiserver_restart_queues_requests_then_informers_relist() -> None:
    """Requests wait out a 30 s restart; leases renew at their next tick (no node NotReady); informers resync."""
    path = "scenarios/faults/apiserver-restart.yaml"
    result = run(load_scenario(path))
    sim = result.simulation
    assert _events(result, "scale")[0]["t"] == 40.0
    assert 60 <= _events(result, "scaled")[0]["t"] < 61  # kubectl's write waited for the server
    commits = np.array(sim.api.etcd.commit_times)
    assert not ((commits > 30.1) & (commits < 60)).any()  # lease renewals failed too
    assert not [e for e in result.trace.events() if e["kind"] == "Node" and e["event"] != "created"]
    assert result.summary["pods_ready"] == 12
    # the re-list hands every ReplicaSet and pod to the controllers again: more syncs than without it
    baseline = _without_fault(path, "apiServerRestart").simulation
    assert sim.replicaset_controller.syncs > baseline.replicaset_controller.syncs


def _pull_seconds(result: Result) -> dict[str, float]:
    pods = result.pods().set_index("name")
    return (pods["pulled"] - pods["pulling"]).dropna().to_dict()


def test_registry_slowdown_makes_pulls_started_during_it_ten_times_slower() -> None:
    """At 0.1x bandwidth a 2 GiB pull takes ~205 s instead of ~20.5 s; after the slowdown it is fast again."""
    result = run(load_scenario("scenarios/faults/registry-slowdown.yaml"))
    pods = result.pods().sort_values("created")
    pulls = _pull_seconds(result)
    first, slowed, after = (pulls[name] for name in pods["name"])
    assert first == pytest.approx(20.5, abs=1.5)
    assert after == pytest.approx(20.5, abs=1.5)
    assert slowed == pytest.approx(10 * (first - 0.3) + 0.3, rel=0.05)  # the registry round trips are not slowed


def test_registry_outage_err_image_pull_backoff_then_recovery() -> None:
    """ErrImagePull, then ImagePullBackOff between attempts 10, 20, 40, ... s apart; pulls resume once it is back."""
    result = run(load_scenario("scenarios/faults/registry-outage.yaml"))
    back = 240.0
    pods = result.pods().set_index("name")
    assert len(pods) == 3
    assert pods["ready"].notna().all()
    for name in pods.index:
        errors = [e["t"] for e in _events(result, "waiting", name=name, reason="ErrImagePull")]
        backoffs = [e["t"] for e in _events(result, "waiting", name=name, reason="ImagePullBackOff")]
        assert len(errors) >= 4
        assert backoffs
        assert all(t < back for t in errors)
        # worked example: attempts at t1, t1+[10,15), then +[20,35), +[40,55), ... (pod worker retries every 10-15 s)
        for k, (a, b) in enumerate(zip(errors, errors[1:], strict=False)):
            step = min(10 * 2**k, 300)
            assert step <= b - a < step + 15
        due = max(back, errors[-1] + min(10 * 2 ** (len(errors) - 1), 300))
        started = [e["t"] for e in _events(result, "pulling", name=name) if e["t"] >= back]
        assert due <= started[0] < due + 15
        assert pods.loc[name, "pulled"] > started[0]
