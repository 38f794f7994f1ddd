"""The calibration file (``sim/data/calibration.toml``) as everything that reads it reads it: its
tables checked against their schema when the file is read (``load_calibration``), since the
scenarios apply its fitted point and posterior, the report prints its backtest, and
``calibrate --evaluate`` and the calibration notebook print its fit. The calibration itself
(``sim/calibration/``) writes it; the years it describes and its errors are declared here, below
both."""

from __future__ import annotations

import copy
import functools
from pathlib import Path

from ..data import datasets, identity
from ..data.tables import (DataError, DataKeyError, Flag, ListOf, MapOf, Num, OneOf, Spec, Table, Text, read_toml,
                           stamp)
from ..params.fields import ParamError
from ..params.parameters import Params, undot
from ..util.errors import InputError, KeyedError
from ..util.messages import key_name, short
from .posterior import PosteriorError, read_draws

CALIBRATION_FILE = identity.DATA_DIR / "calibration.toml"
# The hindcast the calibration fits starts at the end of START_YEAR and is compared with the
# published years FIT_YEARS.
START_YEAR, LAST_YEAR = 2017, 2022
FIT_YEARS = tuple(range(2018, LAST_YEAR + 1))


class CalibrationError(InputError):
    """Bad calibration input; the message names the option or key and what is allowed."""


class CalibrationFileError(CalibrationError, KeyedError):
    """A calibration file that cannot be used: "file: key 'k': what is wrong (allowed: ...)"."""

    def __init__(self, file, key: str, message: str):
        KeyedError.__init__(self, file, key, message)


def nest(overrides: dict) -> dict:
    """Dotted keys (``behaviour.bass_p``) as nested tables."""
    return undot(overrides, sep=".")


def flatten(nested: dict, prefix: str = "") -> dict:
    """Nested tables as dotted keys (the inverse of ``nest``)."""
    out = {}
    for k, v in nested.items():
        if isinstance(v, dict):
            out.update(flatten(v, prefix + k + "."))
        else:
            out[prefix + k] = v
    return out


# Its descriptive tables are printed by `calibrate --evaluate`, the calibration notebook and the
# report, so each is checked against its schema when the file is read. A file written by
# `calibrate` has [meta] and with it every table of CALIBRATION_WRITTEN; a hand-made file may
# hold only [parameters] (and [posterior], [backtest]).
_STAMP = Text(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "a UTC time stamp such as 2024-12-01T16:55:04Z")
_DOTTED = Text(r"[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)+", "a dotted parameter key such as behaviour.bass_p")
_FIT_YEAR = Num(FIT_YEARS[0], FIT_YEARS[-1], integer=True)
_SERIES = Text(r"[a-z][a-z0-9_]*(@50\d{4})?", "a series name such as tech_enterprises or rd_intensity@500106")
_COUNT, _SHARE, _PCT = Num(0, integer=True), Num(0, 1), Num(0)
CALIBRATION_META = Table({
    "method": Text(), "created": _STAMP, "seed": Num(0, 2**63 - 1, integer=True),
    "budget": Num(1, 1_000_000, integer=True), "generations": Num(1, 50, integer=True), "accept": Num(0, 1, above=True),
    "population": Num(0, 100_000, integer=True), "generations_run": Num(0, 50, integer=True),
    "search_scale": Num(0.001, 1), "eval_scale": Num(0.001, 1), "eval_replicates": Num(1, 10_000, integer=True),
    "top": Num(1, 1000, integer=True), "refine": Num(0, 100_000, integer=True),
    "refine_replicates": Num(1, 1000, integer=True), "chosen": Text(), "simulations": _COUNT,
    "runtime_seconds": Num(0), "distance": _PCT, "start_distance": _PCT, "posterior_ess": Num(0, above=True),
    "distance_definition": Text(), "fit_years": ListOf(_FIT_YEAR, 1, 5), "start_year": Num(2000, 2030, integer=True),
    "history_file": Text(), "free": ListOf(_DOTTED, 1, 100), "derived": ListOf(_DOTTED, 0, 100),
    "aim_mape_headline": _PCT, "aim_met": Flag(),
    "data_version": MapOf(Text(r"[0-9a-f]{64}", "a sha256 digest (64 hex digits)")),
    "why_free": MapOf(Text(), _DOTTED), "why_fixed": MapOf(Text(), lo=0), "derived_how": MapOf(Text(), _DOTTED, lo=0),
    "posterior_generation": Num(1, 50, integer=True),
}, optional=("posterior_generation",))
CALIBRATION_SEARCH = Table({"epsilon": ListOf(Num(0), 1, 50), "simulations": ListOf(_COUNT, 1, 50),
                            "accepted": ListOf(_COUNT, 1, 50), "ess": ListOf(Num(0), 1, 50)})
