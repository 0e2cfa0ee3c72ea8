"""End-to-end: the flagship scenario runs and produces sensible figures."""

from sim import load_scenario, run


def test_flagship_runs_and_leaves_four_gpu_pods_pending() -> None:
    """12 GPU replicas on 8 GPUs: 4 stay Pending with upstream's FailedScheduling reason."""
    result = run(load_scenario("scenarios/serving-basic.yaml"))
    s = result.summary
    assert s["pods_created"] == 20
    assert s["pods_ready"] == 16
    assert s["pods_pending_at_end"] == 4
    events = result.to_frame()
    messages = set(events.loc[events["event"] == "failedScheduling", "message"].astype(str))
    assert messages == {"0/6 nodes are available: 2 Insufficient nvidia.com/gpu, "
                        "4 node(s) didn't match Pod's node affinity/selector. preemption: 0/6 nodes are "
                        "available: 2 No preemption victims found for incoming pod, "
                        "4 Preemption is not helpful for scheduling."}
