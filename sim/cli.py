"""The ``kubesim`` command: run, validate and inspect scenarios.

Examples::

    kubesim run scenarios/serving-basic.yaml
    kubesim run scenarios/serving-basic.yaml --seed 3 --set controlPlane.etcd.fsync=20ms
    kubesim validate scenarios/*.yaml
    kubesim schema > scenarios/schema.json
    kubesim sweep scenarios/capacity-gpu.yaml --vary cluster.nodePools.gpu.count=1..8   (see sim/whatif/cli.py)
    kubesim plan scenarios/capacity-gpu.yaml --vary cluster.nodePools.gpu.count=1..16 \\
        --require 'pods_pending_at_end == 0'
    kubesim replay scenarios/pod-startup.yaml --context kwok-kubesim   (see labs/cli.py)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from sim.yamlio import SourceError

__all__ = ["main"]

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kubesim",
        description="A discrete-event simulator of the Kubernetes control plane for ML serving and "
                    "training. Runs a scenario (cluster + manifests + timeline) in simulated time and "
                    "writes a trace, a summary, plots and a report.",
        epilog="Start with: kubesim run scenarios/serving-basic.yaml   (then open runs/serving-basic/report.md)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run a scenario and write its trace, summary, plots and report",
                         description="Run a scenario and write DIR/trace.jsonl, summary.json, report.md "
                                     "and PNG plots (all written atomically).")
    run.add_argument("scenario", type=Path, help="scenario YAML file")
    run.add_argument("--out", type=Path, help="output folder (default: runs/<scenario name>)")
    run.add_argument("--seed", type=int, help="random seed (default: the scenario's seed)")
    run.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                     help="override a scenario field, e.g. --set cluster.nodePools.gpu.count=4 "
                          "or --set controlPlane.etcd.fsync=20ms (repeatable)")
    run.add_argument("--no-plots", action="store_true", help="skip the PNG plots (faster)")
    run.add_argument("--quiet", action="store_true", help="no progress bar or summary table")

    val = sub.add_parser("validate", help="check scenario files without running them",
                         description="Check scenario files (and the manifests they use); "
                                     "exits 2 at the first problem, naming file, line and field.")
    val.add_argument("files", nargs="+", type=Path, help="scenario YAML files")

    exp = sub.add_parser("explain", help="why a pod went where it did (or stayed Pending)",
                         description="Show the scheduler's decisions for one pod from a run's trace: "
                                     "FailedScheduling messages with per-reason node counts, or the top "
                                     "nodes with each plugin's weighted score.")
    exp.add_argument("trace", type=Path, help="a trace.jsonl, or the run folder holding it")
    exp.add_argument("pod", help="pod name (or namespace/name, or a unique prefix)")

    schema = sub.add_parser("schema", help="print the scenario JSON Schema (for editor completion)")
    schema.add_argument("--out", type=Path, help="write to this file instead of stdout")

    from sim.whatif.cli import add_parsers as add_whatif_parsers  # sweep, plan (capacity what-ifs)

    add_whatif_parsers(sub)

    from labs.cli import add_parsers  # replay, compare, fidelity, kind-config, kind (real clusters)

    add_parsers(sub)
    return parser


def _fail(message: str) -> int:
    print(f"kubesim: error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def _summary_table(summary: dict[str, Any], out_dir: Path, metrics: list[str] | None) -> None:
    from rich.console import Console
    from rich.table import Table

    from sim.report import summary_rows

    table = Table(title=f"{summary['scenario']} (seed {summary['seed']})", show_header=False)
    table.add_column("figure")
    table.add_column("value", justify="right")
    for label, value in summary_rows(summary, metrics):
        table.add_row(label, value)
    table.add_row("Simulated / wall time", f"{summary['sim_time_s']:g} s / {summary['wall_time_s']:.2f} s")
    console = Console()
    console.print(table)
    console.print(f"Report: [bold]{out_dir / 'report.md'}[/bold]")


def _run_with_progress(sim: Any, quiet: bool) -> Any:
    """Run, showing a progress bar once the run has taken more than a second."""
    if quiet or not sys.stderr.isatty():
        return sim.run()
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    started = time.monotonic()
    progress = Progress(TextColumn("simulating {task.description}"), BarColumn(),
                        TextColumn("{task.percentage:>3.0f}%"), TimeRemainingColumn(), transient=True)
    task = None

    def tick(fraction: float) -> None:
        nonlocal task
        if task is None and time.monotonic() - started > 1.0:
            progress.start()
            task = progress.add_task(sim.scenario.name, total=1.0)
        if task is not None:
            progress.update(task, completed=fraction)

    try:
        return sim.run(progress=tick)
    finally:
        if task is not None:
            progress.stop()


def _cmd_run(args: argparse.Namespace) -> int:
    from sim.engine import Simulation
    from sim.report import write_outputs
    from sim.scenario import load_scenario

    scenario = load_scenario(args.scenario, args.overrides)
    out_dir = args.out or Path("runs") / scenario.name
    result = _run_with_progress(Simulation(scenario, seed=args.seed), args.quiet)
    plots = [] if args.no_plots else list(scenario.outputs.plots)
    write_outputs(out_dir, result.trace, result.summary, scenario.description, plots,
                  scenario.outputs.timeline_pods, scenario.outputs.metrics)
    if args.quiet:
        print(out_dir / "report.md")
    else:
        _summary_table(result.summary, out_dir, scenario.outputs.metrics)
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from sim.scenario import load_scenario

    for file in args.files:
        scenario = load_scenario(file)
        print(f"{file}: ok ({scenario.node_count} nodes, {len(scenario.objects)} objects, "
              f"{len(scenario.timeline)} timeline actions)")
    return 0


def _cmd_explain(args: argparse.Namespace) -> int:
    from sim.explain import explain
    from sim.trace import Trace

    path = args.trace / "trace.jsonl" if args.trace.is_dir() else args.trace
    if not path.is_file():
        return _fail(f"{path}: trace not found (give a trace.jsonl or a run folder)")
    try:
        print(explain(Trace.read_jsonl(path), args.pod))
    except ValueError as exc:
        return _fail(f"{path}: {exc}")
    return 0


def _cmd_schema(args: argparse.Namespace) -> int:
    from sim.scenario import json_schema

    text = json.dumps(json_schema(), indent=2) + "\n"
    if args.out:
        args.out.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``kubesim`` console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_BAD_INPUT
    handlers = {"run": _cmd_run, "validate": _cmd_validate, "explain": _cmd_explain, "schema": _cmd_schema}
    try:
        return (handlers.get(args.command) or args.handler)(args)
    except SourceError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        print("kubesim: interrupted; no partial output was written", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
