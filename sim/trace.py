"""Trace: what happened in a run, as event records and time series.

One schema, two producers: the simulator writes it, and ``labs.replay`` writes the same
records from a real cluster's watch events. Event names follow the pod lifecycle
(``created``, ``scheduled``, ``bound``, ``pulling``, ``pulled``, ``started``, ``ready``,
``deleted``, ...) and reasons are Kubernetes' own (``Scheduled``, ``FailedScheduling``,
``Pulling``, ``Killing``...). Events are stored in columns of interned codes, not a dict
per event, so a 150,000-pod run stays small.

Clocks: ``t`` is seconds since the run started. The simulator has one clock; a real trace's
``t`` is when kubesim's watch *received* the change (so both traces measure what a client
observes), and the server's own timestamp of the change (creationTimestamp, a condition's
lastTransitionTime, an Event's eventTime...) is kept verbatim in the optional ``upstream``
field of that event line, with the wall-clock start of the replay in the header
(``t0_unix``). Simulated traces have no ``upstream`` fields.
"""

from __future__ import annotations

import json
import math
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["EVENT_COLUMNS", "POD_LIFECYCLE", "SCHEMA", "Trace"]

SCHEMA = "kubesim.trace/v1"
EVENT_COLUMNS = ("t", "kind", "namespace", "name", "event", "node", "reason", "message")
POD_LIFECYCLE = ("created", "scheduled", "bound", "pulling", "pulled", "started", "ready",
                 "terminating", "succeeded", "failed", "deleted")


@dataclass(slots=True)
class _Series:
    t: array = field(default_factory=lambda: array("d"))
    v: array = field(default_factory=lambda: array("d"))


@dataclass(slots=True)
class _Matrix:
    columns: list[str]
    t: list[float] = field(default_factory=list)
    rows: list[np.ndarray] = field(default_factory=list)
    source: Any = None  # the columns list last sampled with, and where its entries go
    positions: np.ndarray | None = None


