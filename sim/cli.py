"""Command line. ``python run.py`` with no arguments runs the baseline scenario ensemble and
writes its report to ``results/baseline/``; subcommands run, compare and validate scenario
files (see ``python run.py SUBCOMMAND --help``)."""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
import textwrap
from pathlib import Path

import pandas as pd

from .app import cli as app_cli
from .experiments.executors import BACKENDS, MAX_WORKERS, WORKERS_PER_CPU, max_workers, scheduler_named
from .experiments.results import warnings_as_lines
from .experiments.scenario_files import list_scenarios
from .experiments.smoke import smoke_test
from .util.errors import InputError, OptionError, guarded
from .util.messages import short


def _subcommands() -> dict:
    """Subcommands that live in their wing: each module provides HELP, add_arguments(parser) and
    main(args) -> exit code. Imported when the parser is built, so that a plain run does not load
    the calibration's or the optimiser's libraries first."""
    from . import calibration
    from .experiments import discover_cli
    from .optimise import cli as optimise_cli
    return {"ui": app_cli, "calibrate": calibration, "optimise": optimise_cli, "discover": discover_cli}


def _add_run_options(p: argparse.ArgumentParser, out_help: str):
    p.add_argument("--replicates", type=int, help="replicates per scenario (default: the scenario file's)")
    p.add_argument("--seed", type=int, help="root seed (default: the scenario file's); replicate k gets the same seed in every scenario")
    p.add_argument("--until", type=int, help="last simulated year (default: the scenario file's)")
    p.add_argument("--scale", type=float, help="simulated firms per real firm, 0.001–1 (default 1: every firm)")
    p.add_argument("--out", help=out_help)     # as typed: Path("") would be "." and hide a blank name
    p.add_argument("--fixed-parameters", action="store_true", default=None,
                   help="every replicate at the calibrated point estimate (replicate noise only); by default "
                        "replicate k runs the calibration's posterior draw k, so the bands include parameter uncertainty")
    p.add_argument("--backend", choices=BACKENDS, default="processes",
                   help="serial in this process, a local process pool (default), or Dask distributed")
    p.add_argument("--workers", type=int, help=f"worker processes (default: the number of CPUs; at most {WORKERS_PER_CPU} "
                                                "per CPU)")
    p.add_argument("--scheduler", help="address of a running Dask scheduler, e.g. tcp://host:8786 (implies --backend dask)")
    p.add_argument("--chunk", type=int, help="replicates per task (default: spread evenly over the workers)")
    p.add_argument("--overwrite", action="store_true",
                   help="discard the results this simulator wrote in the output folder instead of resuming from them "
                        "(other files there are left alone)")
    p.add_argument("--wait", nargs="?", type=float, const=math.inf, default=0.0, metavar="SECONDS",
                   help="if another run is writing to the output folder, wait for it (at most SECONDS; without a "
                        "number, as long as it takes) instead of stopping with exit code 2")
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
    _add_run_options(run, "output folder: new, empty or holding this simulator's results (default results/<scenario>/; "
                          "with several scenarios, one sub-folder each)")

    cmp = sub.add_parser("compare", help="paired comparison of scenarios (same seeds per replicate)",
                         description="Run every scenario with the same root seed and replicates as the first "
                                     "one, then report each target's paired differences against the first "
                                     "(the reference) with 95 %% intervals.")
    cmp.add_argument("scenarios", nargs="+", metavar="SCENARIO", help="two or more scenarios; the first is the reference")
    _add_run_options(cmp, "output folder (default results/compare_<A>_vs_<B>…/)")

    val = sub.add_parser("validate", help="check scenario files without running them",
                         description="Check scenario files (keys, types, ranges, extends, what the model needs across "
                                     "parameters, calibration file, target set) and build each one quarter at a tiny "
                                     "scale; print what each runs.")
    val.add_argument("scenarios", nargs="+", metavar="SCENARIO")

    for name, mod in _subcommands().items():
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
        problem = _host_problem(getattr(args, "host", None))
        if problem:
            print(f"error: {problem}", file=sys.stderr)
            return 2
        return args.plugin.main(args)
    def work():
        with warnings_as_lines():
            if args.command == "validate":
                return _validate(args)
            return run_command(args)
    return guarded(work, "the replicates that finished (in the output folder)", "resume")


