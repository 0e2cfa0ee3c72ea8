"""Scenario paths, runs with overrides, and figure display shared by every lab."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from sim import Result, load_scenario, run
from sim.scenario import scenario_from_text

__all__ = ["REPO", "SCENARIOS", "close", "run_scenario", "run_with_manifests", "scenario_path"]

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = REPO / "scenarios"


def scenario_path(name: str) -> Path:
    """``scenarios/<name>.yaml`` (``labs/…`` for the labs' own), whatever the working directory."""
    return SCENARIOS / f"{name}.yaml"


def run_scenario(name: str, overrides: list[str] | None = None, seed: int | None = None) -> Result:
    """Run a shipped scenario with ``--set``-style overrides (``"controlPlane.etcd.fsync=20ms"``)."""
    return run(load_scenario(scenario_path(name), overrides), seed=seed)


def run_with_manifests(name: str, workload: str, manifests: list[dict[str, Any]],
                       seed: int | None = None) -> Result:
    """Run a scenario with one workload's manifests replaced (a learner's edited manifest)."""
    path = scenario_path(name)
    data = yaml.safe_load(path.read_text())
    for item in data["workloads"]:
        if item["name"] == workload:
            item["manifests"] = manifests
    scenario = scenario_from_text(yaml.safe_dump(data), name=str(path), base_dir=path.parent)
    return run(scenario, seed=seed)


def close(fig: Any) -> Any:
    """Detach a figure from pyplot so it is shown once (by the cell), never twice."""
    import matplotlib.pyplot as plt

    plt.close(fig)
    return fig
