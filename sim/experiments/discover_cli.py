"""``python run.py discover``: what would have to be true for a target to be missed.

Runs the scenario's ensemble into its results folder (resuming: the replicates already there,
from ``run`` or an earlier ``discover``, are kept), then scenario discovery
(:mod:`sim.experiments.discovery`) for one target; prints the sentences and writes
``discovery.csv`` (one row per box, and one for the whole ensemble) and ``discovery.txt`` (the
sentences) into the folder. Each (target, question) keeps its own rows, so discovering two
targets in one folder keeps both; rows of another set-up or replicate count are dropped.
"""

from __future__ import annotations

import argparse
import io
import math
import sys
from pathlib import Path

import pandas as pd

from ..util.errors import OptionError, guarded
from ..util.messages import short
from .discovery import DEFAULTS, MIN_RUNS_IN_ALL, DiscoveryError, discover, require_prim
from .executors import BACKENDS, max_workers
from .results import warnings_as_lines

HELP = "scenario discovery: under which posterior parameters (and varied levers) a target is mostly missed (PRIM)"
FILES = ("discovery.csv", "discovery.txt")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = (HELP + ". Runs (or resumes) the scenario's ensemble in its results folder, finds the few conditions "
                     "on the inputs its replicates ran with under which the target is mostly missed, with their coverage "
                     "(share of all misses inside) and density (share of runs inside that miss), prints them in plain "
                     "words and writes discovery.csv and discovery.txt to the folder. Needs the optional extra "
                     "'discovery' (pip install -e '.[discovery]').")
    p.add_argument("scenario", metavar="SCENARIO", help="scenario file or name in scenarios/")
    p.add_argument("--target", required=True, metavar="ID", help="a target id of the scenario's target set, e.g. DD27-TS")
    p.add_argument("--met", action="store_true", help="ask instead what it takes to meet the target")
    p.add_argument("--replicates", type=int, help="replicates (default: the scenario file's; more runs, firmer answers: "
                                                  "200 runs every posterior draw once)")
    p.add_argument("--seed", type=int, help="root seed (default: the scenario file's)")
    p.add_argument("--scale", type=float, help="simulated firms per real firm, 0.001–1 (default 1: every firm)")
    p.add_argument("--out", help="results folder (default results/<scenario>/ with the settings that change results "
                                 "appended, as `run` names it, so a run's replicates are reused)")
    p.add_argument("--max-dims", type=int, default=DEFAULTS["max_dims"],
                   help=f"at most this many inputs in a condition (default {DEFAULTS['max_dims']})")
    p.add_argument("--min-density", type=float, default=DEFAULTS["min_density"],
                   help=f"a box must see the target missed in at least this share of its runs (default "
                        f"{DEFAULTS['min_density']:g}, and at least halfway from the overall miss rate to 1)")
    p.add_argument("--boxes", type=int, default=DEFAULTS["boxes"],
                   help=f"at most this many boxes, each among the runs outside the ones before (default {DEFAULTS['boxes']})")
    p.add_argument("--backend", choices=[b for b in BACKENDS if b != "dask"], default="processes",
                   help="serial in this process, or a local process pool (default)")
    p.add_argument("--workers", type=int, help="worker processes (default: the number of CPUs)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def main(args) -> int:
    def work():
        with warnings_as_lines():
            return _main(args)
    return guarded(work, "the replicates that finished (in the output folder)", "resume")


def _check(args) -> None:
    for flag, value, lo, hi in (("--workers", args.workers, 1, max_workers()), ("--max-dims", args.max_dims, 1, 10),
                                ("--boxes", args.boxes, 1, 10)):
        if value is not None and not lo <= value <= hi:
            raise OptionError(flag, f"allowed {lo} to {hi}, got {short(value)}")
    if not (isinstance(args.min_density, float) and 0 < args.min_density <= 1):
        raise OptionError("--min-density", f"a share in (0, 1], got {short(args.min_density)}")


def _main(args) -> int:
    from .ensemble import run_ensemble
    from .outfolder import OutputFolder, atomic_write
    from .scenarios import load
    from .smoke import smoke_test
    _check(args)
    require_prim()                  # the extra first: nothing runs for an answer that cannot be given
    scenario = load(args.scenario).with_run(replicates=args.replicates, seed=args.seed, scale=args.scale)
    if scenario.replicates < MIN_RUNS_IN_ALL:
        raise OptionError("--replicates", f"scenario discovery needs at least {MIN_RUNS_IN_ALL} runs (200 runs every "
                          f"posterior draw once); {scenario.name} would run {scenario.replicates}")
    ids = [t.id for t in scenario.targets]
    if args.target not in ids:
        raise OptionError("--target", f"{short(args.target)} is not a target of {scenario.name} (set "
                          f"{scenario.target_set}); choose one of: {', '.join(ids)}")
    if scenario.parameters != "posterior":
        raise DiscoveryError(f"{scenario.file}: every replicate of {scenario.name} runs the same parameters "
                             f"({scenario.parameters_note}); only chance would differ between its runs, so no condition "
                             "can explain a miss: use a scenario whose calibration holds posterior draws, without "
                             "fixed_parameters = true")
    smoke_test(scenario)
    tag = "".join(f"_{k}{v:g}" for k, v in (("scale", args.scale), ("seed", args.seed)) if v is not None)
    folder = OutputFolder(args.out if args.out is not None else Path("results") / (scenario.name + tag))
    folder.check()
    with folder:
        result = run_ensemble(scenario, out=folder, backend=args.backend, workers=args.workers,
                              progress=not args.quiet)
        found = discover(result, args.target, case="met" if args.met else "missed", max_dims=args.max_dims,
                         min_density=args.min_density, boxes=args.boxes)
        table = merged(folder.path / FILES[0], found.table().assign(fingerprint=scenario.fingerprint(),
                                                                     scale=scenario.params.scale, seed=scenario.seed))
        atomic_write(folder.path / FILES[0], table.to_csv(index=False).encode(), folder.run_id)
        atomic_write(folder.path / FILES[1], render(table).encode(), folder.run_id)
        folder.record(FILES)
    print(found.text())
    print(f"  → {folder.path}/{FILES[0]}, {folder.path}/{FILES[1]}")
    return 0


def merged(path: Path, new: pd.DataFrame) -> pd.DataFrame:
    """``new`` with the rows of the folder's earlier discovery.csv that answer another (target,
    question) of the same set-up and replicates; the rest of the old file is dropped."""
    try:
        old = pd.read_csv(io.BytesIO(path.read_bytes()), keep_default_na=False, na_values=[""])
    except (OSError, ValueError, pd.errors.ParserError):
        return new
    need = {"fingerprint", "runs", "target", "case"}
    if not need <= set(old.columns):
        return new
    keep = ((old["fingerprint"].astype(str) == str(new["fingerprint"].iloc[0]))
            & (old["runs"].astype(str) == str(new["runs"].iloc[0]))
            & ~((old["target"].astype(str) == str(new["target"].iloc[0])) & (old["case"].astype(str) == str(new["case"].iloc[0]))))
    old = old.loc[keep, [c for c in new.columns if c in old.columns]]
    return pd.concat([old, new], ignore_index=True) if len(old) else new


def render(table: pd.DataFrame) -> str:
    """discovery.txt: per (target, question), the sentences in English, then in Chinese, then the
    boxes' conditions with their quasi-p."""
    out = []
    for (target, case), rows in table.groupby(["target", "case"], sort=False):
        rows = rows.sort_values("box", key=lambda b: b.replace(0, math.inf))
        first = rows.iloc[0]
        out += [f"{target}: what goes with it being {case} — {first['scenario']}, {int(first['runs'])} runs, "
                f"scale {float(first['scale']):g}, seed {first['seed']}", ""]
        out += [str(s) for s in rows["sentence_en"]] + [""] + [str(s) for s in rows["sentence_zh"]] + [""]
        for r in rows[rows["box"] > 0].itertuples():
            out.append(f"box {r.box}{'' if str(r.meets) == 'True' else ' (closest; below the rule)'}: {r.conditions}"
                       f"   (quasi-p {r.quasi_p}; coverage {100 * float(r.coverage):.0f} %, density "
                       f"{100 * float(r.density):.0f} %)")
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":      # python -m sim.experiments.discover_cli SCENARIO --target ID …
    parser = argparse.ArgumentParser(prog="discover")
    add_arguments(parser)
    sys.exit(main(parser.parse_args()))