CALIBRATION_UNCERTAINTY = MapOf(MapOf(Table({
    "mean": Num(), "sd": Num(0), "q05": Num(), "q50": Num(), "q95": Num(), "prior_lo": Num(), "prior_hi": Num(),
    "prior": OneOf(("uniform", "log-uniform"))})))
CALIBRATION_FIT = MapOf(Table({
    "mape": _PCT, "max_ape": _PCT, "bias": Num(), "points": Num(1, 10_000, integer=True), "weight": Num(0),
    "years": ListOf(_FIT_YEAR, 1, 10_000), "observed": ListOf(Num(), 1, 10_000), "simulated": ListOf(Num(), 1, 10_000)}),
    _SERIES)
# [backtest]: the rolling-origin backtest. Its current form (written with a [backtest.skill] table)
# scores every held-out point against a plain trend; a file written before it, with [by_kind] and
# mean errors instead, still reads, so that a calibration file stays usable until it is re-backtested.
_QS = ("p05", "p25", "p50", "p75", "p95")
_POINTS = ("series", "year", "observed", *_QS, "ape", "in50", "in90")
_SCORED_POINTS = ("horizon", "kind", "crps", *(f"trend_{q}" for q in _QS), "trend_crps")
_SKILL = ("horizon", "kind", "n", "n_scored", "n_bounds", "model_cover50", "trend_cover50", "model_cover90",
          "trend_cover90", "model_mdape", "trend_mdape", "model_crps", "trend_crps", "skill", "model_bound_met",
          "trend_bound_met")
_BACKTEST_NEW = ("skill", "verdict", "scored", "bounds", "trend_window", "trend_history", "aim_coverage50",
                 "aim_skill_horizons")
# Since the districts' own figures of 2023 on: the district bands' coverage (absent in older files).
_BACKTEST_DISTRICTS = ("district_points", "district_coverage50", "district_coverage90", "aim_district_coverage90")
_BACKTEST_OLD = ("by_kind", "mean_ape")
_HELD_YEAR = Num(FIT_YEARS[0], 2100, integer=True)


def _or_nan(spec: Spec) -> Spec:
    """``spec``, or NaN where a backtest has nothing to measure (no scored point, no trend)."""
    return Spec(lambda v: (isinstance(v, float) and v != v) or spec.test(v), f"{spec.allowed}, or nan")


def _lists(spec: Spec) -> ListOf:
    return ListOf(spec, 1, 10_000)


_HORIZON = Spec(lambda v: v == "all" or (isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 10),
                'a horizon in years (1 to 10) or "all"')
