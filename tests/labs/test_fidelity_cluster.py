"""Simulated vs real kube-scheduler placements on a tie-free scenario (marker ``cluster``).

``scenarios/fidelity-placement.yaml`` is built so that the scheduler never meets equal
scores (see its comments): then kube-scheduler v1.36 and the simulator must put every pod
on the same node, leave the same pods Pending and fill the nodes the same way.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.cli import main

from labs.fidelity import fidelity

pytestmark = pytest.mark.cluster


def test_fidelity_placement_agrees_with_kube_scheduler(kwok_cluster: str, tmp_path: Path) -> None:
    [row] = fidelity(["scenarios/fidelity-placement.yaml"], kwok_cluster, idle=2.0, out=tmp_path)
    place = row.placement
    print(f"\nfidelity-placement: same node {place.same_node}/{place.compared}, pending identical "
          f"{place.pending_identical}, sorted counts identical {place.counts_identical}")
    assert place.pending_sim == ["default/no-match", "default/p25-x", "default/p26-x", "default/too-big"]
    assert place.pending_identical, (place.pending_sim, place.pending_real)
    assert place.counts_identical, place.sorted_counts
    assert place.compared == 28
    assert place.same_node == place.compared, place.moved
    assert (tmp_path / "fidelity-placement" / "compare.md").is_file()
    assert (tmp_path / "fidelity-placement" / "real" / "trace.jsonl").is_file()


def test_fidelity_cli_exits_0_on_disagreement(kwok_cluster: str, capsys: pytest.CaptureFixture[str]) -> None:
    """pod-startup has three equal nodes, so placements may differ: still exit 0, figures printed."""
    assert main(["fidelity", "scenarios/pod-startup.yaml", "--context", kwok_cluster, "--idle", "1s",
                 "--until", "15s", "--json"]) == 0
    out = capsys.readouterr().out
    assert '"scenario": "pod-startup"' in out
    assert '"pending_identical": true' in out
