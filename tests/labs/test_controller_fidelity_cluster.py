"""Simulated controllers vs the real kube-controller-manager (marker ``cluster``).

Each case of ``labs.controller_fidelity`` runs its scenario from ``scenarios/fidelity/`` in
the simulator and on kwok-kubesim (pods Ready 1 s after binding, or failing 1 s after
starting, through kubesim's KWOK stages) and every check must agree: exact ones equal,
the others within the tolerance the module documents. The figures are printed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim.cli import main

from labs.controller_fidelity import CaseResult, controller_fidelity

pytestmark = pytest.mark.cluster


def _run(case: str, context: str, out: Path) -> CaseResult:
    [result] = controller_fidelity([case], context, log=lambda _: None, out=out)
    for check in result.checks:
        print(f"\n{case} {check.item} | {check.figure}: sim {check.sim} | real {check.real} | "
              f"{'agree' if check.agree else 'DIFFER'}", end="")
    assert (out / f"{case}.json").is_file()
    return result


def _failed(result: CaseResult) -> list[str]:
    return [f"{c.item} {c.figure}: sim {c.sim} real {c.real}" for c in result.checks if not c.agree]


def test_deployment_rollout_steps_match(kwok_cluster: str, tmp_path: Path) -> None:
    """About 25 s: 10 s of rollouts plus namespace, nodes and clean-up."""
    result = _run("deployment", kwok_cluster, tmp_path)
    assert result.agree, _failed(result)
    sim, real = result.sim, result.real
    one_by_one = [(0, 10)] + [step for i in range(10) for step in ((i, 9 - i), (i + 1, 9 - i))]
    assert sim["one-by-one"]["steps"] == real["one-by-one"]["steps"] == one_by_one
    assert sim["recreate"]["steps"] == real["recreate"]["steps"] == [(0, 10), (0, 0), (10, 0)]
    assert real["surge"]["deterministic_prefix"] == [(0, 10), (3, 10), (3, 8), (5, 8)]
    assert real["surge"]["max_asked"] == 13
    assert real["surge"]["min_available"] == 8


def test_statefulset_ordering_matches(kwok_cluster: str, tmp_path: Path) -> None:
    result = _run("statefulset", kwok_cluster, tmp_path)
    assert result.agree, _failed(result)
    assert result.real["ordered"]["created"] == [0, 1, 2, 3]
    assert result.real["ordered"]["each_waited_for_previous"] is True
    assert result.real["parallel"]["all_created_before_first_ready"] is True


def test_job_backoff_matches(kwok_cluster: str, tmp_path: Path) -> None:
    """About 45 s: two back-offs of 10 s and 20 s cannot be shortened."""
    result = _run("job", kwok_cluster, tmp_path)
    assert result.agree, _failed(result)
    for side in (result.sim, result.real):
        job = side["failing"]
        assert job["pods_created"] == 3
        assert job["condition"] == ("Failed", "BackoffLimitExceeded")
        first, second = job["backoff_intervals_s"]
        assert 8.8 <= first <= 11.2
        assert 18.8 <= second <= 21.2


def test_daemonset_rollouts_match(kwok_cluster: str, tmp_path: Path) -> None:
    """About 15 s: two DaemonSets on four nodes roll out a new image."""
    result = _run("daemonset", kwok_cluster, tmp_path)
    assert result.agree, _failed(result)
    assert result.real["one-at-a-time"]["fewest_nodes_available"] == 3
    assert result.real["surge"]["most_pods_on_a_node"] == 2


def test_cronjob_activations_match(kwok_cluster: str, tmp_path: Path) -> None:
    """Up to 2.5 min: it waits for the next wall-clock minute, then for a 70 s Job."""
    result = _run("cronjob", kwok_cluster, tmp_path)
    assert result.agree, _failed(result)
    for side in (result.sim, result.real):
        runs = side["every-minute"]
        assert runs["activations"][:2] == [0, 1]
        assert runs["skipped_while_running"] is True
        assert 0.1 <= runs["delays_after_activation_s"][0] <= 1.5


def test_fidelity_controllers_cli(kwok_cluster: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fidelity-controllers", "statefulset", "--context", kwok_cluster, "--json",
                 "--out", str(tmp_path)]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["case"] == "statefulset"
    assert row["agree"] is True
    assert (tmp_path / "statefulset.json").is_file()