def _host_problem(host) -> str | None:
    """The app's address check resolves the name; a malformed one (an empty or 64+ character
    label) makes the resolver raise instead of answering, so it is caught here first."""
    if host is None:
        return None
    try:
        host.encode("idna")
    except UnicodeError:
        return f"--host {short(host)} is not an address or host name (dot-separated labels of 1–63 characters)"
    return None


def _display(path) -> str:
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def _validate(args) -> int:
    """Every problem of every file in one run, then the one-quarter build of those with none."""
    from .experiments.scenarios import problems
    ok = True
    for ref in args.scenarios:
        s, found = problems(ref)
        for e in found:
            print(f"error: {e}", file=sys.stderr)
        try:
            if s is not None:
                smoke_test(s)
        except InputError as e:
            found = [e]
            print(f"error: {e}", file=sys.stderr)
        if found:
            ok = False
            continue
        chain = " ← ".join(Path(f).name for f in s.chain)
        calibration = f", calibration {_display(s.calibration)}, parameters {s.parameters_note}" if s.calibration else ""
        print(f"ok  {s.name:<20} {s.replicates} replicates to {s.until}, seed {s.seed}, targets {s.target_set}, "
              f"scale {s.params.scale:g}{calibration}  [{chain}]\n    {s.description}")
    return 0 if ok else 2


def run_command(args) -> int:
    """``run`` and ``compare``: validate everything first, then simulate, then write and print."""
    from .experiments import ensemble, executors, outfolder, results
    from .experiments.scenarios import load

    limits = {"workers": max_workers(), "chunk": ensemble.MAX_CHUNK}
    for flag, hi in limits.items():
        value = getattr(args, flag)
        if value is not None and not 1 <= value <= hi:
            why = f" ({WORKERS_PER_CPU} per CPU here, at most {MAX_WORKERS})" if flag == "workers" else ""
            raise OptionError(f"--{flag}", f"allowed 1 to {hi}{why}, got {short(value)}")
    if not args.wait >= 0:
        raise OptionError("--wait", f"expected seconds (0 or more), got {short(args.wait)}")
    wait = None if math.isinf(args.wait) else args.wait
    files = scenarios = [load(ref) for ref in args.scenarios]
    if args.command == "compare":
        if len(scenarios) < 2:
            raise OptionError("SCENARIO", "compare needs at least two scenarios; the first is the reference")
        # Pairing: every scenario runs the reference's seeds and replicate count.
        ref = scenarios[0]
        seed, replicates = args.seed if args.seed is not None else ref.seed, args.replicates or ref.replicates
    else:
        seed, replicates = args.seed, args.replicates
    scenarios = [s.with_run(replicates=replicates, seed=seed, until=args.until, scale=args.scale,
                            fixed_parameters=args.fixed_parameters) for s in scenarios]
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise OptionError("SCENARIO", f"each scenario may appear once, got {', '.join(names)}")
    for s in scenarios:
        smoke_test(s)

    tags = [_tag(file, s) for file, s in zip(files, scenarios)]
    root, reused = None, set()
    if args.command == "compare":
        root = outfolder.OutputFolder(args.out if args.out is not None else
                                      Path("results") / ("compare_" + "_vs_".join(names) + tags[0]), "comparison")
        outs = [root.path / n for n in names]
        # A scenario whose own results folder already holds this very set-up is read, not run again.
        for i, (s, t) in enumerate(zip(scenarios, tags)):
            own = Path("results") / (s.name + t)
            if not args.overwrite and results.holds(own, s):
                outs[i] = own
                reused.add(i)
                print(f"{s.name}: using the {s.replicates} replicates already in {own} (the same set-up)", file=sys.stderr)
    elif len(scenarios) == 1:
        outs = [args.out if args.out is not None else Path("results") / (names[0] + tags[0])]
    else:
        parent = outfolder.OutputFolder(args.out if args.out is not None else Path("results"))
        parent.check_place()         # a parent of results folders: never the root, home or project folder
        outs = [parent.path / (n + t) for n, t in zip(names, tags)]
    folders = [outfolder.OutputFolder(out) for out in outs]
    held = ([root] if root else []) + folders
    for f in held:                  # every folder is checked before any is touched
        f.check()

    with contextlib.ExitStack() as stack:
        for f in sorted(held, key=lambda f: str(f.path.resolve())):    # one order: two runs never deadlock
            stack.enter_context(_opened(f, wait))
        if args.overwrite:
            for f in held:
                f.clear()
        todo = {s.name: results.prepare(s, f) for s, f in zip(scenarios, folders)}   # fails before any run
        reused_folders = [folders[i] for i in reused]
        for f in held:      # rewritten below; an old report may describe other replicates than this run's
            if f not in reused_folders:
                f.remove_derived()
        backend = "dask" if args.scheduler else args.backend
        workers = args.workers or executors.default_workers()
        total = sum(len(t) for t in todo.values())
        where = f"Dask scheduler {args.scheduler}" if args.scheduler else f"{backend}, {workers if backend != 'serial' else 1} worker(s)"
        print(f"{len(scenarios)} scenario(s) × replicates: {total} run(s) to do, "
              f"{sum(s.replicates for s in scenarios) - total} already done [{where}]", file=sys.stderr)
        done = []
        with scheduler_named(args.scheduler), executors.executor(backend, workers, args.scheduler) as pool:
            for s, f in zip(scenarios, folders):
                done.append(ensemble.run_ensemble(s, out=f, chunk=args.chunk, pool=pool, backend=backend,
                                                  workers=workers, progress=not args.quiet))

        from .report import html as report
        for r, f in zip(done, folders):
            if f in reused_folders:       # its own run's summary and report stay as they are
                print(summary_table(r) + f"\n  (read from {f.path})\n")
                continue
            outfolder.atomic_write(f.path / "summary.csv", r.summary.to_csv(index=False).encode(), f.run_id)
            # A comparison's report shows every scenario; its own reports would repeat it.
            own_report = not args.no_report and args.command == "run"
            if own_report:
                report.write_report(r, f.path)
            f.record_reports()
            print(summary_table(r))
            print(f"  → {f.path}/summary.csv" + (f", {f.path}/report.html, {f.path}/figures/" if own_report else "") + "\n")
        if root:
            diffs = pd.concat([ensemble.compare(done[0], r) for r in done[1:]], ignore_index=True)
            outfolder.atomic_write(root.path / "differences.csv", diffs.to_csv(index=False).encode(), root.run_id)
            if not args.no_report:
                report.write_comparison_report(done, diffs, root.path)
            root.record_reports()
            print(differences_table(diffs, done[0].scenario.targets))
            print(f"  → {root.path}/differences.csv" + ("" if args.no_report else f", {root.path}/report.html"))
    return 0


