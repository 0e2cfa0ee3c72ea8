"""``make bench``: wall time, events per second and peak memory of reference scenarios.

Each benchmark runs in a fresh Python process so its peak RSS is its own. Results are
printed as a table and written as JSON (with the commit and the machine) to
``bench-results/``. Wall time is noisy on a shared machine, so each row also reports the
CPU seconds the run took (with its summary, as ``total_wall_s``), and ``--repeat N`` runs each
benchmark N times and keeps the fastest (noise only ever adds time; the runs must agree on every
simulated figure and on a digest of every event record, or the benchmark fails). ``density-5k``
(150,000 pods, a few minutes) runs only with ``--large`` or when named with ``--only``. Rows with a
scalability target say whether it is met.

``--against REV`` measures a change: each scenario benchmark also runs on the files of commit REV
(``git archive``, in a temporary folder), the two sides alternating run by run so that a busy
spell on the machine slows both alike, and a second table gives the change in wall time and
whether both sides simulated the same: the same figures and the same event records (a faster run
that changes the answer is not a speed-up; how many engine events it took is not the answer).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["BENCHMARKS", "SWEEPS", "Target", "best_of", "main"]


@dataclass(frozen=True)
class Target:
    """An upper bound a benchmark's figure must stay under (``or_equal``: may reach it)."""

    field: str  # the row's figure
    limit: float
    label: str
    or_equal: bool = False

    def met(self, row: dict[str, Any]) -> bool:
        value = row[self.field]
        return value <= self.limit if self.or_equal else value < self.limit


_GIB = 2**30


@dataclass(frozen=True)
class Benchmark:
    """A scenario run measured end to end (simulation only; no plots or files)."""

    name: str
    scenario: str
    note: str
    real: bool = False  # also replay it on the kwok-kubesim control plane, if one answers (labs.bench)
    large: bool = False  # minutes long: only with --large or --only
    targets: tuple[Target, ...] = ()


BENCHMARKS = [
    Benchmark("flagship", "scenarios/serving-basic.yaml", "6 nodes, 20 pods, 10 min"),
    Benchmark("startup-1k", "scenarios/scale/startup-1k.yaml", "1,000 nodes, 10,000 pods, 15 min"),
    Benchmark("schedule-5k", "scenarios/scale/schedule-5k.yaml", "5,000 nodes, 10,000 pods, full default profile",
              targets=(Target("schedule_us_per_pod", 100, "sched <= 100 µs/pod", or_equal=True),)),
    Benchmark("startup-500", "scenarios/scale/startup-500.yaml", "500 nodes, 5,000 pods, 6 min", real=True),
    Benchmark("serving-exact", "scenarios/scale/serving-exact.yaml", "800,000 requests one by one, 10 replicas"),
    Benchmark("serving-24h", "scenarios/scale/serving-24h.yaml", "24 h diurnal to 2,000 req/s, fluid, ≤50 replicas",
              targets=(Target("wall_time_s", 20, "wall < 20 s"),)),
    Benchmark("density-1k", "scenarios/scale/density-1k.yaml", "1,000 nodes, 30,000 pods at 20 pods/s, 45 min",
              targets=(Target("wall_time_s", 5, "wall < 5 s"),)),
    Benchmark("density-5k", "scenarios/scale/density-5k.yaml", "5,000 nodes, 150,000 pods at 20 pods/s, 3 h",
              large=True, targets=(Target("wall_time_s", 30, "wall < 30 s"),
                                   Target("peak_rss_bytes", 2 * _GIB, "peak RSS < 2 GiB"))),
]


@dataclass(frozen=True)
class SweepBenchmark:
    """A what-if sweep timed on one worker process and on two (no run cache)."""

    name: str
    scenario: str
    sets: tuple[str, ...]
    vary: tuple[str, ...]
    sample: str
    note: str


SWEEPS = [
    SweepBenchmark("sweep-100", "scenarios/whatif/serving-1h.yaml", (),
                   ("cluster.nodePools.cpu.count=16..24", "workloads.model.spec.replicas=6..14"), "lhs:100",
                   "100 points x 1 run: 1 h of serving (~1.1 M requests, fluid) on 16-24 nodes, 6-14 replicas"),
]

