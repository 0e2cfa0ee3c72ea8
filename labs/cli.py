"""The real-cluster subcommands of ``kubesim``: replay, compare, fidelity, fidelity-controllers,
kind-config, kind.

``sim.cli`` calls ``add_parsers`` to add them; each subparser carries its handler
(``handler`` default), which turns a ``LabError`` into one line on stderr and exit status 2.
Nothing here imports the kubernetes client until a command runs.

Examples::

    make cluster
    kubesim replay scenarios/pod-startup.yaml --context kwok-kubesim --until 20s
    kubesim compare runs/pod-startup runs/pod-startup-real --out runs/compare-pod-startup
    kubesim fidelity --context kwok-kubesim
    kubesim fidelity-controllers deployment job
    kubesim kind-config scenarios/serving-basic.yaml --max-workers 4 > kind.yaml
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["add_parsers"]

EXIT_ERROR = 2


def _duration(text: str) -> float:
    from sim.api.quantity import QuantityError, parse_duration

    try:
        return parse_duration(text)
    except QuantityError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _guarded(fn: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    @functools.wraps(fn)
    def run(args: argparse.Namespace) -> int:
        from labs.cluster import LabError

        try:
            return fn(args)
        except (LabError, FileNotFoundError) as exc:
            print(f"kubesim: error: {exc}", file=sys.stderr)
            return EXIT_ERROR
    return run


def _cluster_options(p: argparse.ArgumentParser, context_required: bool = True) -> None:
    p.add_argument("--context", required=context_required, help="kubeconfig context, e.g. kwok-kubesim "
                   "(from `make cluster`) or kind-<name>")
    p.add_argument("--allow-context", metavar="NAME", help="allow this context although it does not look like "
                   "a local test cluster (kind-*, kwok-*, loopback server)")
    p.add_argument("--kubeconfig", type=Path, help="kubeconfig file (default: $KUBECONFIG or ~/.kube/config, "
                   "then ~/.cache/kubesim/kubeconfig)")
    p.add_argument("--idle", type=_duration, metavar="DURATION",
                   help="stop early once the timeline is done and no pod changed for this long (e.g. 3s)")
    p.add_argument("--until", type=_duration, metavar="DURATION", help="stop after this much of the scenario")


def add_parsers(sub: Any) -> None:
    """Add the real-cluster subcommands to ``kubesim``'s subparsers."""
    rp = sub.add_parser("replay", help="play a scenario on a real cluster and record its trace",
                        description="Create a namespace (and KWOK fake nodes), apply the scenario's manifests and "
                                    "timeline in wall-clock time, record pods/events/nodes into a trace, write "
                                    "trace.jsonl, summary.json and report.md; everything is removed afterwards.")
    rp.add_argument("scenario", type=Path, help="scenario YAML file")
    _cluster_options(rp)
    rp.add_argument("--out", type=Path, help="output folder (default: runs/<scenario name>-real)")
    rp.add_argument("--keep", action="store_true", help="leave the namespace and nodes in place (debugging)")
    rp.set_defaults(handler=_guarded(_cmd_replay))

    cp = sub.add_parser("compare", help="a simulated trace next to a real one: table, differences, plots",
                        description="Compare two traces (files or run folders): latency CDFs, placements, "
                                    "pods over time; names the differences.")
    cp.add_argument("sim_trace", type=Path, help="simulated trace.jsonl or run folder")
    cp.add_argument("real_trace", type=Path, help="real trace.jsonl or replay folder")
    cp.add_argument("--out", type=Path, help="write compare.md, compare.json and compare.png here")
    cp.set_defaults(handler=_guarded(_cmd_compare))

    fp = sub.add_parser("fidelity", help="simulate and replay scenarios; print how far scheduling agrees",
                        description="For each scenario: run the simulator and a real replay, then print pods on the "
                                    "same node, identical Pending sets and sorted per-node pod counts. Exits 0 "
                                    "on disagreement; non-zero only on errors.")
    fp.add_argument("scenarios", nargs="*", type=Path,
                    help="scenario files (default: scenarios/fidelity-placement.yaml)")
    _cluster_options(fp)
    fp.add_argument("--out", type=Path, help="write each scenario's sim, real and compare outputs here")
    fp.add_argument("--json", action="store_true", help="print the figures as JSON instead of a table")
    fp.set_defaults(handler=_guarded(_cmd_fidelity), idle_default=3.0)

    cf = sub.add_parser("fidelity-controllers", help="simulated vs real controllers: rollout steps, StatefulSet "
                        "order, Job back-off, CronJob activations, DaemonSet rollouts", description="Run "
                        "scenarios/fidelity/{deployment-rollout,statefulset-ordering,job-backoff,cronjob-forbid,"
                        "daemonset-rollout}.yaml in the simulator and on the kwok-kubesim control plane, and print "
                        "per case the figures of both and whether they agree (see labs/controller_fidelity.py). "
                        "Exits 0 on disagreement; non-zero only on errors.")
    cf.add_argument("cases", nargs="*", metavar="CASE",
                    help="deployment, statefulset, job, cronjob and/or daemonset (default: all five; the job case "
                    "takes about 35 s, the cronjob case up to 2.5 min: it waits for the next wall-clock minute)")
    cf.add_argument("--context", default="kwok-kubesim", help="kubeconfig context (default kwok-kubesim); "
                    "it must be a KWOK cluster with kubesim's stages")
    cf.add_argument("--allow-context", metavar="NAME", help="allow this context although it does not look like "
                    "a local test cluster")
    cf.add_argument("--kubeconfig", type=Path, help="kubeconfig file")
    cf.add_argument("--out", type=Path, help="write <case>.json (both sides' figures and the checks) here")
    cf.add_argument("--json", action="store_true", help="print the results as JSON instead of tables")
    cf.set_defaults(handler=_guarded(_cmd_fidelity_controllers))

    kc = sub.add_parser("kind-config", help="write a kind cluster config shaped like a scenario",
                        description="One kind worker per simulated node (up to --max-workers) with each pool's "
                                    "labels and taints.")
    kc.add_argument("scenario", type=Path, help="scenario YAML file")
    kc.add_argument("--max-workers", type=int, default=None, help="at most this many workers (default 8)")
    kc.add_argument("--out", type=Path, help="write to this file instead of stdout")
    kc.set_defaults(handler=_guarded(_cmd_kind_config))

    kd = sub.add_parser("kind", help="create or delete a kind cluster for a scenario (needs the kind CLI)")
    kd.add_argument("action", choices=("up", "down"))
    kd.add_argument("scenario", type=Path, help="scenario YAML file")
    kd.add_argument("--max-workers", type=int, default=None, help="at most this many workers (default 8)")
    kd.set_defaults(handler=_guarded(_cmd_kind))