def _tag(file, scenario) -> str:
    """What a default results folder's name adds for command-line settings that change results,
    so a quick small run never collides with the full one in results/<scenario>/: only a setting
    that differs from the scenario file's own value."""
    own = (("scale", file.params.scale, scenario.params.scale), ("seed", file.seed, scenario.seed),
           ("until", file.until, scenario.until))
    tag = "".join(f"_{k}{new:g}" for k, old, new in own if new != old)
    return tag + ("_fixed" if scenario.fixed_parameters and not file.fixed_parameters else "")


@contextlib.contextmanager
def _opened(folder, wait):
    """Hold a folder for the run; say so when waiting for another run to release it."""
    from .experiments.outfolder import FolderBusy
    try:
        folder.open(0)
    except FolderBusy:
        if wait == 0:
            raise
        limit = "" if wait is None else f" (at most {wait:g} s)"
        print(f"{folder.path} is in use by another run; waiting for it{limit}…", file=sys.stderr)
        folder.open(wait)
    try:
        yield folder
    finally:
        folder.close()


def _num(x, count: bool = False, digits: int = 1) -> str:
    """One figure as what it is (sim/report/numbers.py): a count whole, a share or amount with its decimals."""
    from .report.numbers import value
    return value(x, count, digits)


def summary_table(result) -> str:
    """The terminal scoreboard: each target's short name and unit beside its figures, counts whole."""
    from .report import numbers as num
    from .report.uncertainty import coarsening_sentence, run_kind, spread_phrase
    s = result.scenario
    kind = run_kind(result)
    by_id = {t.id: t for t in s.targets}
    rows = []
    for r in result.summary.itertuples():
        t = by_id.get(r.target)
        count = num.is_count(t) if t is not None else False
        name = f"{r.target} {num.short_name(t)}" if t is not None else r.target
        rows.append((name, num.unit_of(t), num.threshold(r.threshold), str(r.year), _num(r.median, count),
                     num.band(r.p05, r.p95, count), f"{r.prob_met:.0%}",
                     "—" if r.year_first_met != r.year_first_met else str(int(r.year_first_met))))
    width = max([len("target")] + [len(r[0]) for r in rows]) + 2
    unit_w = max([len("unit")] + [len(r[1]) for r in rows]) + 2
    band_w = max([len("5–95 %")] + [len(r[5]) for r in rows]) + 2
    lines = [f"{s.name}: {s.description}",
             f"  {s.replicates} replicates, seed {s.seed}, to {s.until}, scale {s.params.scale:g}, targets {s.target_set}",
             f"  parameters: {s.parameters_note}",
             f"  spread between runs: {spread_phrase(kind)}"
             + (f" ({kind.draws} of the posterior's {kind.available} draws)" if kind.parameters == "posterior" else "")
             + f"; P(met) known to about ±{kind.margin:.0f} points with {kind.replicates} runs",
             f"  {'target':<{width}}{'unit':<{unit_w}}{'threshold':>10}{'year':>6}{'median':>11}{'5–95 %':>{band_w}}"
             f"{'P(met)':>8}{'first met':>11}"]
    for name, unit, threshold, year, median, band, prob, first in rows:
        lines.append(f"  {name:<{width}}{unit:<{unit_w}}{threshold:>10}{year:>6}{median:>11}{band:>{band_w}}"
                     f"{prob:>8}{first:>11}")
    coarser = coarsening_sentence(result.targets)
    if coarser:
        lines.append(textwrap.fill(coarser, 110, initial_indent="  ", subsequent_indent="  "))
    return "\n".join(lines)