_SHARE_N, _PCT_N, _NUM_N = _or_nan(_SHARE), _or_nan(_PCT), _or_nan(Num())
CALIBRATION_BACKTEST = Table({
    "method": Text(), "created": _STAMP, "origins": ListOf(_HELD_YEAR, 1, 10),
    "population": Num(0, 100_000, integer=True), "budget": Num(1, 1_000_000, integer=True),
    "generations": Num(1, 50, integer=True), "accept": Num(0, 1, above=True), "seed": Num(0, 2**63 - 1, integer=True),
    "search_scale": Num(0.001, 1), "update_through": Num(2023, 2100, integer=True), "update_scale": Num(0.001, 1),
    "update_seed": Num(0, 2**63 - 1, integer=True), "update_per_draw": Num(1, 10_000, integer=True),
    "update_paths": Num(1, 10_000_000, integer=True), "trend_window": Num(2, 20, integer=True),
    "trend_history": Text(), "points": _COUNT, "scored": _COUNT, "bounds": _COUNT, "coverage50": _SHARE_N,
    "coverage90": _SHARE_N, "median_ape": _PCT_N, "mean_ape": _PCT, "aim_coverage90": _SHARE,
    "aim_coverage50": ListOf(_SHARE, 2, 2), "aim_skill_horizons": ListOf(Num(1, 10, integer=True), 1, 10),
    "aim_median_ape": _PCT, "aim_met": Flag(), "verdict": ListOf(Text(), 1, 1000),
    "district_points": _COUNT, "district_coverage50": _SHARE_N, "district_coverage90": _SHARE_N,
    "aim_district_coverage90": _SHARE,
    "skill": Table({"horizon": ListOf(_HORIZON, 1, 1000), "kind": ListOf(Text(), 1, 1000),
                    **{k: ListOf(_COUNT, 1, 1000) for k in ("n", "n_scored", "n_bounds")},
                    **{k: ListOf(_NUM_N, 1, 1000) for k in _SKILL[5:]}}),
    "by_kind": Table({"kind": ListOf(Text(), 1, 100), "points": ListOf(_COUNT, 1, 100),
                      "coverage50": ListOf(_SHARE, 1, 100), "coverage90": ListOf(_SHARE, 1, 100),
                      "median_ape": ListOf(_PCT, 1, 100), "mean_ape": ListOf(_PCT, 1, 100)}),
}, optional=("population", "budget", "generations", "accept", "seed", "search_scale", "update_through",
             "update_scale", "update_seed", "update_per_draw", "update_paths", *_BACKTEST_NEW, *_BACKTEST_OLD,
             *_BACKTEST_DISTRICTS),
    extra=(r"origin_\d{4}", "origin_<year>", Table({
        "source": Text(), "ess": Num(0), "generations_run": Num(0, 50, integer=True), "simulations": _COUNT,
        "points": _COUNT, "scored": _COUNT, "coverage50": _SHARE_N, "coverage90": _SHARE_N, "median_ape": _PCT_N,
        "mean_ape": _PCT, "skill": _NUM_N, "series": _lists(_SERIES), "year": _lists(_HELD_YEAR),
        "horizon": _lists(Num(1, 10, integer=True)), "kind": _lists(Text()),
        **{k: _lists(Num()) for k in ("observed", *_QS)}, "ape": _lists(_PCT), "in50": _lists(Flag()),
        "in90": _lists(Flag()), "crps": _lists(Num(0)), **{f"trend_{q}": _lists(_NUM_N) for q in _QS},
        "trend_crps": _lists(_or_nan(Num(0)))},
        optional=("source", "ess", "generations_run", "simulations", "scored", "mean_ape", "skill",
                  *_SCORED_POINTS))))
