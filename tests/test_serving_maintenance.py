"""scenarios/serving-maintenance.yaml tells what it promises: a late ConfigMap holds start-up,
an edit reaches every replica within a resync, and a rolling drain keeps the budget."""

from __future__ import annotations

import numpy as np
import pytest

from sim import load_scenario, run
from sim.engine import Result


@pytest.fixture(scope="module")
def result() -> Result:
    return run(load_scenario("scenarios/serving-maintenance.yaml"))


def test_pods_wait_for_the_configmap_applied_at_one_minute(result: Result) -> None:
    """Before 60 s every replica only reports FailedMount; none starts until the ConfigMap exists."""
    df = result.to_frame()
    waits = df[(df["kind"] == "Pod") & (df["event"] == "waiting")]
    assert set(waits["reason"].astype(str)) == {"FailedMount"}
    assert float(waits["t"].max()) < 60
    started = df[(df["kind"] == "Pod") & (df["event"] == "started")]
    assert float(started["t"].min()) > 60


def test_config_edit_reaches_each_replica_at_its_next_sync(result: Result) -> None:
    """The edit at 4 min is projected into all six volumes 0-92 s later (one resync)."""
    df = result.to_frame()
    updated = df[df["event"] == "volumeUpdated"]
    assert len(updated) == 6
    delays = updated["t"].to_numpy() - 240
    assert (delays > 0).all()
    assert (delays < 60 * 1.5 + 1 + 0.3).all()


def test_rolling_drain_keeps_four_replicas_routable(result: Result) -> None:
    """Each GPU node is drained in turn; kube-proxy never routes to fewer than minAvailable 4."""
    df = result.to_frame()
    drained = df.loc[(df["kind"] == "Node") & (df["event"] == "drained"), "name"].astype(str).tolist()
    assert drained == ["gpu-0", "gpu-1", "gpu-2"]
    assert (df["event"] == "evictionRefused").any()
    t, routed = result.trace.series_array("endpoints_routable/default/llm-server")
    first_six = t[np.argmax(routed == 6)]
    assert routed[t >= first_six].min() >= 4
    assert routed[-1] == 6
