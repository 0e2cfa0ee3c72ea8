"""Determinism: a scenario and a seed give a byte-identical trace; another seed does not.

Every component draws from its own stream derived from the seed (sim/rng.py), so two runs of
the same scenario with the same seed must write the same trace.jsonl byte for byte.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sim import load_scenario, run

SCENARIOS = ["scenarios/serving-basic.yaml", "scenarios/pod-startup.yaml", "scenarios/hpa-basic.yaml"]


def trace_bytes(path: str, seed: int | None, out: Path) -> bytes:
    result = run(load_scenario(path), seed=seed)
    result.trace.write_jsonl(out)
    return out.read_bytes()


@pytest.mark.parametrize("path", SCENARIOS, ids=[Path(p).stem for p in SCENARIOS])
def test_same_seed_same_bytes(path: str, tmp_path: Path) -> None:
    """Two runs with the scenario's own seed write identical trace.jsonl files."""
    first = trace_bytes(path, None, tmp_path / "first.jsonl")
    second = trace_bytes(path, None, tmp_path / "second.jsonl")
    assert len(first) > 1000
    assert first == second


@pytest.mark.parametrize("path", SCENARIOS, ids=[Path(p).stem for p in SCENARIOS])
def test_different_seed_different_trace(path: str, tmp_path: Path) -> None:
    """A different seed changes the sampled latencies, hence the trace."""
    seed = load_scenario(path).seed
    base = trace_bytes(path, seed, tmp_path / "base.jsonl")
    other = trace_bytes(path, seed + 1, tmp_path / "other.jsonl")
    assert base != other
    # the header records the seed; the events themselves must differ too, not only the header
    assert base.split(b"\n", 1)[1] != other.split(b"\n", 1)[1]


def test_same_bytes_across_processes_and_hash_seeds(tmp_path: Path) -> None:
    """Fresh interpreters with different PYTHONHASHSEEDs still write the same bytes (no set-order leaks)."""
    code = ("import sys; from sim import load_scenario, run; "
            "run(load_scenario(sys.argv[1])).trace.write_jsonl(sys.argv[2])")
    outputs = []
    for hash_seed in ("1", "2"):
        out = tmp_path / f"hash{hash_seed}.jsonl"
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run([sys.executable, "-c", code, SCENARIOS[0], str(out)], env=env, check=True,
                       cwd=Path.cwd(), timeout=120)
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    assert outputs[0] == trace_bytes(SCENARIOS[0], None, tmp_path / "here.jsonl")
