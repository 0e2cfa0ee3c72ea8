"""labs.controller_fidelity without a cluster: the analyses on simulated runs."""

from __future__ import annotations

from sim.scenario import load_scenario

from labs.controller_fidelity import (
    CASES,
    ROOT,
    compare_case,
    cronjob_runs,
    daemonset_rollout,
    deployment_rollout,
    finished,
    job_backoff,
    record_sim,
    statefulset_order,
)
from labs.replay import OBSERVABLE, WATCHED


def _sim(case: str):  # type: ignore[no-untyped-def]
    scenario = load_scenario(ROOT / CASES[case])
    return scenario, record_sim(scenario, case)


def test_simulated_rollouts_follow_the_upstream_algorithm() -> None:
    scenario, rec = _sim("deployment")
    assert finished("deployment", rec.updates, rec.expected)
    one = deployment_rollout(rec.updates, "one-by-one", 6.0)
    assert one["steps"] == [(0, 10)] + [s for i in range(10) for s in ((i, 9 - i), (i + 1, 9 - i))]
    assert (one["max_asked"], one["min_available"]) == (10, 9)
    surge = deployment_rollout(rec.updates, "surge", 6.0)
    assert surge["deterministic_prefix"] == [(0, 10), (3, 10), (3, 8), (5, 8)]
    assert (surge["max_asked"], surge["min_available"], surge["final"]) == (13, 8, (10, 0))
    recreate = deployment_rollout(rec.updates, "recreate", 6.0)
    assert recreate["steps"] == [(0, 10), (0, 0), (10, 0)]
    assert recreate["overlap"] is False
    result = compare_case("deployment", scenario, rec, rec)  # a run agrees with itself
    assert result.agree
    assert {c.item for c in result.checks} == {"surge", "one-by-one", "recreate"}


def test_surge_rollout_stays_within_max_unavailable_whatever_the_seed() -> None:
    """Old ReplicaSet statuses lag their scale-downs (the ReplicaSet controller is throttled
    deleting pods); the deployment controller must not count those pods as available. The real
    control plane never dipped below 8 of 10 here; without upstream's refusal to clean up a
    stale old ReplicaSet the simulation did on 16 of 30 seeds."""
    scenario = load_scenario(ROOT / CASES["deployment"])
    for seed in range(1, 9):
        rec = record_sim(scenario.model_copy(update={"seed": seed}), "deployment")
        surge = deployment_rollout(rec.updates, "surge", 6.0)
        assert surge["min_available"] == 8, seed
        assert surge["max_asked"] == 13, seed
        assert surge["final"] == (10, 0), seed


def test_simulated_statefulsets_and_job() -> None:
    _, rec = _sim("statefulset")
    ordered, parallel = statefulset_order(rec.updates, "ordered"), statefulset_order(rec.updates, "parallel")
    assert ordered["created"] == ordered["ready"] == [0, 1, 2, 3]
    assert ordered["each_waited_for_previous"]
    assert parallel["all_created_before_first_ready"]
    assert not parallel["each_waited_for_previous"]
    _, rec = _sim("job")
    job = job_backoff(rec.updates, "failing")
    assert job["pods_created"] == 3
    assert job["condition"] == ("Failed", "BackoffLimitExceeded")
    assert [round(x) for x in job["backoff_intervals_s"]] == [10, 20]


def test_real_updates_are_normalised_like_simulated_ones() -> None:
    from labs.controller_fidelity import Recording

    rec = Recording("deployment", {"d": 1})
    rs = {"metadata": {"name": "d-abc", "annotations": {"deployment.kubernetes.io/revision": "2"},
                       "ownerReferences": [{"kind": "Deployment", "name": "d", "controller": True}]},
          "spec": {"replicas": 1}}
    pod = {"metadata": {"name": "d-abc-x", "ownerReferences": [{"name": "d-abc", "controller": True}],
                        "labels": {"pod-template-generation": "3"}},
           "spec": {"nodeName": "n-1"},
           "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}
    rec.update(1.0, "replicaset", "ADDED", rs)
    rec.update(1.1, "pod", "ADDED", pod)
    assert rec.updates[0][3] == {"name": "d-abc", "owner": "d", "replicas": 1, "revision": 2}
    assert rec.updates[1][3] == {"name": "d-abc-x", "owner": "d-abc", "phase": "Running", "ready": True,
                                 "terminating": False, "node": "n-1", "generation": "3"}
    assert set(rec.streams) <= set(OBSERVABLE)
    for case in CASES:
        assert set(Recording(case, {}).streams) <= set(OBSERVABLE) | set(WATCHED)


def test_simulated_cronjob_reads_the_schedule_from_the_replays_start() -> None:
    """Started 20.5 s before a minute: the first Job ~100 ms after that minute, the next
    activation skipped while it runs, its Job made up when the first completes."""
    scenario = load_scenario(ROOT / CASES["cronjob"])
    t0 = 29_460_000 * 60 - 20.5
    rec = record_sim(scenario, "cronjob", t0)
    assert rec.t0_unix == int(t0)
    assert finished("cronjob", rec.updates, rec.expected)
    runs = cronjob_runs(rec.updates, "every-minute", rec.t0_unix)
    assert runs["activations"][:2] == [0, 1]
    assert runs["skipped_while_running"]
    assert 0.1 <= runs["delays_after_activation_s"][0] < 0.5
    assert 0 <= runs["second_after_first_completed_s"] < 0.5
    jobs = [o["name"] for _, s, _, o in rec.updates if s == "job"]
    assert jobs[0] == "every-minute-29460000"  # the activation's minute, as upstream names it
    result = compare_case("cronjob", scenario, rec, rec)
    assert result.agree
    assert len(result.checks) == 4


def test_simulated_daemonset_rollouts_keep_their_bounds() -> None:
    """maxUnavailable 1: never more than one node without an available pod, one pod per node;
    maxSurge 1: every node keeps an available pod, two pods on a node at most."""
    scenario, rec = _sim("daemonset")
    assert finished("daemonset", rec.updates, rec.expected)
    assert rec.expected == {"one-at-a-time": 4, "surge": 4}
    one = daemonset_rollout(rec.updates, "one-at-a-time", 6.0)
    assert (one["fewest_nodes_available"], one["most_pods_on_a_node"], one["new_pods"]) == (3, 1, 4)
    surge = daemonset_rollout(rec.updates, "surge", 6.0)
    assert (surge["fewest_nodes_available"], surge["most_pods_on_a_node"], surge["new_pods"]) == (4, 2, 4)
    assert one["pods_per_node_before"] == one["pods_per_node_after"] == [1, 1, 1, 1]
    result = compare_case("daemonset", scenario, rec, rec)
    assert result.agree
    assert len(result.checks) == 12
