"""VM billing (sim/billing.py) and the run's cost with the cluster autoscaler."""

from __future__ import annotations

import pytest

from sim import load_scenario, run
from sim.billing import Billing


def test_each_vm_is_billed_while_it_exists() -> None:
    billing = Billing()
    billing.start("a", 2.0, 0.0)
    billing.start("b", 4.0, 1800.0)  # ordered half an hour in
    billing.stop("a", 3600.0)
    assert billing.per_hour() == 4.0
    assert billing.total(7200.0) == pytest.approx(2.0 * 1 + 4.0 * 1.5)


def test_autoscaled_nodes_count_in_the_run_cost() -> None:
    """cluster-autoscaler.yaml adds nodes and removes them later: the cost is the sum of each VM's
    price over its own lifetime (from the order, so its boot is paid), not count x price x duration."""
    result = run(load_scenario("scenarios/cluster-autoscaler.yaml"))
    frame = result.to_frame()
    nodes = frame[frame["kind"] == "Node"]
    added = nodes[(nodes["event"] == "created") & (nodes["t"] > 1)]
    assert len(added) >= 1
    static = result.summary["cost_per_hour"] * result.summary["sim_time_s"] / 3600
    assert result.summary["cost_total"] > static  # the added VMs cost extra ...
    price = result.simulation.billing  # ... and no more than if they had run from t = 0
    assert result.summary["cost_total"] < static + len(added) * max(
        p.price_per_hour for p in result.scenario.cluster.node_pools) * result.summary["sim_time_s"] / 3600
    assert price.total(result.summary["sim_time_s"]) == pytest.approx(result.summary["cost_total"], abs=1e-3)
