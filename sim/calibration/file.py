"""The calibration file (``sim/data/calibration.toml``): writing a result with its uncertainty,
fit and data version (and the backtest's tables), reading it back as parameters or posterior
draws (the file's tables themselves: ``problem.load_calibration``, which checks every table
against the file's schema; what is written here is read back through it before it replaces the
file), and re-running its stated ensemble (``evaluate``)."""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
from pathlib import Path

import numpy as np

from ..data import identity
from ..data.tables import DataError
from ..experiments.calibration_file import CALIBRATION_FILE, FIT_YEARS, START_YEAR, flatten, load_calibration, nest
from ..params.parameters import Params
from .backtest import AIMS, series_order, summary, summary_by_kind
from .fit import AIM_MAPE, HEADLINE, distance, fit_errors
from .problem import DEFAULTS, DERIVED, FIXED_BECAUSE, FREE, ROOT
from .result import CalibrationResult, clip_ratio, clip_rd
from .runs import hindcast

SHARED_HISTORY = ROOT.parent / "shared" / "data" / "chongqing_city_history.csv"
DATA_FILES = ("city_history.csv", "district_indicators.csv", "districts.csv", "hindcast_2017.csv",
              "policy_environment.csv", "universities.csv", "leading_firms.csv", "paired_assistance.csv",
              "district_history.csv", "evaluation_fit.toml", "platforms.csv")


def data_version(data_dir=None) -> dict:
    """sha256 of every data file a hindcast reads (and of the shared history table, if present)."""
    d = Path(data_dir) if data_dir else identity.DATA_DIR
    out = {name: _digest(d / name) for name in DATA_FILES}
    if SHARED_HISTORY.is_file():
        out["shared/chongqing_city_history.csv"] = hashlib.sha256(SHARED_HISTORY.read_bytes()).hexdigest()
    return out


def _digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as e:
        raise DataError(path, None, None, f"cannot be read: {e.strerror or e}") from None