_SWEEP_CHILD = """
import json, resource, sys, tempfile, time
from sim.whatif import sweep

spec = json.loads(sys.argv[1])
with tempfile.TemporaryDirectory() as out:
    start = time.perf_counter()
    table = sweep(spec["scenario"], spec["vary"], sample=spec["sample"], replications=1, jobs=spec["jobs"],
                  out=out, sets=spec["sets"], progress=False)
    wall = time.perf_counter() - start
cpu = sum(u.ru_utime + u.ru_stime for u in (resource.getrusage(resource.RUSAGE_SELF),
                                            resource.getrusage(resource.RUSAGE_CHILDREN)))
print(json.dumps({"wall_s": wall, "cpu_s": cpu, "points": len(table), "runs": table.attrs["runs_simulated"]}))
"""

_CHILD = """
import hashlib, json, os, resource, sys, time
import pandas as pd
import sim as package
import sim.scheduler.scheduler as scheduler_module
from sim import load_scenario
from sim.engine import Simulation

cycles = {"n": 0, "wall": 0.0}
real_schedule_pod = scheduler_module.schedule_pod

def timed_schedule_pod(*args, **kwargs):
    start = time.perf_counter()
    try:
        return real_schedule_pod(*args, **kwargs)
    finally:
        cycles["wall"] += time.perf_counter() - start
        cycles["n"] += 1

scheduler_module.schedule_pod = timed_schedule_pod
scenario = load_scenario(sys.argv[1])
sim = Simulation(scenario)
cpu_start, wall_start = time.process_time(), time.perf_counter()
result = sim.run()  # the summary's wall_time_s is the simulation alone; these include the summary too
cpu, total_wall = time.process_time() - cpu_start, time.perf_counter() - wall_start
s = result.summary
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
# every event record's time and strings, hashed by content (any revision's trace has to_frame)
events = pd.util.hash_pandas_object(result.trace.to_frame(), index=False).to_numpy()
print(json.dumps({"wall_time_s": s["wall_time_s"], "cpu_time_s": round(cpu, 3),
                  "total_wall_s": round(total_wall, 3), "sim_time_s": s["sim_time_s"],
                  "events": s["events"], "trace_digest": hashlib.sha256(events.tobytes()).hexdigest()[:16],
                  "pods": s["pods_created"], "pod_startup_p50_s": s["pod_startup_p50_s"],
                  "pod_startup_p99_s": s["pod_startup_p99_s"], "peak_rss_bytes": rss,
                  "nodes": s["nodes"], "cycles": cycles["n"], "requests": s.get("requests_offered"),
                  "serving_mode": s.get("serving_mode"),
                  "schedule_us_per_pod": 1e6 * cycles["wall"] / max(cycles["n"], 1),
                  "code": os.path.dirname(os.path.dirname(os.path.abspath(package.__file__)))}))
"""


# what a run simulated: every repetition of a benchmark must report the same (the event records
# themselves, by digest; the count of engine events is how the engine got there, not what it simulated)
_SIMULATED = ("sim_time_s", "trace_digest", "pods", "pod_startup_p50_s", "pod_startup_p99_s", "cycles", "requests")


def _run_once(bench: Benchmark, tree: Path | None = None) -> dict[str, Any]:
    """One run in a fresh process: of this checkout, or of the code and scenarios in ``tree``."""
    env = None
    if tree is not None:  # its package first on the path (an editable install's finder comes after)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (str(tree), os.environ.get("PYTHONPATH"))))}
    out = subprocess.run([sys.executable, "-c", _CHILD, bench.scenario], capture_output=True, text=True,
                         check=False, cwd=tree, env=env)
    if out.returncode != 0:
        raise RuntimeError(f"{bench.name} failed{f' at {tree}' if tree else ''}:\n{out.stderr[-2000:]}")
    run = json.loads(out.stdout.strip().splitlines()[-1])
    if tree is not None and Path(run["code"]).resolve() != tree.resolve():
        raise RuntimeError(f"{bench.name}: the run imported kubesim from {run['code']}, not from {tree}")
    return run


