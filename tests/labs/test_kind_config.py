"""`kubesim kind-config` and `kubesim kind up|down` (no kind or Docker needed)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sim.cli import main
from sim.scenario import load_scenario

from labs.kind import kind_config, scaled_counts


def _workers(text: str) -> list[dict]:
    config = yaml.safe_load(text)
    assert config["kind"] == "Cluster"
    assert config["apiVersion"] == "kind.x-k8s.io/v1alpha4"
    assert config["nodes"][0] == {"role": "control-plane"}
    return config["nodes"][1:]


def test_one_worker_per_node_with_pool_labels_zones_and_taints() -> None:
    text = kind_config(load_scenario("scenarios/serving-basic.yaml"))
    workers = _workers(text)
    assert len(workers) == 6
    pools = [w["labels"]["kubesim.io/node-pool"] for w in workers]
    assert pools == ["cpu"] * 4 + ["gpu"] * 2
    assert [w["labels"]["topology.kubernetes.io/zone"] for w in workers] == ["zone-a", "zone-b"] * 3
    gpu = workers[-1]
    patch = yaml.safe_load(gpu["kubeadmConfigPatches"][0])
    assert patch == {"kind": "JoinConfiguration", "nodeRegistration": {
        "kubeletExtraArgs": {"register-with-taints": "nvidia.com/gpu=present:NoSchedule"}}}
    assert "kubeadmConfigPatches" not in workers[0]
    assert "Scaled down" not in text
    assert "nvidia.com/gpu is advertised by `kubesim replay`" in text


def test_scaled_down_config_says_so() -> None:
    text = kind_config(load_scenario("scenarios/scale/startup-1k.yaml"), max_workers=5)
    assert len(_workers(text)) == 5
    assert "# Scaled down: the scenario has 1000 nodes, this config has 5 workers" in text


@pytest.mark.parametrize(("counts", "limit", "expected"), [
    ([4, 2], 10, [4, 2]),
    ([4, 2], 3, [2, 1]),
    ([1000, 3, 1], 5, [3, 1, 1]),
    ([5, 5, 5], 2, [1, 1, 0]),
    ([0, 10], 4, [0, 4]),
])
def test_scaled_counts(counts: list[int], limit: int, expected: list[int]) -> None:
    got = scaled_counts(counts, limit)
    assert got == expected
    assert sum(got) == min(sum(counts), limit)


def test_cli_writes_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kind-config", "scenarios/serving-basic.yaml", "--max-workers", "3"]) == 0
    out = capsys.readouterr().out
    assert len(_workers(out)) == 3
    target = tmp_path / "kind.yaml"
    assert main(["kind-config", "scenarios/pod-startup.yaml", "--out", str(target)]) == 0
    assert len(_workers(target.read_text())) == 3


def test_kind_up_without_kind_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert main(["kind", "up", "scenarios/pod-startup.yaml"]) == 2
    err = capsys.readouterr().err
    assert "kind is not installed" in err
    assert "go install sigs.k8s.io/kind@" in err
    assert "make cluster" in err