_OBS = ("indicator", "year", "kind", "observed", "prior_p05", "prior_p50", "prior_p95", "p05", "p50", "p95")
_SEED = Num(0, 2**63 - 1, integer=True)
CALIBRATION_CONDITIONED = Table({
    "method": Text(), "created": _STAMP, "through": Num(2023, 2100, integer=True), "scale": Num(0.001, 1),
    "seed": _SEED, "per_draw": Num(1, 10_000, integer=True), "particles": Num(1, 10_000_000, integer=True),
    "keep": Num(1, 100_000, integer=True), "ess": Num(0), "unique_draws": Num(1, 100_000, integer=True),
    "runtime_seconds": Num(0),
    "draw": ListOf(Num(0, 100_000, integer=True), 1, 100_000), "path_seed": ListOf(_SEED, 1, 100_000),
    "observations": Table({
        "indicator": ListOf(_SERIES, 0, 10_000), "year": ListOf(Num(2023, 2100, integer=True), 0, 10_000),
        "kind": ListOf(Text(), 0, 10_000), **{k: ListOf(Num(), 0, 10_000) for k in _OBS[3:]}}),
})
# [parameters] and [posterior] are checked as the scenarios and the ensembles read them (Params,
# posterior.read_draws); [conditioned]'s draws and seeds as well (posterior.read_conditioned).
CALIBRATION_TABLES = {"parameters": MapOf(Spec()), "meta": CALIBRATION_META, "search": CALIBRATION_SEARCH,
                      "uncertainty": CALIBRATION_UNCERTAINTY, "fit": CALIBRATION_FIT, "start_fit": CALIBRATION_FIT,
                      "posterior": None, "backtest": CALIBRATION_BACKTEST, "conditioned": CALIBRATION_CONDITIONED}
# What `python run.py calibrate` writes together: a file with any of the first five has them all.
CALIBRATION_WRITTEN = ("meta", "search", "uncertainty", "fit", "start_fit", "posterior")


def load_calibration(path: Path | str = CALIBRATION_FILE, require=()) -> dict:
    """The calibration file as a dict (parameters, meta, search, uncertainty, fit, start_fit,
    posterior, backtest), every table checked before anything reads it: against its schema
    above (types, ranges, required and unknown keys), [parameters] against the parameters (names
    and ranges), [posterior] as the ensembles read it, and the tables against each other (as many
    years and values as points, quantiles in order inside the prior, one search row per
    generation run, the free and derived parameters of [meta] those of [parameters], ...).
    ``require``: tables the caller needs besides [parameters] (e.g. ``("meta", "fit")`` to re-run
    the stated ensemble). Anything wrong is a :class:`CalibrationFileError` naming file and key."""
    path = Path(path)
    if not path.exists():
        raise CalibrationError(f"{path}: no calibration file; run `python run.py calibrate`")
    return copy.deepcopy(_calibration_cached(str(path), stamp(path), tuple(require)))


@functools.lru_cache(maxsize=8)
def _calibration_cached(path_str: str, stamp: tuple, require: tuple) -> dict:
    path = Path(path_str)
    try:
        return _checked_tables(path, read_toml(path), require)
    except DataError as e:
        key = e.column if isinstance(e, DataKeyError) else "(file)"
        where = f"line {e.row}: " if e.row is not None and not isinstance(e, DataKeyError) else ""
        raise CalibrationFileError(e.file, key, where + e.problem + (f" (allowed: {e.allowed})" if e.allowed else "")) from None


