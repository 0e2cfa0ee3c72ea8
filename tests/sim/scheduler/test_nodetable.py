"""NodeTable's per-row value cache and present-row cache (the scheduler's fast paths)."""

from __future__ import annotations

import numpy as np
from builders import make_node, make_pod, make_table

from sim.scheduler.nodetable import NodeTable


def _free_cpu(table: NodeTable, calls: list[list[int]]):
    def compute(rows: np.ndarray) -> np.ndarray:
        calls.append(rows.tolist())
        return table.allocatable[rows, 0] - table.requested[rows, 0]
    return compute


def _table(n: int = 4) -> NodeTable:
    return make_table([make_node(f"n{i}").capacity(cpu="4", memory="8Gi").obj() for i in range(n)])


def _assume(table: NodeTable, row: int, name: str, cpu: str = "1"):
    pod = make_pod(name).req(cpu=cpu).obj()
    pod.meta.uid = hash(name) & 0xFFFF
    vec, nonzero, _ = table.request_vector(pod)
    return table.assume(row, pod, vec, nonzero)


def test_row_values_recomputes_only_changed_rows() -> None:
    """The first call computes every row; later calls only the rows touched since."""
    table, calls = _table(), []
    compute = _free_cpu(table, calls)
    assert table.row_values("free", compute).tolist() == [4000] * 4
    assert table.row_values("free", compute).tolist() == [4000] * 4
    assert calls == [[0, 1, 2, 3]]
    _assume(table, 2, "a")
    assert table.row_values("free", compute).tolist() == [4000, 4000, 3000, 4000]
    assert calls[-1] == [2]


def test_row_values_reuses_a_state_seen_before() -> None:
    """A row back in a state it had before takes the value computed then, without computing."""
    table, calls = _table(), []
    compute = _free_cpu(table, calls)
    table.row_values("free", compute)
    entry = _assume(table, 1, "a")
    table.row_values("free", compute)
    table.forget(entry)
    table.row_values("free", compute)
    _assume(table, 1, "b")  # row 1 as it was with "a" on it
    assert table.row_values("free", compute).tolist() == [4000, 3000, 4000, 4000]
    assert calls == [[0, 1, 2, 3], [1], [1]]  # the last change computed nothing


def test_row_values_follow_a_new_node_and_a_long_log() -> None:
    """Adding a node recomputes all rows; so does a log dropped for length."""
    table, calls = _table(2), []
    compute = _free_cpu(table, calls)
    table.row_values("free", compute)
    table.add_node(make_node("n9").capacity(cpu="2", memory="8Gi").obj())
    assert table.row_values("free", compute).tolist() == [4000, 4000, 2000]
    assert calls[-1] == [0, 1, 2]
    for i in range(1000):  # more touches than the log keeps
        table.forget(_assume(table, i % 3, f"p{i}"))
    assert table.row_values("free", compute).tolist() == [4000, 4000, 2000]
    assert calls[-1] == [0, 1, 2]


def test_present_rows_follow_the_node_set() -> None:
    """Present rows are cached until a node leaves or returns (set_present bumps the version)."""
    table = _table(3)
    first = table.present_rows()
    assert first.tolist() == [0, 1, 2]
    assert table.present_rows() is first
    assert not first.flags.writeable
    table.set_present(1, False)
    assert table.present_rows().tolist() == [0, 2]
    table.set_present(1, True)
    table.remove_node("n0")
    assert table.present_rows().tolist() == [1, 2]


def test_take_copies_or_gathers() -> None:
    """take() equals values[rows] and never returns a view of ``values``."""
    table = _table(3)
    values = np.array([5, 6, 7, 8])
    every = table.present_rows()
    whole = table.take(values, every)
    assert whole.tolist() == [5, 6, 7]
    assert not np.shares_memory(whole, values)
    assert table.take(values, np.array([2, 0])).tolist() == [7, 5]
    table.set_present(1, False)
    assert table.take(values, table.present_rows()).tolist() == [5, 7]


def test_pod_signatures_follow_namespace_and_labels() -> None:
    """Pods with equal labels in one namespace share a signature, one after another or not;
    another label value or namespace gets its own, and a pod relabelled takes its new one."""
    table = _table()
    a1 = make_pod("a1").label("app", "a").label("tier", "web").obj()
    a2 = make_pod("a2").label("tier", "web").label("app", "a").obj()
    b = make_pod("b").label("app", "b").label("tier", "web").obj()
    other_ns = make_pod("a3", namespace="other").label("app", "a").label("tier", "web").obj()
    sig_a = table.pod_sig(a1)
    assert table.pod_sig(a2) == sig_a
    sig_b = table.pod_sig(b)
    assert sig_b != sig_a
    assert table.pod_sig(a1) == sig_a
    sig_other = table.pod_sig(other_ns)
    assert sig_other not in (sig_a, sig_b)
    a2.meta.labels["app"] = "b"  # relabelled in place
    assert table.pod_sig(a2) == sig_b
    assert table.pod_sig_labels[sig_a] == ("default", {"app": "a", "tier": "web"})
