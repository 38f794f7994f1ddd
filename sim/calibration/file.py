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
from .backtest import QUANTILES, TREND_WINDOW, group_of, trend_history
from .fit import AIM_MAPE, HEADLINE, distance, fit_errors, is_district
from .problem import DEFAULTS, DERIVED, ESS_FLOOR, FIXED_BECAUSE, FREE, ROOT
from .result import CalibrationResult, clip_ratio, clip_rd
from .runs import hindcast
from .skill import AIMS, ALL, TREND_Q, add_trend, crps_sample, score, verdict

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
                       "multivariate normal kernel) for the posterior, which is the last generation whose ESS is at "
                       f"least {100 * ESS_FLOOR:g} % of its particles (posterior_generation); fitted point = best "
                       "ensemble mean among the Nelder-Mead-refined best particle, the top particles and the posterior "
                       "mean",
                created=_dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                seed=s["seed"], budget=s["budget"], generations=s["generations"], accept=s["accept"],
                population=s.get("population", 0), generations_run=s.get("generations_run", s["generations"]),
                posterior_generation=s["posterior_generation"] + 1,   # counted from 1, as [search] lists them
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
    lines += ["", "# The posterior sample ensembles run (replicate k: draw k mod n): a systematic resample of the posterior",
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


def systematic(weights: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``n`` draws from weighted particles by systematic resampling (the fewest repeats
    a weighted sample allows), in particle order."""
    positions = (rng.random() + np.arange(n)) / n
    return np.minimum(np.searchsorted(np.cumsum(weights / weights.sum()), positions), len(weights) - 1)


def posterior_sample(particles, n: int, seed: int):
    """``n`` equally weighted draws from weighted particles: systematic resampling (the fewest
    repeats a weighted sample allows), shuffled with the seed so that the first replicates of an
    ensemble see a spread of draws. The derived end-2022 state of each particle goes with it."""
    w = particles["weight"].to_numpy(float)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(7,)))
    out = particles.iloc[rng.permutation(systematic(w, n, rng))].reset_index(drop=True)
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


def drop_section(text: str, mark: str) -> str:
    """The file's text without the section that starts at ``mark`` (up to the next section mark)."""
    if mark not in text:
        return text
    start = text.index(mark)
    end = text.find("\n# ---- ", start + len(mark))
    rest = text[end + 1:] if end >= 0 else ""
    return text[:start].rstrip("\n") + "\n" + ("\n" + rest if rest else "")


def stamp_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# The mark of a backtest written before it was scored against the trend, still replaced by a new one.
OLD_BACKTEST_MARK = "# ---- backtest: rolling origin inside the history (written by `python run.py calibrate --backtest`)"
BACKTEST_MARK = "# ---- backtest: rolling origin, the model against a plain trend (written by `python run.py calibrate --backtest`)"
BACKTEST_METHOD = (
    "rolling origin: for each origin, a forecast from what was published up to it of the published points 1 to 3 "
    "years later (to 2024 at most). Origins to 2021: ABC-SMC again on the published points up to the origin (the "
    "settings below), the weighted particles of its posterior generation (the last whose ESS is at least "
    f"{100 * ESS_FLOOR:g} % of its particles, as the fit's), each run carried on through the years after it, as the "
    "forecast. Origin 2022: the calibration's posterior through the update's paths (update_*), equally weighted. "
    "Origin 2023: the same paths weighted by the figures published for 2023, as the update weighs them. Each point: "
    "weighted median, 25-75 % and 5-95 % bands, ape = absolute percentage error of the median, crps = CRPS of the "
    "weighted sample (units of the series). Trend: log-linear least squares through the last trend_window published years up to the origin, "
    "lognormal around it with the spread of the yearly log growth of the whole published history (drift method), "
    "none for the gross flows published since 2022 (the history's additions are net). [backtest.skill] (points of "
    "every origin pooled): coverage, median APE and CRPS / observed of the model and the trend on the same points, "
    "only for exact kinds (level, preliminary) with both forecasts; skill = 1 - CRPS(model) / CRPS(trend); bounds "
    "checked by whether the median meets them (bound_met); aim_median_ape is the earlier aim on the median's error, "
    "not part of aim_met")
_TREND_COLUMNS = ("trend_mu", "trend_sigma", *TREND_Q, "trend_crps")


def scored_backtest(points, data_dir=None):
    """The backtest's points (``backtest.backtest``) scored: each point's CRPS from its sample, the
    trend's quantiles and CRPS beside it (none for a point the trend cannot forecast), the score
    table (``skill.score``, series grouped by ``backtest.group_of``) and its verdict. Returns
    (points, table, verdict sentences, what the trend read from after 2022)."""
    p = points.copy()
    # a sample sitting on the value scores 0, which rounding can take a hair below
    p["crps"] = [max(0.0, crps_sample(v, y, w)) for v, y, w in zip(p["values"], p["observed"], p["weights"])]
    history, used = trend_history(data_dir)
    p = add_trend(p, history, window=TREND_WINDOW)
    p.loc[~p["trend_comparable"].astype(bool), list(_TREND_COLUMNS)] = np.nan
    table = score(p.assign(series=p["series"].map(group_of)))
    return p, table, verdict(table), used


# The districts issue's aim: nine in ten district points inside their 90 % bands would be
# ideal; eight in ten is what the few, doubtful district figures can hold a model to.
AIM_DISTRICT_COVERAGE90 = 0.8


def district_coverage(points) -> dict:
    """The district figures' share inside their 50 % and 90 % bands, every origin pooled (no trend
    can forecast a district, so they are not in the skill table): every point of a ``series@adcode``."""
    d = points[points["series"].map(is_district)]
    return dict(district_points=len(d), district_coverage50=float(d["in50"].mean()) if len(d) else float("nan"),
                district_coverage90=float(d["in90"].mean()) if len(d) else float("nan"),
                aim_district_coverage90=AIM_DISTRICT_COVERAGE90)


def _pick(table, horizon=ALL, kind=ALL):
    hit = table[(table["series"] == ALL) & (table["horizon"] == horizon) & (table["kind"] == kind)]
    return None if hit.empty else hit.iloc[0]


def _aims_met(table) -> bool:
    top = _pick(table)
    lo, hi = AIMS["cover50"]
    skills = [_pick(table, horizon=h) for h in AIMS["skill_horizons"]]
    return bool(top is not None and top["model_cover90"] >= AIMS["cover90"] and lo <= top["model_cover50"] <= hi
                and all(r is not None and r["n_scored"] > 0 and r["skill"] > 0 for r in skills))


def write_backtest(points, settings: dict, path: Path | str = CALIBRATION_FILE, data_dir=None) -> Path:
    """Add (or replace) the ``[backtest]`` tables of a calibration file: the settings, the pooled
    figures and the verdict, ``[backtest.skill]`` per horizon and kind, and per origin every
    held-out point's forecast, trend and scores (``scored_backtest``). ``settings``: what the
    forecasts were made with (the search's and the update's settings)."""
    path = Path(path)
    load_calibration(path)      # the file it adds to must be a calibration file
    text = path.read_text("utf-8")
    for mark in (OLD_BACKTEST_MARK, BACKTEST_MARK):
        text = drop_section(text, mark)
    p, table, words, used = scored_backtest(points, data_dir)
    top = _pick(table)
    origins = list(dict.fromkeys(int(o) for o in p["origin"]))
    head = dict(method=BACKTEST_METHOD, created=stamp_now(), origins=origins, **settings, trend_window=TREND_WINDOW,
                trend_history="published history to each origin (city_history.csv; the fitted points and the city "
                              "levels from their first year)" + ("; after 2022: " + ", ".join(used) if used else ""),
                points=len(p), scored=int(top["n_scored"]), bounds=int(top["n_bounds"]),
                coverage50=top["model_cover50"], coverage90=top["model_cover90"], median_ape=top["model_mdape"],
                aim_coverage90=AIMS["cover90"], aim_coverage50=list(AIMS["cover50"]),
                aim_skill_horizons=list(AIMS["skill_horizons"]), aim_median_ape=8.0, aim_met=_aims_met(table),
                verdict=words, **district_coverage(p))
    lines = ["", BACKTEST_MARK, "[backtest]"] + [f"{k} = {_toml(_r(v))}" for k, v in head.items()]
    pooled = table[table["series"] == ALL]
    lines += ["", "[backtest.skill]  # every origin pooled, per horizon and kind of held-out point"]
    lines += [f"{c} = {_toml([_cell(v) for v in pooled[c]])}" for c in pooled.columns if c != "series"]
    for origin in origins:
        g = p[p["origin"] == origin]
        s = _pick(score(g.assign(series=g["series"].map(group_of))))
        first = g.iloc[0]
        lines += ["", f"[backtest.origin_{origin}]"]
        # what ``backtest`` adds about each origin (a table of ``forecast_points`` alone lacks it)
        lines += [f"{k} = {_toml(_cell(first[k]))}" for k in ("source", "ess") if k in g]
        lines += [f"{k} = {int(first[k])}" for k in ("generations_run", "simulations") if k in g and first[k] == first[k]]
        lines += [f"points = {len(g)}", f"scored = {int(s['n_scored'])}"]
        lines += [f"{k} = {_toml(_r(s[c]))}" for k, c in (("coverage50", "model_cover50"), ("coverage90", "model_cover90"),
                                                         ("median_ape", "model_mdape"), ("skill", "skill"))]
        for c in ("series", "year", "horizon", "kind", "observed", *QUANTILES, "ape", "in50", "in90", "crps",
                  *TREND_Q, "trend_crps"):
            lines.append(f"{c} = {_toml([_cell(v) for v in g[c]])}")
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text(text.rstrip("\n") + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    load_calibration(tmp)       # what is written reads back through the file's schema (else kept as .tmp)
    os.replace(tmp, path)
    return path


def _cell(v):
    """One value of a column as TOML takes it (numpy scalars as Python ones, floats to 6 digits)."""
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    return _r(float(v)) if isinstance(v, (float, np.floating)) else v