def write_calibration(result: CalibrationResult, path: Path = CALIBRATION_FILE, data_dir=None,
                      posterior_draws: int = DEFAULTS["posterior_draws"]) -> Path:
    """Write the fitted values ([parameters.<section>], validated by Params), their uncertainty,
    the fit per series (and of the starting parameters), a posterior sample and the metadata."""
    path = Path(path)
    Params().with_overrides(nest(result.parameters))  # the file must load: ranges are checked now
    unc = result.uncertainty()
    lines = ["# Calibration of the hindcast 2017→2022 against sim/data/city_history.csv (history up to 2022 only).",
             "# Written by `python run.py calibrate`; re-run it rather than editing. [parameters] is applied to",
             "# every scenario that sets calibration = \"calibration.toml\"; the other tables document the fit.", ""]
    s = result.settings
    import pyabc
    gens = result.generations
    meta = dict(method=f"ABC-SMC (pyabc {pyabc.__version__}: adaptive p=1 distance over every published point, "
                       "levels and yearly additions, each scaled by its spread in the generation and weighted by its "
                       "series' weight over its points; tolerance = a quantile of the last generation's distances; "
                       "multivariate normal kernel) for the posterior; fitted point = best ensemble mean among the "
                       "Nelder-Mead-refined best particle, the top particles and the posterior mean",
                created=_dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                seed=s["seed"], budget=s["budget"], generations=s["generations"], accept=s["accept"],
                population=s.get("population", 0), generations_run=s.get("generations_run", s["generations"]),
                search_scale=s["scale"], eval_scale=s["eval_scale"], eval_replicates=s["replicates"], top=s["top"],
                refine=s["refine"], refine_replicates=s["refine_replicates"], chosen=s["chosen"], simulations=s["simulations"],
                runtime_seconds=round(result.runtime_seconds, 1), distance=round(result.distance, 4),
                start_distance=round(distance(result.start_errors), 4), posterior_ess=round(result.ess, 1),
                distance_definition="weighted mean of per-series MAPE (%) of levels and yearly additions, weights in "
                                    "[fit.<series>].weight (the fitted point's criterion; the search's distance is "
                                    "pyabc's adaptive one, see method)",
                fit_years=list(FIT_YEARS), start_year=START_YEAR, history_file="sim/data/city_history.csv",
                free=[f.key for f in FREE], derived=list(DERIVED), aim_mape_headline=AIM_MAPE,
                aim_met=bool(all(result.errors.loc[h, "mape"] <= AIM_MAPE for h in HEADLINE)))
    lines.append("[meta]")
    lines += [f"{k} = {_toml(v)}" for k, v in meta.items()]
    lines += ["", "[meta.data_version]  # sha256 of the files read"]
    lines += [f"{_toml(k)} = {_toml(v)}" for k, v in data_version(data_dir).items()]
    lines += ["", "[meta.why_free]"] + [f"{_toml(f.key)} = {_toml(f.why)}" for f in FREE]
    lines += ["", "[meta.why_fixed]"] + [f"{_toml(k)} = {_toml(v)}" for k, v in FIXED_BECAUSE.items()]
    lines += ["", "[meta.derived_how]"] + [f"{_toml(k)} = {_toml(v)}" for k, v in DERIVED.items()]
    if gens is not None:
        lines += ["", "[search]  # per ABC-SMC generation: tolerance, simulations run, effective sample size"]
        lines += [f"{c} = {_toml(_r(list(gens[c])))}" for c in ("epsilon", "simulations", "accepted", "ess")]
    nested = nest({k: float(v) for k, v in result.parameters.items()})
    for section, values in nested.items():
        lines += ["", f"[parameters.{section}]"] + [f"{k} = {_toml(v)}" for k, v in values.items()]
    for key, u in unc.items():  # same section/key layout as [parameters]
        lines += ["", f"[uncertainty.{key}]"] + [f"{k} = {_toml(_r(v))}" for k, v in u.items()]
    for name, err in (("fit", result.errors), ("start_fit", result.start_errors)):
        for series, row in err.iterrows():
            lines += ["", f"[{name}.{series}]"]
            for k in ("mape", "max_ape", "bias", "points", "weight", "years", "observed", "simulated"):
                lines.append(f"{k} = {_toml(_r(row[k]))}")
    post = posterior_sample(result.posterior, posterior_draws, s["seed"])
    lines += ["", "# The posterior sample ensembles run (replicate k: draw k mod n): a systematic resample of the last",
              "# generation's weighted particles (equal weights; a particle of weight w appears about n*w times), in a",
              "# seeded random order. candidate_ratio and registered_rd_2022 are each particle's own end-2022 state."]
    keys = [f.key for f in FREE] + [k for k in DERIVED if k in post.columns]
    for section, names in nest({k: k for k in keys}).items():
        lines += [f"[posterior.{section}]"] + [f"{k} = {_toml([_r(v) for v in post[dotted]])}" for k, dotted in names.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    load_calibration(tmp)       # what is written reads back through the file's schema (else kept as .tmp)
    os.replace(tmp, path)
    return path


def posterior_sample(particles, n: int, seed: int):
    """``n`` equally weighted draws from weighted particles: systematic resampling (the fewest
    repeats a weighted sample allows), shuffled with the seed so that the first replicates of an
    ensemble see a spread of draws. The derived end-2022 state of each particle goes with it."""
    w = particles["weight"].to_numpy(float)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(7,)))
    positions = (rng.random() + np.arange(n)) / n
    idx = np.minimum(np.searchsorted(np.cumsum(w / w.sum()), positions), len(w) - 1)
    out = particles.iloc[rng.permutation(idx)].reset_index(drop=True)
    if "derived:candidate_ratio" in out.columns:
        out["behaviour.candidate_ratio"] = [clip_ratio(v) for v in out["derived:candidate_ratio"]]
        out["behaviour.registered_rd_2022"] = [clip_rd(v) for v in out["derived:registered_rd"]]
    return out


def _r(v):
    if isinstance(v, (list, tuple, np.ndarray)):
        return [_r(x) for x in v]
    if isinstance(v, (float, np.floating)):
        return float(f"{float(v):.6g}")
    if isinstance(v, np.integer):
        return int(v)
    return v


