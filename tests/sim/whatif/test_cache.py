"""The run cache: keys follow what a run depends on, and entries are written whole."""

from __future__ import annotations

from pathlib import Path

from sim import load_scenario
from sim.whatif.cache import RunCache, content_hash, run_key, scenario_content

SCENARIO = "scenarios/capacity-gpu.yaml"


def _content(*overrides: str) -> str:
    return content_hash(scenario_content(load_scenario(SCENARIO, list(overrides))))


def test_equivalent_spellings_share_a_key() -> None:
    """10ms and 0.01 are the same fsync once validated, so the same run."""
    assert _content("controlPlane.etcd.fsync=10ms") == _content("controlPlane.etcd.fsync=0.01")


def test_content_and_seed_change_the_key() -> None:
    """A different node count, manifest field or seed is a different run."""
    base = _content()
    assert len({base, _content("cluster.nodePools.gpu.count=3"),
                _content("workloads.model-server.spec.replicas=9")}) == 3
    assert run_key(base, 1) != run_key(base, 2)


def test_put_then_get_round_trips_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    """A stored summary reads back equal; only the final JSON file remains."""
    cache = RunCache(tmp_path)
    key = run_key(_content(), 5)
    assert cache.get(key) is None
    cache.put(key, {"pods_ready": 8, "pod_ready_p99_s": 151.2})
    assert cache.get(key) == {"pods_ready": 8, "pod_ready_p99_s": 151.2}
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [f"{key}.json"]
