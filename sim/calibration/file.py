"""The calibration file (``sim/data/calibration.toml``): writing a result with its uncertainty,
fit and data version, and reading it back as parameters or posterior draws."""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .. import datasets
from ..params import Params
from .fit import AIM_MAPE, HEADLINE, distance
from .problem import (CALIBRATION_FILE, DEFAULTS, DERIVED, FIT_YEARS, FIXED_BECAUSE, FREE, ROOT, START_YEAR,
                      CalibrationError, _flatten, _nest)

if TYPE_CHECKING:  # a type only: search imports runs, which import this module (a cycle at run time)
    from .search import CalibrationResult

SHARED_HISTORY = ROOT.parent / "shared" / "data" / "chongqing_city_history.csv"
DATA_FILES = ("city_history.csv", "district_indicators.csv", "districts.csv", "hindcast_2017.csv",
              "policy_environment.csv", "universities.csv", "leading_firms.csv", "paired_assistance.csv")


def data_version(data_dir=None) -> dict:
    """sha256 of every data file a hindcast reads (and of the shared history table, if present)."""
    d = Path(data_dir) if data_dir else datasets.DATA_DIR
    out = {name: hashlib.sha256((d / name).read_bytes()).hexdigest() for name in DATA_FILES}
    if SHARED_HISTORY.is_file():
        out["shared/chongqing_city_history.csv"] = hashlib.sha256(SHARED_HISTORY.read_bytes()).hexdigest()
    return out


def write_calibration(result: CalibrationResult, path: Path = CALIBRATION_FILE, data_dir=None,
                      posterior_draws: int = DEFAULTS["posterior_draws"]) -> Path:
    """Write the fitted values ([parameters.<section>], validated by Params), their uncertainty,
    the fit per series (and of the starting parameters), a posterior sample and the metadata."""
    path = Path(path)
    Params().with_overrides(_nest(result.parameters))  # the file must load: ranges are checked now
    unc = result.uncertainty()
    lines = ["# Calibration of the hindcast 2017→2022 against sim/data/city_history.csv (history up to 2022 only).",
             "# Written by `python run.py calibrate`; re-run it rather than editing. [parameters] is applied to",
             "# every scenario that sets calibration = \"calibration.toml\"; the other tables document the fit.", ""]
    s = result.settings
    meta = dict(method="ABC-PMC (population Monte Carlo ABC, adaptive tolerance, Gaussian kernel 2x weighted covariance) "
                       "for the posterior; fitted point = best ensemble mean among the Nelder-Mead-refined best particle, "
                       "the top particles and the posterior mean",
                created=_dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                seed=s["seed"], budget=s["budget"], generations=s["generations"], accept=s["accept"],
                search_scale=s["scale"], eval_scale=s["eval_scale"], eval_replicates=s["replicates"], top=s["top"],
                refine=s["refine"], refine_replicates=s["refine_replicates"], chosen=s["chosen"], simulations=s["simulations"],
                runtime_seconds=round(result.runtime_seconds, 1), distance=round(result.distance, 4),
                start_distance=round(distance(result.start_errors), 4),
                distance_definition="weighted mean of per-series MAPE (%), weights in [fit.<series>].weight",
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
    nested = _nest({k: float(v) for k, v in result.parameters.items()})
    for section, values in nested.items():
        lines += ["", f"[parameters.{section}]"] + [f"{k} = {_toml(v)}" for k, v in values.items()]
    for key, u in unc.items():  # same section/key layout as [parameters]
        lines += ["", f"[uncertainty.{key}]"] + [f"{k} = {_toml(_r(v))}" for k, v in u.items()]
    for name, err in (("fit", result.errors), ("start_fit", result.start_errors)):
        for series, row in err.iterrows():
            lines += ["", f"[{name}.{series}]"]
            for k in ("mape", "max_ape", "bias", "points", "weight", "years", "observed", "simulated"):
                lines.append(f"{k} = {_toml(_r(row[k]))}")
    post = result.posterior.sample(n=min(posterior_draws, len(result.posterior)), weights="weight", replace=True,
                                   random_state=np.random.RandomState(s["seed"] % 2**32))
    lines += ["", "# A weighted draw from the last generation's accepted particles (for bands with parameter uncertainty)."]
    for section, keys in _nest({f.key: f.key for f in FREE}).items():
        lines += [f"[posterior.{section}]"] + [f"{k} = {_toml([_r(v) for v in post[dotted]])}" for k, dotted in keys.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tomllib.loads(tmp.read_text("utf-8"))
    os.replace(tmp, path)
    return path


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


def load_calibration(path: Path | str = CALIBRATION_FILE) -> dict:
    """The calibration file as a dict (parameters, uncertainty, fit, start_fit, posterior, meta)."""
    path = Path(path)
    if not path.is_file():
        raise CalibrationError(f"{path}: no calibration file; run `python run.py calibrate`")
    try:
        return tomllib.loads(path.read_text("utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise CalibrationError(f"{path}: not valid TOML: {e}") from None


def calibrated_params(path: Path | str = CALIBRATION_FILE) -> Params:
    """Params() with the file's fitted values applied (as the baseline scenario does)."""
    return Params().with_overrides(load_calibration(path).get("parameters", {}), file=str(path))


def posterior_samples(path: Path | str = CALIBRATION_FILE) -> list[dict]:
    """The file's posterior draws as dicts of dotted keys (for ``hindcast(samples=...)``)."""
    post = _flatten(load_calibration(path).get("posterior", {}))
    n = min((len(v) for v in post.values()), default=0)
    return [{k: float(v[i]) for k, v in post.items()} for i in range(n)]