def _cmd_replay(args: argparse.Namespace) -> int:
    from sim.report import summary_rows
    from sim.scenario import load_scenario

    from labs.replay import replay

    scenario = load_scenario(args.scenario)
    out = args.out or Path("runs") / f"{scenario.name}-real"
    result = replay(scenario, args.context, out=out, allow_context=args.allow_context, until=args.until,
                    idle=args.idle, kubeconfig=args.kubeconfig, keep=args.keep)
    for label, value in summary_rows(result.summary):
        print(f"{label:<45} {value:>12}")
    for note in result.notes:
        print(f"note: {note}")
    print(f"Report: {out / 'report.md'}")
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from labs.compare import compare, load_trace, render_compare, write_compare

    sim, real = load_trace(args.sim_trace), load_trace(args.real_trace)
    result = compare(sim, real)
    print(render_compare(result, sim, real, []), end="")
    if args.out:
        write_compare(args.out, sim, real, result)
        print(f"\nWritten: {args.out / 'compare.md'} (with compare.png, compare.json)")
    return 0


def _cmd_fidelity(args: argparse.Namespace) -> int:
    from labs.fidelity import DEFAULT_SCENARIOS, fidelity, print_table

    scenarios = list(args.scenarios) or [Path(s) for s in DEFAULT_SCENARIOS]
    idle = args.idle if args.idle is not None else args.idle_default
    rows = fidelity(scenarios, args.context, allow_context=args.allow_context, kubeconfig=args.kubeconfig,
                    idle=idle, until=args.until, out=args.out)
    if args.json:
        print(json.dumps([r.as_dict() for r in rows], indent=2))
    else:
        print_table(rows, args.context)
    return 0


def _cmd_fidelity_controllers(args: argparse.Namespace) -> int:
    from labs.controller_fidelity import CASES, controller_fidelity, print_report

    cases = list(args.cases) or list(CASES)
    results = controller_fidelity(cases, args.context, kubeconfig=args.kubeconfig, allow_context=args.allow_context,
                                  out=args.out)
    if args.json:
        print(json.dumps([r.as_dict() for r in results], indent=2))
    else:
        print_report(results, args.context)
    return 0


def _cmd_kind_config(args: argparse.Namespace) -> int:
    from sim.scenario import load_scenario

    from labs.kind import DEFAULT_MAX_WORKERS, kind_config

    text = kind_config(load_scenario(args.scenario), args.max_workers or DEFAULT_MAX_WORKERS)
    if args.out:
        args.out.write_text(text)
        print(f"written {args.out}")
    else:
        sys.stdout.write(text)
    return 0


def _cmd_kind(args: argparse.Namespace) -> int:
    from sim.scenario import load_scenario

    from labs.kind import DEFAULT_MAX_WORKERS, kind_command

    return kind_command(args.action, load_scenario(args.scenario), args.max_workers or DEFAULT_MAX_WORKERS)