def _toml(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def calibrated_params(path: Path | str = CALIBRATION_FILE) -> Params:
    """Params() with the file's fitted values applied (as the baseline scenario does)."""
    return Params().with_overrides(load_calibration(path).get("parameters", {}), file=str(path))


def posterior_samples(path: Path | str = CALIBRATION_FILE) -> list[dict]:
    """The file's posterior draws as dicts of dotted keys (for ``hindcast(samples=...)``)."""
    post = flatten(load_calibration(path).get("posterior", {}))
    n = min((len(v) for v in post.values()), default=0)
    return [{k: float(v[i]) for k, v in post.items()} for i in range(n)]


def evaluate(path: Path | str = CALIBRATION_FILE, workers: int = 1, progress: bool = False, data_dir=None):
    """Re-run the file's stated ensemble (seed, eval_scale, eval_replicates); returns (errors, stated)."""
    cal = load_calibration(path, require=("meta", "fit"))
    meta = cal["meta"]
    runs = hindcast(flatten(cal["parameters"]), replicates=int(meta["eval_replicates"]), seed=int(meta["seed"]),
                    scale=float(meta["eval_scale"]), workers=workers, progress=progress)
    return fit_errors(runs, data_dir), cal["fit"]


BACKTEST_MARK = "# ---- backtest: rolling origin inside the history (written by `python run.py calibrate --backtest`)"


def write_backtest(points, settings: dict, path: Path | str = CALIBRATION_FILE) -> Path:
    """Add (or replace) the ``[backtest]`` tables of a calibration file: per origin, every
    held-out point's bands and checks, and the coverage and error summaries."""
    path = Path(path)
    load_calibration(path)      # the file it adds to must be a calibration file
    text = path.read_text("utf-8")
    if BACKTEST_MARK in text:
        text = text[:text.index(BACKTEST_MARK)].rstrip("\n") + "\n"
    points = series_order(points)
    summ = summary(points)
    total = summ.loc["all"]
    lines = ["", BACKTEST_MARK, "[backtest]",
             f"method = {_toml('for each origin, ABC-SMC on the published points up to it (same options as the search), then the last generation weighted particles own later years as the forecast: weighted median, 25-75 % and 5-95 % bands; ape = absolute percentage error of the median')}",
             f"created = {_toml(_dt.datetime.now(_dt.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'))}",
             f"origins = {_toml(sorted({int(o) for o in points.origin}, reverse=True))}"]
    lines += [f"{k} = {_toml(_r(v))}" for k, v in settings.items()]
    lines += [f"points = {int(total.points)}", f"coverage50 = {_toml(_r(total.coverage50))}",
              f"coverage90 = {_toml(_r(total.coverage90))}", f"median_ape = {_toml(_r(total.median_ape))}",
              f"mean_ape = {_toml(_r(total.mean_ape))}", f"aim_coverage90 = {_toml(AIMS['coverage90'])}",
              f"aim_median_ape = {_toml(AIMS['median_ape'])}",
              f"aim_met = {_toml(bool(total.coverage90 >= AIMS['coverage90'] and total.median_ape <= AIMS['median_ape']))}"]
    by_kind = summary_by_kind(points)
    lines += ["", "[backtest.by_kind]  # both origins together, per kind of held-out point",
              f"kind = {_toml(list(by_kind.index))}", f"points = {_toml([int(v) for v in by_kind.points])}"]
    lines += [f"{c} = {_toml([_r(v) for v in by_kind[c]])}" for c in ("coverage50", "coverage90", "median_ape", "mean_ape")]
    for origin, g in points.groupby("origin", sort=False):
        s = summ.loc[origin]
        lines += ["", f"[backtest.origin_{int(origin)}]", f"points = {int(s.points)}",
                  f"coverage50 = {_toml(_r(s.coverage50))}", f"coverage90 = {_toml(_r(s.coverage90))}",
                  f"median_ape = {_toml(_r(s.median_ape))}", f"mean_ape = {_toml(_r(s.mean_ape))}"]
        for c in ("series", "year", "observed", "p05", "p25", "p50", "p75", "p95", "ape", "in50", "in90"):
            vals = [bool(v) if c.startswith("in") else _r(v) if c != "series" else str(v) for v in g[c]]
            vals = [int(v) for v in g[c]] if c == "year" else vals
            lines.append(f"{c} = {_toml(vals)}")
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text(text + "\n".join(lines) + "\n", encoding="utf-8")
    load_calibration(tmp)       # what is written reads back through the file's schema (else kept as .tmp)
    os.replace(tmp, path)
    return path