def _differing(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """The simulated figures two runs disagree on."""
    return [key for key in _SIMULATED if a.get(key) != b.get(key)]


def best_of(name: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The fastest of repeated runs, with every run's wall time and the highest peak RSS; the runs
    must agree on what they simulated (a seeded run is deterministic)."""
    for run in runs[1:]:
        differ = _differing(run, runs[0])
        if differ:
            raise RuntimeError(f"{name}: repeated runs simulated different results ({', '.join(differ)})")
    row = dict(min(runs, key=lambda run: run["wall_time_s"]))
    row["peak_rss_bytes"] = max(run["peak_rss_bytes"] for run in runs)
    if len(runs) > 1:
        row["wall_runs_s"] = [run["wall_time_s"] for run in runs]
    return row


def _measure(bench: Benchmark, repeat: int = 1) -> dict[str, Any]:
    return _row(bench, [_run_once(bench) for _ in range(repeat)])


@dataclass(frozen=True)
class Baseline:
    """The files of another commit, exported to compare against (``--against``)."""

    rev: str
    commit: str
    tree: Path


def export_commit(rev: str, into: Path) -> Baseline:
    """Extract commit ``rev`` of this repository (``git archive``) into ``into``."""
    found = subprocess.run(["git", "rev-parse", "--short", "--verify", "--quiet", f"{rev}^{{commit}}"],
                           capture_output=True, text=True, check=False)
    if found.returncode != 0:
        raise ValueError(f"{rev!r} is not a commit of this repository")
    commit = found.stdout.strip()
    archive = subprocess.run(["git", "archive", "--format=tar", commit], capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    return Baseline(rev, commit, into)


def _measure_against(bench: Benchmark, repeat: int, baseline: Baseline) -> tuple[dict[str, Any], dict[str, Any]]:
    """This checkout's row, and the comparison with ``baseline`` (runs alternate: here, there, here...)."""
    here: list[dict[str, Any]] = []
    there: list[dict[str, Any]] = []
    for _ in range(repeat):
        here.append(_run_once(bench))
        there.append(_run_once(bench, baseline.tree))
    row, base = _row(bench, here), _row(bench, there)
    differs = _differing(row, base)
    change = row["wall_time_s"] / base["wall_time_s"] - 1 if base["wall_time_s"] else None
    return row, {"name": bench.name, "note": bench.note, "wall_time_s": row["wall_time_s"],
                 "against_wall_time_s": base["wall_time_s"], "change": change, "differs": differs,
                 "wall_runs_s": [r["wall_time_s"] for r in here],
                 "against_wall_runs_s": [r["wall_time_s"] for r in there], "against_row": base}


def _row(bench: Benchmark, runs: list[dict[str, Any]]) -> dict[str, Any]:
    row = best_of(bench.name, runs)
    row.pop("code", None)
    wall = row["wall_time_s"]
    row["events_per_s"] = round(row["events"] / wall) if wall else None
    row["speedup"] = round(row["sim_time_s"] / wall) if wall else None
    requests = row.get("requests")
    row["requests_per_wall_s"] = round(requests / wall) if requests and wall else None
    row["targets"] = [{"target": t.label, "met": t.met(row)} for t in bench.targets]
    return {"name": bench.name, "note": bench.note, **row}


def _measure_sweep(bench: SweepBenchmark) -> dict[str, Any]:
    """Wall time of the sweep with 1 and 2 worker processes, each in a fresh interpreter (best of two)."""
    row: dict[str, Any] = {"name": bench.name, "note": bench.note}
    # other processes on the machine take cores from the workers: record how busy it was
    row["load_average_before"] = round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None
    for jobs in (1, 2, 1, 2):  # alternated and repeated: the faster of two tries, as the machine may be busy
        spec = {"scenario": bench.scenario, "vary": list(bench.vary), "sample": bench.sample,
                "sets": list(bench.sets), "jobs": jobs}
        out = subprocess.run([sys.executable, "-c", _SWEEP_CHILD, json.dumps(spec)], capture_output=True,
                             text=True, check=False)
        if out.returncode != 0:
            raise RuntimeError(f"{bench.name} failed:\n{out.stderr[-2000:]}")
        result = json.loads(out.stdout.strip().splitlines()[-1])
        row["points"] = result["points"]
        if result["wall_s"] < row.get(f"wall_{jobs}_s", float("inf")):
            row[f"wall_{jobs}_s"] = round(result["wall_s"], 2)
            row[f"cpu_{jobs}_s"] = round(result["cpu_s"], 2)  # all processes, parent and workers
    row["speedup_2_cores"] = round(row["wall_1_s"] / row["wall_2_s"], 2)
    return row


def _machine() -> dict[str, Any]:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            check=False).stdout.strip()
    changed = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                             text=True, check=False).stdout.strip()
    if commit and changed:
        commit += "+changes"  # the working tree differs from the commit: its files were measured
    return {"commit": commit or None, "python": platform.python_version(), "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
            "date": datetime.now(UTC).isoformat(timespec="seconds")}