def differences_table(diffs, targets=None) -> str:
    """The terminal's paired differences: the MEAN over the paired runs of each run's difference
    (the scoreboards give medians) in the target's unit, and ΔP(met) in percentage points.
    ``targets``: the reference's (default: found by their descriptions in the shipped target sets)."""
    from .experiments.targets import load_target_sets
    from .report import numbers as num
    modes = diffs.drop_duplicates("scenario").set_index("scenario")["parameters"]
    ref_mode = diffs["reference_parameters"].iloc[0]
    if targets is None:
        by_description = {}
        for targets_of_set in load_target_sets().values():
            for t in targets_of_set:
                by_description.setdefault(t.description, t)
        found = {r.target: by_description.get(getattr(r, "description", None)) for r in diffs.itertuples()}
    else:
        found = {t.id: t for t in targets}
    n = int(diffs["replicates"].iloc[0]) if "replicates" in diffs.columns else 0
    rows = []
    for r in diffs.itertuples():
        t = found.get(r.target)
        name = f"{r.target} {num.short_name(t)}" if t is not None else r.target
        unit = num.diff_unit(t)
        value = [num.difference(v, r.value_reference) for v in (r.value_diff, r.value_diff_lo, r.value_diff_hi)]
        rows.append((name, r.scenario, num.with_unit(value[0], unit), f"{value[1]} … {value[2]}",
                     num.points(r.prob_met_diff), f"{num.points(r.prob_met_diff_lo)} … {num.points(r.prob_met_diff_hi)}"))
    w = [max([len(h)] + [len(row[i]) for row in rows]) + 2 for i, h in enumerate(
        ("target", "scenario", "mean difference", "95 % interval", "ΔP(met)", "95 % interval"))]
    lines = [f"Paired differences against {diffs['reference'].iloc[0]} (scenario − reference, 95 % intervals); parameters: "
             + (ref_mode if modes.eq(ref_mode).all() else
                f"{diffs['reference'].iloc[0]} {ref_mode}, " + ", ".join(f"{k} {v}" for k, v in modes.items())) + ":",
             f"  mean difference: the mean over the {n} paired runs of each run's difference, in the target's unit "
             "(the tables above give medians);",
             "  ΔP(met): the change in the share of runs meeting the target, in percentage points (pp)",
             f"  {'target':<{w[0]}}{'scenario':<{w[1]}}{'mean difference':>{w[2]}}{'95 % interval':>{w[3]}}"
             f"{'ΔP(met)':>{w[4]}}{'95 % interval':>{w[5]}}"]
    for row in rows:
        lines.append(f"  {row[0]:<{w[0]}}{row[1]:<{w[1]}}{row[2]:>{w[2]}}{row[3]:>{w[3]}}{row[4]:>{w[4]}}{row[5]:>{w[5]}}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