def _checked_tables(path: Path, raw: dict, require: tuple) -> dict:
    """``raw`` checked against the schema and across its tables (a :class:`DataKeyError` if not)."""
    for name in raw:
        if name not in CALIBRATION_TABLES:
            raise DataKeyError(path, key_name(name), "unknown table", ", ".join(CALIBRATION_TABLES))
    written = [t for t in CALIBRATION_WRITTEN[:5] if t in raw]
    needed = ["parameters", *require, *(CALIBRATION_WRITTEN if written else ())]
    for name in dict.fromkeys(needed):
        if name not in raw:
            why = (f"`python run.py calibrate` writes it with [{written[0]}], which this file has" if written and name != written[0]
                   else "this use of the file needs it" if name in require else "a calibration file holds its fitted values in it")
            raise DataKeyError(path, name, f"missing table ({why})", f"a [{name}] table; re-run `python run.py calibrate`"
                               if name != "parameters" else "a [parameters] table of sections of parameter values")
    for name, spec in CALIBRATION_TABLES.items():
        if name in raw and spec is not None:
            spec.check(path, name, raw[name])
    try:
        Params().with_overrides(raw["parameters"], file=str(path))
        read_draws(raw.get("posterior"), str(path))
    except ParamError as e:
        raise DataKeyError(path, f"parameters.{e.key}", e.detail) from None
    except PosteriorError as e:
        raise DataKeyError(path, e.key, e.detail) from None
    fitted = set(flatten(raw["parameters"]))
    if "meta" in raw:
        _check_meta(path, raw["meta"], raw.get("search"), fitted)
    for name in ("fit", "start_fit"):
        for series, row in raw.get(name, {}).items():
            where = f"{name}.{series}"
            for k in ("years", "observed", "simulated"):
                if len(row[k]) != row["points"]:
                    raise DataKeyError(path, f"{where}.{k}", f"{len(row[k])} values for {row['points']} points",
                                       "one value per point (points)")
            if row["max_ape"] < row["mape"] * (1 - 1e-5):
                raise DataKeyError(path, f"{where}.max_ape", f"{row['max_ape']:g} is below the mean ({row['mape']:g})",
                                   "the largest error, at least mape")
    if "fit" in raw and set(raw["fit"]) != set(raw["start_fit"]):
        odd = sorted(set(raw["fit"]) ^ set(raw["start_fit"]))[0]
        raise DataKeyError(path, f"start_fit.{odd}" if odd in raw["fit"] else f"fit.{odd}",
                           "missing: [fit] and [start_fit] compare the same series", "the series of the other table")
    for section, table in raw.get("uncertainty", {}).items():
        for name, u in table.items():
            where = f"uncertainty.{section}.{name}"
            if f"{section}.{name}" not in fitted:
                raise DataKeyError(path, where, "not a fitted parameter", "the keys of [parameters]")
            lo, hi = u["prior_lo"], u["prior_hi"]
            if not (lo < hi and (lo > 0 or u["prior"] == "uniform")):
                raise DataKeyError(path, f"{where}.prior_hi", f"prior {lo:g} to {hi:g} ({u['prior']})",
                                   "prior_lo < prior_hi, and prior_lo > 0 for a log-uniform prior")
            tol = 1e-6 * max(abs(lo), abs(hi))
            if not lo - tol <= u["q05"] <= u["q50"] <= u["q95"] <= hi + tol:
                raise DataKeyError(path, where, f"quantiles {u['q05']:g}, {u['q50']:g}, {u['q95']:g} are not in order "
                                   f"inside the prior {lo:g} to {hi:g}", "prior_lo ≤ q05 ≤ q50 ≤ q95 ≤ prior_hi")
            if not lo - tol <= u["mean"] <= hi + tol:
                raise DataKeyError(path, f"{where}.mean", f"{u['mean']:g} is outside the prior {lo:g} to {hi:g}",
                                   "a value inside the prior")
    if "meta" in raw:
        keys = {k.rsplit(".", 1)[0] for k in flatten(raw["uncertainty"])}
        if keys != set(raw["meta"]["free"]):
            odd = sorted(keys ^ set(raw["meta"]["free"]))[0]
            raise DataKeyError(path, f"uncertainty.{odd}", f"{odd!r} is in only one of [uncertainty] and meta.free",
                               "the uncertainty of each free parameter and of no other")
    if "backtest" in raw:
        _check_backtest(path, raw["backtest"])
    return raw