def _print_table(rows: list[dict[str, Any]], machine: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(title=f"kubesim benchmarks (commit {machine['commit']}, {machine['cpus']} cpus, "
                        f"Python {machine['python']})")
    for col in ("benchmark", "scenario", "wall s", "cpu s", "sim s", "speed-up", "events/s", "peak RSS MiB",
                "startup p50 s", "startup p99 s", "sched µs/pod", "sched pods/wall-s", "req/wall-s", "targets"):
        table.add_column(col, justify="left" if col in ("benchmark", "scenario", "targets") else "right",
                         min_width={"scenario": 26, "targets": 26}.get(col))
    for r in rows:
        wall = f"{r['wall_time_s']:.2f}" + (f"\nbest of {len(r['wall_runs_s'])}" if "wall_runs_s" in r else "")
        table.add_row(r["name"], r["note"], wall, f"{r['cpu_time_s']:.2f}", f"{r['sim_time_s']:g}",
                      f"{r['speedup']:,}x",
                      f"{r['events_per_s']:,}", f"{r['peak_rss_bytes'] / 2**20:,.0f}",
                      f"{r['pod_startup_p50_s']:.3f}", f"{r['pod_startup_p99_s']:.3f}",
                      f"{r['schedule_us_per_pod']:.0f}", f"{1e6 / r['schedule_us_per_pod']:,.0f}",
                      _requests_cell(r), _targets_cell(r))
    _console().print(table)


def _print_against(rows: list[dict[str, Any]], baseline: Baseline, repeat: int) -> None:
    from rich.table import Table

    runs = f"alternated runs, best of {repeat}" if repeat > 1 else "one run each"
    name = baseline.commit if baseline.commit.startswith(baseline.rev) else f"{baseline.rev} ({baseline.commit})"
    table = Table(title=f"this checkout against {name}: {runs}")
    for col in ("benchmark", "wall s here", f"wall s at {baseline.commit}", "change", "same simulation"):
        table.add_column(col, justify="left" if col in ("benchmark", "same simulation") else "right")
    for r in rows:
        change = "–" if r["change"] is None else f"{100 * r['change']:+.1f} %"
        same = "yes" if not r["differs"] else "NO: " + ", ".join(
            "event records" if key == "trace_digest" else key for key in r["differs"]) + " differ"
        table.add_row(r["name"], f"{r['wall_time_s']:.2f}", f"{r['against_wall_time_s']:.2f}", change, same)
    _console().print(table)


def _print_sweeps(rows: list[dict[str, Any]]) -> None:
    from rich.table import Table

    table = Table(title="what-if sweeps (kubesim sweep, no cache)")
    for col in ("benchmark", "scenario", "points", "wall s, 1 process", "wall s, 2 processes", "speed-up",
                "cpu s, 1 / 2", "load avg before"):
        table.add_column(col, justify="left" if col in ("benchmark", "scenario") else "right")
    for r in rows:
        table.add_row(r["name"], r["note"], str(r["points"]), f"{r['wall_1_s']:.1f}", f"{r['wall_2_s']:.1f}",
                      f"{r['speedup_2_cores']:.2f}x", f"{r['cpu_1_s']:.0f} / {r['cpu_2_s']:.0f}",
                      f"{r['load_average_before']}")
    _console().print(table)


def _console() -> Any:
    """A terminal gets tables fitted to its width; a file or pipe gets them unwrapped."""
    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=240)


def _targets_cell(row: dict[str, Any]) -> str:
    return "\n".join(f"{t['target']}: {'met' if t['met'] else 'NOT met'}" for t in row.get("targets", ())) or "–"