class Trace:
    """Event records and time series of one run (simulated or real)."""

    def __init__(self, header: dict[str, Any] | None = None) -> None:
        self.header: dict[str, Any] = dict(header or {})
        self.header.setdefault("schema", SCHEMA)
        self._strings: list[str] = [""]
        self._codes: dict[str, int] = {"": 0}
        self._t = array("d")
        self._cols = {name: array("i") for name in EVENT_COLUMNS[1:]}
        self._col_list = [self._cols[name] for name in EVENT_COLUMNS[1:]]  # in record()'s argument order
        self._pending: list[Any] = []  # fields of the records not yet in the columns (see record())
        self.series: dict[str, _Series] = {}
        self.matrices: dict[str, _Matrix] = {}
        self.decisions: list[str] = []  # scheduler decisions, one JSON object each (for explain)
        self.upstream: dict[int, str] = {}  # event index -> the server's timestamp (real traces only)

    # ------------------------------------------------------------------ recording
    def record(self, t: float, kind: str, namespace: str, name: str, event: str,
               node: str = "", reason: str = "", message: str = "", upstream: str = "") -> None:
        """Append one event record; ``upstream`` is the server's timestamp of it, if real.

        This runs for every event of a large run: the record's fields wait in one flat list,
        and a few thousand records at a time are encoded into the columns (``_settle``)."""
        pending = self._pending
        if upstream:
            self.upstream[len(self._t) + len(pending) // _FIELDS] = upstream
        pending += (t, kind, namespace, name, event, node, reason, message)
        if len(pending) >= _SETTLE_EVERY * _FIELDS:
            self._settle()

    def _settle(self) -> None:
        """Encode the pending records into the columns (every reader calls this first): new
        strings coded in order of first appearance, record by record and field by field (as
        coding each record as it came would), then each column's codes in one pass."""
        pending = self._pending
        if not pending:
            return
        self._pending = []
        self._t.extend(pending[0::_FIELDS])
        texts = pending.copy()
        del texts[0::_FIELDS]  # the strings alone, in recording order
        codes, strings = self._codes, self._strings
        fresh = [text for text in dict.fromkeys(texts) if text not in codes]
        if fresh:
            codes.update(zip(fresh, range(len(strings), len(strings) + len(fresh)), strict=True))
            strings.extend(fresh)
        for i, column in enumerate(self._col_list, 1):
            values = pending[i::_FIELDS]
            column.fromlist([codes[values[0]]] if len(values) == 1 else list(itemgetter(*values)(codes)))

    def sample(self, name: str, t: float, value: float) -> None:
        """Append a point to the time series ``name``."""
        series = self.series.get(name)
        if series is None:
            series = self.series[name] = _Series()
        series.t.append(t)
        series.v.append(value)

    def sample_row(self, name: str, columns: list[str], t: float, row: np.ndarray) -> None:
        """Append a row to the matrix series ``name`` (e.g. allocation per node). Columns that
        appear later (a node joins) are added at the end, earlier rows padded with NaN."""
        matrix = self.matrices.get(name)
        if matrix is None:
            matrix = self.matrices[name] = _Matrix(list(columns))
            matrix.source = columns
        elif columns is not matrix.source:
            matrix.source = columns
            if list(columns) == matrix.columns:
                matrix.positions = None
            else:
                known = {c: i for i, c in enumerate(matrix.columns)}
                added = [c for c in columns if c not in known]
                if added:
                    known.update((c, len(matrix.columns) + i) for i, c in enumerate(added))
                    matrix.columns += added
                    width = len(matrix.columns)
                    matrix.rows = [np.concatenate((r, np.full(width - len(r), np.nan, dtype=np.float32)))
                                   for r in matrix.rows]
                matrix.positions = np.array([known[c] for c in columns])
        values = np.asarray(row, dtype=np.float32)
        if matrix.positions is not None:
            full = np.full(len(matrix.columns), np.nan, dtype=np.float32)
            full[matrix.positions] = values
            values = full
        matrix.t.append(t)
        matrix.rows.append(values)

    # ------------------------------------------------------------------ reading
    def __len__(self) -> int:
        return len(self._t) + len(self._pending) // _FIELDS

    def decisions_for(self, name: str, namespace: str | None = None) -> list[dict[str, Any]]:
        """The scheduler's decision records for one pod, in order."""
        out = []
        for text in self.decisions:
            rec = json.loads(text)
            if rec["pod"] == name and (namespace is None or rec["namespace"] == namespace):
                out.append(rec)
        return out

    def events(self) -> Iterator[dict[str, Any]]:
        """Every event record as a dict, in recording order."""
        self._settle()
        s = self._strings
        cols = [self._cols[name] for name in EVENT_COLUMNS[1:]]
        upstream = self.upstream
        for i, t in enumerate(self._t):
            rec: dict[str, Any] = {"t": t}
            for name, col in zip(EVENT_COLUMNS[1:], cols, strict=True):
                rec[name] = s[col[i]]
            if upstream and i in upstream:
                rec["upstream"] = upstream[i]
            yield rec

    def _codes_of(self, column: str) -> np.ndarray:
        self._settle()
        return np.array(self._cols[column], dtype=np.int32)

    def to_frame(self) -> Any:
        """Events as a pandas DataFrame (one row per record, categorical string columns)."""
        import pandas as pd

        self._settle()
        categories = pd.Index(self._strings, dtype=object)
        data: dict[str, Any] = {"t": np.array(self._t, dtype=np.float64)}
        for name in EVENT_COLUMNS[1:]:
            data[name] = pd.Categorical.from_codes(self._codes_of(name), categories=categories)
        return pd.DataFrame(data)

    def series_frame(self) -> Any:
        """Time series in long form: columns series, t, value."""
        import pandas as pd

        frames = [pd.DataFrame({"series": name, "t": np.array(s.t), "value": np.array(s.v)})
                  for name, s in sorted(self.series.items())]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["series", "t", "value"])

    def series_array(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(t, value) arrays of one series; empty arrays if it was never sampled."""
        s = self.series.get(name)
        if s is None:
            return np.zeros(0), np.zeros(0)
        return np.array(s.t), np.array(s.v)

    def pods_frame(self) -> Any:
        """One row per pod: the first time of each lifecycle event, its node and failed attempts."""
        import pandas as pd

        columns = ["namespace", "name", "node", *POD_LIFECYCLE, "attempts"]
        self._settle()
        pod_code = self._codes.get("Pod")
        kinds = self._codes_of("kind")
        rows = np.flatnonzero(kinds == pod_code) if pod_code is not None else np.zeros(0, np.int64)
        if len(rows) == 0:
            return pd.DataFrame(columns=columns)
        t = np.array(self._t, dtype=np.float64)[rows]
        ns, names = self._codes_of("namespace")[rows], self._codes_of("name")[rows]
        events, nodes = self._codes_of("event")[rows], self._codes_of("node")[rows]
        keys = ns.astype(np.int64) << 32 | names.astype(np.int64)
        unique, first_row, inverse = np.unique(keys, return_index=True, return_inverse=True)
        n = len(unique)
        out: dict[str, Any] = {}
        for event in POD_LIFECYCLE:
            times = np.full(n, np.nan)
            code = self._codes.get(event)
            if code is not None:
                mask = events == code
                np.fmin.at(times, inverse[mask], t[mask])
            out[event] = times
        last_node_row = np.full(n, -1, dtype=np.int64)
        with_node = np.flatnonzero(nodes != 0)
        np.maximum.at(last_node_row, inverse[with_node], with_node)
        strings = np.array(self._strings, dtype=object)
        failed = self._codes.get("failedScheduling", -1)
        frame = pd.DataFrame({
            "namespace": strings[ns[first_row]],
            "name": strings[names[first_row]],
            "node": np.where(last_node_row >= 0, strings[nodes[np.maximum(last_node_row, 0)]], ""),
            **out,
            "attempts": np.bincount(inverse[events == failed], minlength=n),
        })
        order = np.lexsort((first_row, frame["created"].to_numpy()))
        return frame.iloc[order].reset_index(drop=True)[columns]

    # ------------------------------------------------------------------ JSON lines
    def write_jsonl(self, path: str | Path) -> None:
        """Write header, events, series and matrices as JSON lines (deterministic)."""
        with open(path, "w", encoding="utf-8") as out:
            out.write(json.dumps({"type": "header", **self.header}, sort_keys=True) + "\n")
            self._write_events(out)
            for name, s in sorted(self.series.items()):
                out.write(json.dumps({"type": "series", "name": name, "t": list(s.t),
                                      "v": [_json_number(x) for x in s.v]}) + "\n")
            for decision in self.decisions:
                out.write('{"type": "decision", ' + decision[1:] + "\n")
            for name, m in sorted(self.matrices.items()):
                values = [[_json_number(round(float(x), 6)) for x in row] for row in m.rows]
                out.write(json.dumps({"type": "matrix", "name": name, "columns": m.columns, "t": m.t,
                                      "values": values}) + "\n")

    def _write_events(self, out: Any) -> None:
        """One JSON object per event, as ``json.dumps`` writes ``{"type": "event", **record}`` with
        the empty optional fields left out; each distinct string is encoded once."""
        self._settle()
        encoded = [json.dumps(text) for text in self._strings]
        kinds, namespaces, names, events, nodes, reasons, messages = self._col_list
        upstream = self.upstream
        lines: list[str] = []
        for i, t in enumerate(self._t):
            time_text = repr(t)  # json writes a finite float as its repr
            if time_text in _NOT_FINITE:
                time_text = json.dumps(t)
            line = f'{{"type": "event", "t": {time_text}, "kind": {encoded[kinds[i]]}'
            if namespaces[i]:
                line += f', "namespace": {encoded[namespaces[i]]}'
            line += f', "name": {encoded[names[i]]}, "event": {encoded[events[i]]}'
            if nodes[i]:
                line += f', "node": {encoded[nodes[i]]}'
            if reasons[i]:
                line += f', "reason": {encoded[reasons[i]]}'
            if messages[i]:
                line += f', "message": {encoded[messages[i]]}'
            if upstream and upstream.get(i):
                line += f', "upstream": {json.dumps(upstream[i])}'
            lines.append(line + "}\n")
            if len(lines) >= 4096:
                out.writelines(lines)
                lines.clear()
        out.writelines(lines)

    @classmethod
    def read_jsonl(cls, path: str | Path) -> Trace:
        """Read a trace written by ``write_jsonl`` (simulated or real)."""
        trace = cls()
        with open(path, encoding="utf-8") as src:
            for lineno, line in enumerate(src, 1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}:{lineno}: not JSON: {exc.msg}") from None
                kind = rec.pop("type", None)
                if kind == "header":
                    trace.header = rec
                elif kind == "event":
                    trace.record(rec["t"], rec["kind"], rec.get("namespace", ""), rec["name"], rec["event"],
                                 rec.get("node", ""), rec.get("reason", ""), rec.get("message", ""),
                                 rec.get("upstream", ""))
                elif kind == "series":
                    s = trace.series[rec["name"]] = _Series()
                    s.t.extend(rec["t"])
                    s.v.extend(math.nan if v is None else v for v in rec["v"])
                elif kind == "decision":
                    trace.decisions.append(json.dumps(rec, sort_keys=True))
                elif kind == "matrix":
                    m = trace.matrices[rec["name"]] = _Matrix(rec["columns"], list(rec["t"]))
                    m.rows = [np.array([math.nan if v is None else v for v in r], dtype=np.float32)
                              for r in rec["values"]]
                else:
                    raise ValueError(f"{path}:{lineno}: unknown record type {kind!r}")
        return trace


_NOT_FINITE = ("nan", "inf", "-inf")
_FIELDS = len(EVENT_COLUMNS)
_SETTLE_EVERY = 4096  # records encoded at a time: their pending fields take 256 KiB at most


def _json_number(x: float) -> float | None:
    """JSON has no NaN: a missing sample is written as null."""
    return None if math.isnan(x) else x