def _check_meta(path, meta, search, fitted: set) -> None:
    for name in ("free", "derived"):
        missing = [k for k in meta[name] if k not in fitted]
        if missing:
            raise DataKeyError(path, f"meta.{name}", f"{missing[0]!r} has no value in [parameters]", "keys of [parameters]")
    if meta["generations_run"] > meta["generations"]:
        raise DataKeyError(path, "meta.generations_run", f"{meta['generations_run']} generations run of "
                           f"{meta['generations']}", "at most meta.generations")
    if meta.get("posterior_generation", 0) > meta["generations_run"]:
        raise DataKeyError(path, "meta.posterior_generation", f"generation {meta['posterior_generation']} of "
                           f"{meta['generations_run']} run", "a generation run (1 to meta.generations_run)")
    if meta["population"] and meta["posterior_ess"] > meta["population"] * (1 + 1e-6):
        raise DataKeyError(path, "meta.posterior_ess", f"{meta['posterior_ess']:g} is more than the population "
                           f"({meta['population']})", "an effective sample size from 1 to the particles of a generation")
    if meta["start_year"] not in datasets.START_YEARS or meta["start_year"] >= min(meta["fit_years"]):
        raise DataKeyError(path, "meta.start_year", f"{meta['start_year']} with fit years {meta['fit_years']}",
                           f"a start year of the data ({', '.join(map(str, datasets.START_YEARS))}) before the fitted years")
    for names, why, what in (("free", "why_free", "free"), ("derived", "derived_how", "derived")):
        if set(meta[names]) != set(meta[why]):
            odd = sorted(set(meta[names]) ^ set(meta[why]))[0]
            raise DataKeyError(path, f"meta.{why}", f"{short(odd)} is in only one of meta.{names} and meta.{why}",
                               f"one entry for each {what} parameter")
    if search is not None:
        lengths = {k: len(v) for k, v in search.items()}
        for k, n in lengths.items():
            if n != meta["generations_run"]:
                raise DataKeyError(path, f"search.{k}", f"{n} values for {meta['generations_run']} generations run",
                                   "one value per generation (meta.generations_run)")


def _check_backtest(path, bt) -> None:
    new = "skill" in bt
    for k in _BACKTEST_NEW if new else _BACKTEST_OLD:
        if k not in bt:
            raise DataKeyError(path, f"backtest.{k}", "missing" + (" (a backtest with [backtest.skill] has it)" if new else ""),
                               "re-run `python run.py calibrate --backtest`")
    present = [k for k in _BACKTEST_DISTRICTS if k in bt]
    if present and len(present) < len(_BACKTEST_DISTRICTS):
        k = next(k for k in _BACKTEST_DISTRICTS if k not in bt)
        raise DataKeyError(path, f"backtest.{k}", f"missing (the backtest has {present[0]})",
                           "re-run `python run.py calibrate --backtest`")
    for name, cols, what in (("skill", _SKILL, "row (horizon, kind)"), ("by_kind", ("kind",), "kind")):
        table = bt.get(name, {})
        for k, v in table.items():
            if len(v) != len(table[cols[0]]):
                raise DataKeyError(path, f"backtest.{name}.{k}", f"{len(v)} values for {len(table[cols[0]])} rows",
                                   f"one value per {what}")
    for origin in bt["origins"]:
        if f"origin_{origin}" not in bt:
            raise DataKeyError(path, f"backtest.origin_{origin}", "missing table for an origin of backtest.origins",
                               "one [backtest.origin_<year>] table per origin")
    for name, t in bt.items():
        if not name.startswith("origin_"):
            continue
        where = f"backtest.{name}"
        if int(name[len("origin_"):]) not in bt["origins"]:
            raise DataKeyError(path, where, "not an origin of backtest.origins", ", ".join(f"origin_{o}" for o in bt["origins"]))
        for k in (*_POINTS, *(_SCORED_POINTS if new else ())):
            if k not in t:
                raise DataKeyError(path, f"{where}.{k}", "missing (a backtest with [backtest.skill] has it)",
                                   "one value per held-out point")
            if len(t[k]) != t["points"]:
                raise DataKeyError(path, f"{where}.{k}", f"{len(t[k])} values for {t['points']} points",
                                   "one value per held-out point (points)")
        for prefix in ("", "trend_") if new else ("",):
            for i in range(t["points"]):
                q = [t[prefix + k][i] for k in _QS]
                if all(x != x for x in q) and prefix:
                    continue        # no trend for this point
                if q != sorted(q):
                    raise DataKeyError(path, f"{where}.{prefix}p05", f"the quantiles of point {i + 1} are not in order: {q}",
                                       f"{prefix}p05 ≤ {prefix}p25 ≤ {prefix}p50 ≤ {prefix}p75 ≤ {prefix}p95")
