"""Command line. ``python run.py`` with no arguments runs the baseline scenario ensemble and
writes its report to ``results/baseline/``; subcommands run, compare and validate scenario
files (see ``python run.py SUBCOMMAND --help``)."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
from pathlib import Path

from .scenarios import ScenarioError, list_scenarios

# Subcommands that live in their own module: each provides HELP, add_arguments(parser) and
# main(args) -> exit code. A module that is not present simply has no subcommand.
PLUGINS = {"ui": "sim.app_cli", "calibrate": "sim.calibration"}
BACKENDS = ("serial", "processes", "dask")


def _add_run_options(p: argparse.ArgumentParser, out_help: str):
    p.add_argument("--replicates", type=int, help="replicates per scenario (default: the scenario file's)")
    p.add_argument("--seed", type=int, help="root seed (default: the scenario file's); replicate k gets the same seed in every scenario")
    p.add_argument("--until", type=int, help="last simulated year (default: the scenario file's)")
    p.add_argument("--scale", type=float, help="simulated firms per real firm, 0.001–1 (default 1: every firm)")
    p.add_argument("--out", type=Path, help=out_help)
    p.add_argument("--backend", choices=BACKENDS, default="processes",
                   help="serial in this process, a local process pool (default), or Dask distributed")
    p.add_argument("--workers", type=int, help="worker processes (default: the number of CPUs)")
    p.add_argument("--scheduler", help="address of a running Dask scheduler, e.g. tcp://host:8786 (implies --backend dask)")
    p.add_argument("--chunk", type=int, help="replicates per task (default: spread evenly over the workers)")
    p.add_argument("--no-report", action="store_true", help="write the results and summary, skip report.html and figures")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="run.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="scenarios available by name: " + ", ".join(p.stem for p in list_scenarios()))
    sub = parser.add_subparsers(dest="command", metavar="SUBCOMMAND")

    run = sub.add_parser("run", help="run scenario ensembles, write results, summary.csv and report.html",
                         description="Run each scenario's replicates and write, per scenario, results "
                                     "(Parquet), summary.csv, report.html and PNG figures. Re-running into the "
                                     "same --out resumes: finished replicates are kept.")
    run.add_argument("scenarios", nargs="+", metavar="SCENARIO", help="scenario file or name in scenarios/")
    _add_run_options(run, "output folder (default results/<scenario>/; with several scenarios, one sub-folder each)")

    cmp = sub.add_parser("compare", help="paired comparison of scenarios (same seeds per replicate)",
                         description="Run every scenario with the same root seed and replicates as the first "
                                     "one, then report each target's paired differences against the first "
                                     "(the reference) with 95 %% intervals.")
    cmp.add_argument("scenarios", nargs="+", metavar="SCENARIO", help="two or more scenarios; the first is the reference")
    _add_run_options(cmp, "output folder (default results/compare_<A>_vs_<B>…/)")

    val = sub.add_parser("validate", help="check scenario files without running them",
                         description="Check scenario files (keys, types, ranges, extends) and print what each runs.")
    val.add_argument("scenarios", nargs="+", metavar="SCENARIO")

    for name, module in PLUGINS.items():
        if importlib.util.find_spec(module) is not None:
            mod = importlib.import_module(module)
            p = sub.add_parser(name, help=mod.HELP, description=mod.HELP)
            mod.add_arguments(p)
            p.set_defaults(plugin=mod)
    return parser


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    if not argv:
        argv = ["run", "baseline"]
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    if getattr(args, "plugin", None) is not None:
        return args.plugin.main(args)
    try:
        if args.command == "validate":
            return _validate(args)
        from . import experiments
        return experiments.run_command(args)
    except ScenarioError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted: finished replicates are kept in the output folder; run the same command to resume",
              file=sys.stderr)
        return 130


def _validate(args) -> int:
    from .scenarios import load
    ok = True
    for ref in args.scenarios:
        try:
            s = load(ref)
        except ScenarioError as e:
            print(f"error: {e}", file=sys.stderr)
            ok = False
            continue
        chain = " ← ".join(Path(f).name for f in s.chain)
        print(f"ok  {s.name:<20} {s.replicates} replicates to {s.until}, seed {s.seed}, targets {s.target_set}, "
              f"scale {s.params.scale:g}  [{chain}]\n    {s.description}")
    return 0 if ok else 2


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


if __name__ == "__main__":
    sys.exit(main())
