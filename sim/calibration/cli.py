"""``python run.py calibrate``: the command line of the calibration."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..experiments.calibration_file import CALIBRATION_FILE, CalibrationError
from ..experiments.executors import scheduler_named
from ..util.errors import guarded
from .figure import figure_from_file
from .file import evaluate, write_calibration
from .fit import AIM_MAPE, HEADLINE, distance
from .problem import DEFAULTS, FIGURE_FILE
from .result import CalibrationResult
from .search import calibrate
from .update import DEFAULTS as UPDATE_DEFAULTS

HELP = "fit the free behaviour parameters to Chongqing's published 2017–2022 series (hindcast from 2017)"


def add_arguments(parser: argparse.ArgumentParser):
    parser.description = (HELP + ". Writes the fitted values, their uncertainty, the fit error per series and the "
                          "data version to --out (default sim/data/calibration.toml, which the baseline scenario reads) "
                          "and the hindcast figure next to --figure.")
    parser.add_argument("--budget", type=int, default=DEFAULTS["budget"], help=f"hindcast simulations of the search: it stops after the generation that reaches them (default {DEFAULTS['budget']})")
    parser.add_argument("--generations", type=int, default=DEFAULTS["generations"], help=f"ABC-SMC generations at most (default {DEFAULTS['generations']})")
    parser.add_argument("--population", type=int, default=DEFAULTS["population"], help=f"particles per generation: the posterior sample's size (default {DEFAULTS['population']})")
    parser.add_argument("--accept", type=float, default=DEFAULTS["accept"], help=f"quantile of a generation's distances that sets the next tolerance (default {DEFAULTS['accept']})")
    parser.add_argument("--seed", type=int, default=DEFAULTS["seed"], help=f"root seed: one seed reproduces the run (default {DEFAULTS['seed']})")
    parser.add_argument("--scale", type=float, default=DEFAULTS["scale"], help=f"simulated firms per real firm during the search, 0.001–1 (default {DEFAULTS['scale']})")
    parser.add_argument("--eval-scale", type=float, default=DEFAULTS["eval_scale"], help=f"scale of the final ensembles (default {DEFAULTS['eval_scale']})")
    parser.add_argument("--replicates", type=int, default=DEFAULTS["replicates"], help=f"replicates of each final ensemble (default {DEFAULTS['replicates']})")
    parser.add_argument("--top", type=int, default=DEFAULTS["top"], help=f"best particles re-evaluated as ensembles (default {DEFAULTS['top']})")
    parser.add_argument("--refine", type=int, default=DEFAULTS["refine"], help=f"Nelder–Mead evaluations refining the best particle, 0 = none (default {DEFAULTS['refine']})")
    parser.add_argument("--refine-replicates", type=int, default=DEFAULTS["refine_replicates"], help=f"replicates per refinement evaluation (default {DEFAULTS['refine_replicates']})")
    parser.add_argument("--workers", type=int, help="worker processes (default: the number of CPUs; results do not depend on it)")
    parser.add_argument("--scheduler", help="address of a running Dask scheduler for the search, e.g. tcp://host:8786 (results do not depend on it)")
    parser.add_argument("--history", type=Path, help="SQLite history of the search (default results/calibration/abc.db, or next to --out when --out is elsewhere); "
                        "a search stopped halfway resumes from it with the same options")
    parser.add_argument("--fresh", action="store_true", help="discard the --history file and search from the start")
    parser.add_argument("--out", type=Path, default=CALIBRATION_FILE, help="calibration file to write (default sim/data/calibration.toml)")
    parser.add_argument("--figure", type=Path, help="hindcast figure (default results/calibration/hindcast.png, or next to --out when --out is elsewhere)")
    parser.add_argument("--evaluate", action="store_true", help="do not fit: re-run the ensemble stated in --out and compare with its stated fit")
    parser.add_argument("--backtest", action="store_true", help="do not fit: backtest the file in --out by rolling origin "
                        "and add the result to it: for each of --origins, forecast the published points 1-3 years later "
                        "(to 2024) from what was published up to it, beside a log-linear trend of the last three years "
                        "(coverage of the 50 %% and 90 %% bands, median error, CRPS, skill). Origins to 2021 search again "
                        "on the shorter history with --population/--budget/--generations/--accept/--scale/--seed (smaller "
                        "values make a quicker, rougher run; the file records them); 2022 and 2023 use the update's paths "
                        "(cached by --update)")
    parser.add_argument("--origins", default="2019,2020,2021,2022,2023", help="--backtest: origins, years separated by "
                        "commas (default all five: 2019,2020,2021,2022,2023)")
    parser.add_argument("--update", action="store_true", help="do not fit: condition the file in --out on the figures "
                        "published after its fit (sim/data/city_recent.csv, through the latest year of "
                        "sim/data/policy_environment.csv): every posterior draw runs --per-draw paths through those years, "
                        "each weighted by the figures' observation models, and --keep of them are resampled as the "
                        "conditioned start every forecast replays. Run it after appending a year's published rows; "
                        "a killed update resumes from its cached paths and leaves the previous one in force")
    parser.add_argument("--per-draw", type=int, default=UPDATE_DEFAULTS["per_draw"], help=f"--update: paths per posterior draw (default {UPDATE_DEFAULTS['per_draw']})")
    parser.add_argument("--keep", type=int, default=UPDATE_DEFAULTS["keep"], help=f"--update: conditioned particles kept (default {UPDATE_DEFAULTS['keep']})")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def main(args) -> int:
    # Any bad input (an option, a parameter, a data file, an unreachable scheduler) is one line and
    # exit 2; Ctrl-C keeps the finished generations, from which the same command resumes.
    def work():
        with scheduler_named(args.scheduler):
            return _main(args)
    return guarded(work, "the generations finished so far (in the --history file)", "resume from them")


# What the hindcast figure can be written as (matplotlib's writers without extra libraries).
FIGURE_SUFFIXES = (".png", ".pdf", ".svg")


def check_path(option: str, path: Path, suffixes: tuple[str, ...], what: str) -> Path:
    """Refuse, before any work, a path the command could only fail on at its end: the wrong kind
    of file, a folder in its place, or a file where one of its folders should be."""
    if path.suffix.lower() not in suffixes:
        raise CalibrationError(f"{option}: expected {what} ({' or '.join(suffixes)}), got {path}")
    if path.is_dir():
        raise CalibrationError(f"{option}: {path} is a folder; give the path of {what} ({' or '.join(suffixes)})")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise CalibrationError(f"{option}: {parent} is a file, so {path} cannot be written under it")
            break
    return path


def _main(args) -> int:
    from ..experiments.executors import default_workers
    workers = args.workers if args.workers is not None else default_workers()
    out = Path(args.out)
    check_path("--out", out, (".toml",), "a calibration file")
    default_out = out.resolve() == CALIBRATION_FILE.resolve()
    figure = args.figure or (FIGURE_FILE if default_out else out.with_name(out.stem + "_hindcast.png"))
    history = args.history or (FIGURE_FILE.with_name("abc.db") if default_out else out.with_name(out.stem + "_abc.db"))
    check_path("--history", history, (".db",), "an SQLite history file")
    if not args.evaluate:
        check_path("--figure", figure, FIGURE_SUFFIXES, "a figure file")
    if not 1 <= workers <= 256:
        raise CalibrationError(f"--workers: allowed 1 to 256, got {workers}")
    if args.evaluate:
        errors, stated = evaluate(out, workers=workers, progress=not args.quiet)
        print(f"{'series':<24}{'stated MAPE':>12}{'re-run MAPE':>12}")
        worst = 0.0
        for s, row in errors.iterrows():
            st = stated.get(s, {}).get("mape", float("nan"))
            worst = max(worst, abs(st - row["mape"]))
            print(f"{s:<24}{st:>11.2f}%{row['mape']:>11.2f}%")
        print(f"largest difference {worst:.3f} percentage points")
        return 0
    if args.backtest:
        return _backtest(args, out, history.parent, workers)
    if args.update:
        return _update(args, out, workers)
    result = calibrate(budget=args.budget, seed=args.seed, scale=args.scale, generations=args.generations,
                       accept=args.accept, eval_scale=args.eval_scale, replicates=args.replicates, top=args.top,
                       refine=args.refine, refine_replicates=args.refine_replicates, workers=workers, progress=not args.quiet,
                       population=args.population, history=history, fresh=args.fresh, scheduler=args.scheduler)
    path = write_calibration(result, out)
    fig = figure_from_file(path, figure, workers=workers, progress=not args.quiet, band=result.band)
    _print_summary(result, path, fig)
    return 0


def _backtest(args, out: Path, folder: Path, workers: int) -> int:
    from ..core.hindcast import latest_year
    from ..experiments.calibration_file import LAST_YEAR, load_calibration
    from .backtest import ORIGINS, backtest
    from .file import write_backtest
    from .search import check_settings
    from .update import paths
    allowed = ", ".join(map(str, sorted(ORIGINS)))
    try:
        origins = sorted({int(x) for x in str(args.origins).split(",") if x.strip()}, reverse=True)
    except ValueError:
        raise CalibrationError(f"--origins: years separated by commas ({allowed}), got {args.origins!r}") from None
    if not origins or any(o not in ORIGINS for o in origins):
        raise CalibrationError(f"--origins: allowed {allowed}, got {args.origins!r}")
    cal = load_calibration(out)           # the file must exist before hours are spent on it
    settings, rows = {}, None
    if any(o < LAST_YEAR for o in origins):
        check_settings(budget=args.budget, generations=args.generations, accept=args.accept, scale=args.scale,
                       eval_scale=args.eval_scale, replicates=args.replicates, top=args.top, workers=workers,
                       seed=args.seed, refine=args.refine, refine_replicates=args.refine_replicates,
                       population=args.population)
        settings.update(population=args.population, budget=args.budget, generations=args.generations,
                        accept=args.accept, seed=args.seed, search_scale=args.scale)
    if any(o >= LAST_YEAR for o in origins):
        # the update's own paths (its [conditioned] settings), so that its cache serves them
        c = cal.get("conditioned") or dict(UPDATE_DEFAULTS, through=latest_year())
        cond = {k: c[k] for k in ("through", "scale", "seed", "per_draw")}
        rows = paths(cal, **cond, workers=workers, progress=not args.quiet)
        settings.update({f"update_{k}": v for k, v in cond.items()}, update_paths=len(rows))
    points = backtest(origins, population=args.population, budget=args.budget, generations=args.generations,
                      accept=args.accept, seed=args.seed, scale=args.scale, workers=workers, scheduler=args.scheduler,
                      progress=not args.quiet, folder=folder, fresh=args.fresh, paths=rows)
    write_backtest(points, settings, out)
    bt = load_calibration(out)["backtest"]
    sk = bt["skill"]
    print(f"backtest written to {out}: {bt['points']} held-out points, {bt['scored']} scored against the trend")
    print(f"{'horizon':<8}{'kind':<31}{'points':>7}{'scored':>7}{'in 50 %':>8}{'in 90 %':>8}{'MdAPE':>8}"
          f"{'CRPS':>8}{'trend':>8}{'skill':>7}")
    def f(v, fmt):
        return "—" if v != v else format(v, fmt)
    for i, kind in enumerate(sk["kind"]):
        print(f"{sk['horizon'][i]!s:<8}{kind:<31}{sk['n'][i]:>7}{sk['n_scored'][i]:>7}{f(sk['model_cover50'][i], '.0%'):>8}"
              f"{f(sk['model_cover90'][i], '.0%'):>8}{f(sk['model_mdape'][i], '.1f'):>8}{f(sk['model_crps'][i], '.3f'):>8}"
              f"{f(sk['trend_crps'][i], '.3f'):>8}{f(sk['skill'][i], '+.2f'):>7}")
    for sentence in bt["verdict"]:
        print(sentence)
    return 0


def _update(args, out: Path, workers: int) -> int:
    from .update import update
    if not 1 <= args.per_draw <= 1000:
        raise CalibrationError(f"--per-draw: allowed 1 to 1000, got {args.per_draw}")
    if not 1 <= args.keep <= 100_000:
        raise CalibrationError(f"--keep: allowed 1 to 100000, got {args.keep}")
    if not 0.001 <= args.scale <= 1:
        raise CalibrationError(f"--scale: allowed 0.001 to 1, got {args.scale}")
    scale = args.scale if args.scale != DEFAULTS["scale"] else UPDATE_DEFAULTS["scale"]
    seed = args.seed if args.seed != DEFAULTS["seed"] else UPDATE_DEFAULTS["seed"]
    t = update(out, per_draw=args.per_draw, keep=args.keep, scale=scale, seed=seed, workers=workers,
               progress=not args.quiet)
    print(f"{out}: conditioned on the published years through {t['through']}: {t['particles']} paths, "
          f"ESS {t['ess']:.1f}, {t['keep']} particles kept from {t['unique_draws']} posterior draws "
          f"({t['runtime_seconds']:.0f} s)")
    o = t["observations"]
    print(f"{'published figure':<60}{'observed':>10}{'before: median (5–95 %)':>30}{'after: median (5–95 %)':>30}")
    def f(v):
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"
    for k in range(len(o["indicator"])):
        before = f"{f(o['prior_p50'][k])} ({f(o['prior_p05'][k])}–{f(o['prior_p95'][k])})"
        after = f"{f(o['p50'][k])} ({f(o['p05'][k])}–{f(o['p95'][k])})"
        print(f"{o['indicator'][k] + ' ' + str(o['year'][k]) + ' (' + o['kind'][k] + ')':<60}{o['observed'][k]:>10,.6g}"
              f"{before:>30}{after:>30}")
    return 0


def _print_summary(result: CalibrationResult, path: Path, fig: Path):
    print(f"calibration written to {path} ({result.runtime_seconds:.0f} s); hindcast figure {fig}; "
          f"search history {result.database}")
    g = result.generations
    if g is not None:
        print(f"ABC-SMC: {len(g)} generations of {result.settings['population']}, {int(g['simulations'].sum())} simulations, "
              f"tolerance {g['epsilon'].iloc[0]:.3g} → {g['epsilon'].iloc[-1]:.3g}, posterior ESS {result.ess:.0f}")
    print(f"{'series':<24}{'start MAPE':>11}{'fitted MAPE':>12}{'max APE':>9}")
    for s, row in result.errors.iterrows():
        print(f"{s:<24}{result.start_errors.loc[s, 'mape']:>10.1f}%{row['mape']:>11.1f}%{row['max_ape']:>8.1f}%")
    print(f"distance {distance(result.start_errors):.2f} → {result.distance:.2f}")
    unc = result.uncertainty()
    for k, v in result.parameters.items():
        u = unc.get(k)
        extra = f"  (posterior mean {u['mean']:.4g}, 5–95 % {u['q05']:.4g}–{u['q95']:.4g})" if u else "  (derived)"
        print(f"  {k} = {v:.4g}{extra}")
    missed = [h for h in HEADLINE if result.errors.loc[h, "mape"] > AIM_MAPE]
    if missed:
        print(f"aim of ≤ {AIM_MAPE:g} % MAPE not reached for: {', '.join(missed)}")