def _requests_cell(row: dict[str, Any]) -> str:
    """Requests simulated per wall second, with the serving mode (– without traffic)."""
    rate = row.get("requests_per_wall_s")
    return "–" if rate is None else f"{rate:,} ({row.get('serving_mode')})"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks, print the table, write bench-results/bench-<time>.json."""
    parser = argparse.ArgumentParser(prog="kubesim-bench", description=__doc__)
    parser.add_argument("--only", action="append",
                        help="run only these benchmarks (repeatable; names: "
                             + ", ".join(b.name for b in BENCHMARKS) + ", " + ", ".join(b.name for b in SWEEPS) + ")")
    parser.add_argument("--large", action="store_true",
                        help="also run the minutes-long benchmarks (density-5k: 5,000 nodes, 150,000 pods)")
    parser.add_argument("--out", type=Path, default=Path("bench-results"), help="folder for the JSON results")
    parser.add_argument("--no-real", action="store_true", help="skip the real-control-plane runs")
    parser.add_argument("--context", default="kwok-kubesim", help="context for the real runs (default kwok-kubesim)")
    parser.add_argument("--repeat", type=_positive, default=1, metavar="N",
                        help="run each scenario benchmark N times (fresh processes) and keep the fastest "
                             "(default 1; the sweep always keeps the faster of two)")
    parser.add_argument("--against", metavar="REV",
                        help="also run each scenario benchmark on commit REV (e.g. HEAD, main~3), alternating "
                             "with this checkout's runs, and report the change in wall time and whether the "
                             "simulated figures agree; the sweep and the real-cluster runs are skipped")
    args = parser.parse_args(argv)
    names = {b.name for b in BENCHMARKS} | {b.name for b in SWEEPS}
    unknown = sorted(set(args.only or ()) - names)
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)} (names: {', '.join(sorted(names))})")
    chosen = [b for b in BENCHMARKS if b.name in args.only] if args.only else \
        [b for b in BENCHMARKS if args.large or not b.large]
    sweeps_named = sorted({b.name for b in SWEEPS} & set(args.only or ()))
    if args.against and sweeps_named:
        parser.error(f"--against compares the scenario benchmarks, not sweeps ({', '.join(sweeps_named)})")
    chosen_sweeps = [b for b in SWEEPS if (not args.only or b.name in args.only) and not args.against]
    with tempfile.TemporaryDirectory(prefix="kubesim-bench-") as tmp:
        baseline = None
        if args.against:
            try:
                baseline = export_commit(args.against, Path(tmp))
            except (ValueError, OSError, subprocess.CalledProcessError) as exc:
                parser.error(f"--against: {exc}")
        return _run(args, chosen, chosen_sweeps, baseline)


def _run(args: argparse.Namespace, chosen: list[Benchmark], chosen_sweeps: list[SweepBenchmark],
         baseline: Baseline | None) -> int:
    from rich.console import Console

    status = Console(stderr=True)
    rows: list[dict[str, Any]] = []
    compared: list[dict[str, Any]] = []
    sweeps: list[dict[str, Any]] = []
    interrupted = False
    queue: list[Benchmark | SweepBenchmark] = [*chosen, *chosen_sweeps]
    try:  # Ctrl-C keeps what was measured: the table and the JSON hold the finished rows
        for i, bench in enumerate(queue, 1):
            with status.status(f"[{i}/{len(queue)}] {bench.name}: {bench.note}"):
                if isinstance(bench, Benchmark) and baseline is not None:
                    row, comparison = _measure_against(bench, args.repeat, baseline)
                    rows.append(row)
                    compared.append(comparison)
                    done = f"{row['wall_time_s']:.2f} s wall, {comparison['against_wall_time_s']:.2f} s at " \
                           f"{baseline.commit}"
                elif isinstance(bench, Benchmark):
                    rows.append(_measure(bench, args.repeat))
                    done = f"{rows[-1]['wall_time_s']:.2f} s wall"
                else:
                    sweeps.append(_measure_sweep(bench))
                    done = f"{sweeps[-1]['wall_1_s']:.2f} s wall"
            status.print(f"[{i}/{len(queue)}] {bench.name}: {done}")
    except KeyboardInterrupt:
        interrupted = True
        status.print("interrupted: reporting the benchmarks that finished")
    machine = _machine()
    if rows:
        _print_table(rows, machine)
    if compared and baseline is not None:
        _print_against(compared, baseline, args.repeat)
    if sweeps:
        _print_sweeps(sweeps)
    real = []
    if not interrupted and not args.no_real and baseline is None and any(b.real for b in chosen):
        from labs.bench import measure_real, print_side_by_side

        real = [measure_real(b, row, args.context) for b, row in zip(chosen, rows, strict=True) if b.real]
        print_side_by_side(real)
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = args.out / f"bench-{stamp}.json"
    record: dict[str, Any] = {"machine": machine, "repeat": args.repeat, "results": rows, "sweeps": sweeps,
                              "real": real}
    if baseline is not None:
        record["against"] = {"rev": baseline.rev, "commit": baseline.commit, "results": compared}
    if interrupted:
        record["interrupted"] = True
    path.write_text(json.dumps(record, indent=2) + "\n")
    print(f"written {path}")
    return 130 if interrupted else 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


if __name__ == "__main__":
    sys.exit(main())
