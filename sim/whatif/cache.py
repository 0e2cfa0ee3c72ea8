"""Finished runs on disk, keyed by what determines them: scenario content, seed and model code.

A run's key is a SHA-256 over the *validated* scenario (every field after ``--set`` overrides,
plus every manifest as read), the seed, and a fingerprint of the simulator's source. So
re-running a sweep with more points reuses every run already done; spelling an override
differently (``count=2`` vs ``count: 2``) does not matter; and a change to the simulator
itself invalidates old results instead of silently mixing them with new ones.

Each run is one small JSON file ``<folder>/<key[:2]>/<key>.json``, written to a temporary
file and renamed, so an interrupted sweep leaves only whole results behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

from sim.scenario import Scenario

__all__ = ["RunCache", "content_hash", "model_fingerprint", "run_key", "scenario_content"]

# Modules that present results rather than produce them; editing them keeps cached runs valid.
_NOT_MODEL = ("whatif/", "cli.py", "bench.py", "plots.py", "report.py", "explain.py")


@cache
def model_fingerprint() -> str:
    """A hash of the simulator's own source files (everything that can change a summary)."""
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if not rel.startswith(_NOT_MODEL):
            digest.update(rel.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def scenario_content(scenario: Scenario) -> dict[str, Any]:
    """Everything a run of ``scenario`` depends on, as plain JSON-able data."""
    return {"scenario": scenario.model_dump(mode="json", by_alias=True),
            "manifests": scenario.manifests()}


def content_hash(content: dict[str, Any]) -> str:
    """A hash of a configuration's content and the simulator's code."""
    text = json.dumps({"content": content, "model": model_fingerprint()}, sort_keys=True, default=str,
                      separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def run_key(content: str, seed: int) -> str:
    """The cache key of one run: ``content_hash(...)`` and the seed."""
    return hashlib.sha256(f"{content}:{seed}".encode()).hexdigest()


class RunCache:
    """Summaries of finished runs under ``folder`` (``None``: remember nothing)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder

    def _path(self, key: str) -> Path:
        assert self.folder is not None
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored summary of run ``key``, or None if it has not finished before."""
        if self.folder is None:
            return None
        try:
            return json.loads(self._path(key).read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def put(self, key: str, summary: dict[str, Any]) -> None:
        """Store a finished run's summary atomically (temporary file, then rename)."""
        if self.folder is None:
            return
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as file:
                json.dump(summary, file, sort_keys=True)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def __len__(self) -> int:
        return 0 if self.folder is None else sum(1 for _ in self.folder.glob("*/*.json"))
