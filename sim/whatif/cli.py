"""``kubesim sweep`` and ``kubesim plan``: what-if tables, plots and capacity answers.

Examples::

    kubesim sweep scenarios/capacity-gpu.yaml --vary cluster.nodePools.gpu.count=1..8 \\
        --vary workloads.model-server.spec.replicas=8,16,24 --replications 3
    kubesim sweep scenarios/serving-basic.yaml --vary controlPlane.etcd.fsync=1ms..20ms --sample lhs:20
    kubesim plan scenarios/capacity-gpu.yaml --vary cluster.nodePools.gpu.count=1..16 \\
        --require 'pods_pending_at_end == 0' --require 'pod_ready_p99_s < 4m' --minimize cost_per_hour
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["add_parsers"]

EXIT_NO_ANSWER = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
DEFAULT_SHOWN = ("pods_pending_at_end", "pod_ready_p99_s", "cost_per_hour")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", type=Path, help="scenario YAML file")
    parser.add_argument("--vary", action="append", required=True, metavar="PATH=VALUES",
                        help="a parameter and its values: 1,2,4 | 1..32 | range(0, 100, 10) | "
                             "lo..hi with --sample (repeatable; PATH as for --set)")
    parser.add_argument("--replications", type=int, default=3, metavar="N",
                        help="runs per configuration, seeds derived from the scenario seed (default 3)")
    parser.add_argument("--jobs", type=int, metavar="J", help="worker processes (default: every core)")
    parser.add_argument("--out", type=Path, help="tables, plots and the run cache "
                                                 "(default: runs/whatif/<scenario name>)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                        help="a fixed override for every configuration (repeatable)")
    parser.add_argument("--seed", type=int, help="base seed (default: the scenario's)")
    parser.add_argument("--require", action="append", default=[], metavar="'METRIC OP VALUE'",
                        help="e.g. 'pods_pending_at_end == 0' or 'pod_ready_p99_s < 2m' (repeatable)")
    parser.add_argument("--confidence", type=float, default=0.95, help="confidence level (default 0.95)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def add_parsers(sub: Any) -> None:
    """Add ``sweep`` and ``plan`` to the ``kubesim`` subcommands."""
    sweep = sub.add_parser("sweep", help="run a scenario over a grid or sample of parameters, with CIs",
                           description="Run a scenario at every configuration of the --vary grid (or a "
                                       "--sample), N times each; write sweep.csv/.parquet (mean, std, CI per "
                                       "metric), runs.csv/.parquet and plots. Finished runs are cached: "
                                       "re-running reuses them, and an interrupted sweep resumes.")
    _common(sweep)
    sweep.add_argument("--sample", metavar="lhs:N|random:N", help="N sampled points instead of the grid")
    sweep.add_argument("--plot", action="append", default=[], metavar="METRIC",
                       help="metrics to plot and show (default: those in --require, else pending pods, "
                            "ready p99 and cost)")
    sweep.set_defaults(handler=_cmd_sweep)

    plan = sub.add_parser("plan", help="the cheapest configuration meeting every requirement",
                          description="Search the --vary grid for the configuration that minimises a metric "
                                      "while meeting every --require with the stated confidence; bisects "
                                      "over node counts (monotone), otherwise a budgeted search. Explains "
                                      "the answer, its binding constraint and the neighbours that just fail.")
    _common(plan)
    plan.add_argument("--minimize", default="cost_per_hour", metavar="METRIC", help="default: cost_per_hour")
    plan.add_argument("--budget", type=int, default=64, help="most configurations to evaluate (default 64)")
    plan.add_argument("--monotone", action="append", default=[], metavar="PATH",
                      help="declare that raising PATH never hurts (node pool counts are assumed so)")
    plan.set_defaults(handler=_cmd_plan)


def _fail(message: str) -> int:
    print(f"kubesim: error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def _interrupted(out: Path | None) -> int:
    where = f" in {out / 'cache'}" if out else ""
    print(f"kubesim: interrupted; every finished run is kept{where}: run the same command again to resume",
          file=sys.stderr)
    return EXIT_INTERRUPTED


def _cmd_sweep(args: argparse.Namespace) -> int:
    from sim.whatif.plots import save_sweep_plots
    from sim.whatif.requirements import parse_requirement
    from sim.whatif.study import sweep

    requirements = [parse_requirement(text) for text in args.require]
    for metric in args.plot:
        parse_requirement(f"{metric} >= 0")  # an unknown metric is reported with a suggestion
    started = time.monotonic()
    try:
        table = sweep(args.scenario, args.vary, sample=args.sample, replications=args.replications,
                      jobs=args.jobs, out=args.out, sets=args.overrides, seed=args.seed,
                      confidence=args.confidence, progress=None if not args.quiet else False)
    except KeyboardInterrupt:
        return _interrupted(args.out)
    except ValueError as exc:
        return _fail(str(exc))
    out = Path(table.attrs["out"])
    shown = args.plot or list(dict.fromkeys(r.metric for r in requirements)) or list(DEFAULT_SHOWN)
    plots = save_sweep_plots(table, out, shown, requirements)
    _print_table(table, shown, requirements, args.confidence)
    print(f"{table.attrs['runs_total']} runs ({table.attrs['runs_simulated']} simulated, the rest from the cache) "
          f"in {time.monotonic() - started:.1f} s")
    print(f"Wrote {out / 'sweep.csv'}, sweep.parquet, runs.csv, runs.parquet"
          + (", " + ", ".join(p.name for p in plots) if plots else ""))
    return 0


def _cmd_plan(args: argparse.Namespace) -> int:
    from sim.whatif.search import plan

    if not args.require:
        return _fail("plan needs at least one --require, e.g. --require 'pods_pending_at_end == 0'")
    try:
        answer = plan(args.scenario, args.vary, args.require, args.minimize, confidence=args.confidence,
                      replications=args.replications, jobs=args.jobs, out=args.out, sets=args.overrides,
                      seed=args.seed, budget=args.budget, monotone=args.monotone,
                      progress=None if not args.quiet else False)
    except KeyboardInterrupt:
        return _interrupted(args.out)
    except ValueError as exc:
        return _fail(str(exc))
    print(answer.explain())
    return 0 if answer.best is not None else EXIT_NO_ANSWER


def _print_table(table: Any, metrics: list[str], requirements: list[Any], confidence: float) -> None:
    from rich.console import Console
    from rich.table import Table

    from sim.whatif.plots import feasible

    params = table.attrs["params"]
    ok = feasible(table, requirements, confidence) if requirements else None
    out = Table(title=f"{len(table)} configurations × {table.attrs['replications']} runs: "
                      f"mean ± {confidence:.0%} CI half-width")
    for param in params:
        out.add_column(param.rsplit(".", 1)[-1] if len(params) > 1 else param, justify="right")
    for metric in metrics:
        out.add_column(metric, justify="right")
    if ok is not None:
        out.add_column("meets all", justify="center")
    for i, row in enumerate(table.to_dict("records")):
        cells = [str(row[p]) for p in params] + [_mean_ci(row, m) for m in metrics]
        if ok is not None:
            cells.append("yes" if ok[i] else "no")
        out.add_row(*cells)
    Console(width=max(100, 24 * (len(params) + len(metrics)))).print(out)


def _mean_ci(row: dict[str, Any], metric: str) -> str:
    mean = row.get(f"{metric}_mean", math.nan)
    half = (row.get(f"{metric}_ci_hi", math.nan) - row.get(f"{metric}_ci_lo", math.nan)) / 2
    if math.isnan(mean):
        return "n/a"
    return f"{mean:.4g}" if math.isnan(half) or half == 0 else f"{mean:.4g} ± {half:.2g}"
