"""``python run.py optimise``: the command line of the search for the cheapest mix."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from ..experiments.executors import BACKENDS, max_workers, scheduler_named
from ..util.errors import OptionError, guarded
from .problem import DEFAULTS, SAMPLERS

HELP = "find the cheapest lever mix meeting the targets with a stated probability (Optuna; resumable)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = (HELP + ". Searches the levers declared searchable (sim/params/levers.py: their range and public money "
                     "come from their declaration) around SCENARIO, writes trials.csv, pareto.csv, each chosen mix as "
                     "a scenario file in mixes/, their checks on fresh replicates and report.html to --out.")
    p.add_argument("scenario", metavar="SCENARIO", help="scenario file or name in scenarios/")
    p.add_argument("--targets", help="comma-separated target ids of the scenario's target set, or all (default all)")
    p.add_argument("--prob", type=float, default=DEFAULTS["prob"],
                   help=f"required probability of meeting every chosen target, in (0, 1] (default {DEFAULTS['prob']})")
    p.add_argument("--levers", help="comma-separated lever keys to search (default: every searchable lever)")
    p.add_argument("--trials", type=int, default=DEFAULTS["trials"],
                   help=f"trials in all, those already stored in --out included (default {DEFAULTS['trials']})")
    p.add_argument("--replicates", type=int, default=DEFAULTS["replicates"],
                   help=f"replicates per trial, the same seeds for every trial (default {DEFAULTS['replicates']})")
    p.add_argument("--check-replicates", type=int, default=DEFAULTS["check_replicates"],
                   help=f"fresh replicates each chosen mix is re-run on (default {DEFAULTS['check_replicates']})")
    p.add_argument("--mixes", type=int, default=DEFAULTS["mixes"],
                   help=f"mixes to choose and check: the cheapest, then points of the front (default {DEFAULTS['mixes']})")
    p.add_argument("--scale", type=float, default=DEFAULTS["scale"],
                   help=f"simulated firms per real firm, 0.001–1 (default {DEFAULTS['scale']})")
    p.add_argument("--seed", type=int, help="root seed of the trials' replicates and of the sampler (default: the scenario's)")
    p.add_argument("--inequality", action="store_true",
                   help="a third objective: the districts' R&D-intensity Gini at the horizon, minimised")
    p.add_argument("--fixed-parameters", action="store_true", default=None,
                   help="every replicate at the calibrated point estimate; by default replicate k runs the "
                        "calibration's posterior draw k in every trial")
    p.add_argument("--sampler", choices=SAMPLERS, default="tpe", help="Optuna sampler (default tpe)")
    p.add_argument("--backend", choices=BACKENDS, default="processes",
                   help="serial in this process, a local process pool (default), or Dask distributed")
    p.add_argument("--workers", type=int, help="worker processes (default: the number of CPUs)")
    p.add_argument("--scheduler", help="address of a running Dask scheduler, e.g. tcp://host:8786 (implies --backend dask)")
    p.add_argument("--out", help="output folder (default results/optimise_<scenario>_<targets>_p<prob>_scale<scale>)")
    p.add_argument("--no-report", action="store_true", help="skip report.html")
    p.add_argument("--quiet", action="store_true", help="no line per trial")


def _positive(name: str, value, hi: int) -> None:
    if value is not None and not 1 <= value <= hi:
        raise OptionError(name, f"allowed 1 to {hi}, got {value}")


def main(args) -> int:

    def work():
        with scheduler_named(args.scheduler):
            return _main(args, max_workers())
    return guarded(work, "the trials that finished (in the output folder's optuna.db)", "continue")


def _main(args, workers_cap: int) -> int:
    from ..experiments.scenarios import load
    from . import cheapest_mix
    _positive("--trials", args.trials, 100_000)
    _positive("--replicates", args.replicates, 10_000)
    _positive("--check-replicates", args.check_replicates, 10_000)
    _positive("--mixes", args.mixes, 50)
    _positive("--workers", args.workers, workers_cap)
    scenario = load(args.scenario)
    targets = [t.strip() for t in args.targets.split(",")] if args.targets else None
    levers = [k.strip() for k in args.levers.split(",")] if args.levers else None
    ids = "all" if not targets or targets == ["all"] else "-".join(targets)
    fixed = "_fixed" if args.fixed_parameters else ""
    out = args.out if args.out is not None else Path("results") / f"optimise_{scenario.name}_{ids}_p{args.prob:g}_scale{args.scale:g}{fixed}"
    log = None if args.quiet else (lambda msg: print(msg, file=sys.stderr, flush=True))
    command = "python run.py " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:2] == ["optimise"] else ""
    answer = cheapest_mix.find(scenario, out, targets=targets, prob=args.prob, levers=levers, trials=args.trials,
                               replicates=args.replicates, scale=args.scale, seed=args.seed, backend=args.backend,
                               workers=args.workers, scheduler=args.scheduler, check_replicates=args.check_replicates,
                               n_mixes=args.mixes, inequality=args.inequality, sampler=args.sampler,
                               report=not args.no_report, log=log, command=command,
                               fixed_parameters=args.fixed_parameters)
    print(summary(answer))
    return 0


def summary(answer) -> str:
    s = answer.setup
    lines = [f"note: {n}" for n in answer.notes]
    lines.append(f"{s.scenario.name}: {len(answer.trials)} trials × {s.replicates} replicates (scale {s.scenario.params.scale:g}), "
                 f"targets {', '.join(t.id for t in s.targets)}, required P ≥ {s.prob:g}")
    for m in answer.mixes:
        r, c = m["row"], m["check"]
        lines.append(f"  {m['label']:<12} trial {int(r['trial']):>4}  {r['cost']:8.2f} 亿元/yr  search P {r['p_all']:4.0%}  "
                     f"check P {c['p_all']:4.0%} [{c['lo']:.0%}, {c['hi']:.0%}] ({c['n']} fresh)  → {m['path']}")
    if not answer.mixes:
        lines.append("  no trial finished")
    elif not answer.trials["feasible"].any():
        from .search import reach
        r = reach(answer.trials, s.targets)
        lines.append(f"  no trial reached P ≥ {s.prob:g} for every target; best P per target on its own: "
                     + ", ".join(f"{x.target} {x.best_p:.0%}" for x in r.itertuples()))
    lines.append(f"  → {answer.out}/trials.csv, pareto.csv" + (", report.html" if (answer.out / 'report.html').exists() else ""))
    return "\n".join(lines)
