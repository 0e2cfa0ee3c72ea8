"""Pinned runs: the whole summary and a digest of the whole trace, so speed work cannot change behaviour.

``test_golden.py`` pins the key figures and first events of each shipped scenario; this goes
further for a mid-size density run (``scenarios/scale/density-250.yaml``, 6,000 pods) and for
the golden scenarios: every summary figure but the wall-clock ones, and a SHA-256 of the trace
as ``Trace.write_jsonl`` writes it (events, series, decisions, matrices). Regenerate on purpose
with ``pytest tests/test_scale_pinned.py --update-goldens`` and review the diff.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from test_golden import SCENARIOS as GOLDEN_SCENARIOS

from sim import load_scenario, run

PINNED_FILE = Path("tests/golden/pinned-traces.json")
SCENARIOS = ["scenarios/scale/density-250.yaml", *GOLDEN_SCENARIOS]
# figures of the engine, not of the model: the machine's speed, and how many SimPy events it took
WALL_CLOCK = ("wall_time_s", "events_per_wall_s", "events")


def _pinned_of(path: str, tmp_path: Path) -> dict:
    result = run(load_scenario(path))
    trace_file = tmp_path / "trace.jsonl"
    result.trace.write_jsonl(trace_file)
    digest = hashlib.sha256(trace_file.read_bytes()).hexdigest()
    summary = {k: v for k, v in result.summary.items() if k not in WALL_CLOCK}
    return {"summary": summary, "trace_events": len(result.trace), "trace_sha256": digest}


@pytest.mark.parametrize("path", SCENARIOS, ids=[Path(p).stem for p in SCENARIOS])
def test_run_matches_pinned_trace(path: str, update_goldens: bool, tmp_path: Path) -> None:
    """The scenario reproduces its whole summary and a byte-identical trace."""
    actual = _pinned_of(path, tmp_path)
    pinned = json.loads(PINNED_FILE.read_text()) if PINNED_FILE.exists() else {}
    key = Path(path).stem
    if update_goldens or key not in pinned:
        pinned[key] = actual
        PINNED_FILE.write_text(json.dumps(pinned, indent=1, sort_keys=True) + "\n")
        if not update_goldens:
            pytest.fail(f"{key} was not pinned in {PINNED_FILE}; written now — review and commit it")
    expected = pinned[key]
    assert actual["summary"] == expected["summary"]
    assert actual["trace_events"] == expected["trace_events"]
    assert actual["trace_sha256"] == expected["trace_sha256"]
