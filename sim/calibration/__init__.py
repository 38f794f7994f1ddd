"""Calibration and validation against Chongqing's published history: the fit on 2017–2022, the
update on the years published since (2023–2024), and the backtest against a plain trend.

The model is started at the end of 2017 (``Params.start_year = 2017``: the data layer's 2017
district state, then the policy environment of 2018–2022, see ``sim/core/hindcast.py``) and run to
the end of 2022. Its year-end city series are compared with the published ones in
``sim/data/city_history.csv`` (the project's copy of the shared research table): tech-based
SMEs, certified high-tech enterprises, R&D spending and intensity (2018–2022), and the regional
split of R&D (2020 by 一区两群 block, 2022 share of the nine central districts). The fit reads
nothing published for a year after 2022; the update reads 2023 to the latest published year.

Method: ABC-SMC with pyabc (sequential Monte Carlo ABC; ``search``): an adaptive p = 1
distance over every published point — levels and yearly additions 2018–2022 (so the 2022
slowdown of registrations binds), the 2020 regional blocks and the 2022 central-district share —
each scaled by its spread in the current generation and weighted by its series' weight over its
number of points; the tolerance of each generation is a quantile of the last one's distances.
The last generation (``--population`` particles, 200 by default) is the posterior; the file
keeps an equally weighted systematic resample of it, with each particle's own end-2022 state,
which every ensemble runs (replicate k: draw k, ``sim/experiments/posterior.py``). The SQLite history
(``results/calibration/abc.db``) lets a stopped search resume and a notebook read every
generation. One seed reproduces the search whatever the number of worker processes (or a Dask
cluster): each generation's tasks are seeded from (seed, generation). The fitted point is the
best of the lowest-distance particles and the posterior mean, each re-evaluated as an ensemble
mean over several replicates at a larger scale, after a local Nelder–Mead refinement of the best
particle (common random numbers, so its objective is a deterministic function of the
parameters). ``update`` (``python run.py calibrate --update``) conditions the posterior on the years published
after the fit (``sim/data/city_recent.csv``): every draw runs paths through them from the end-2022
state, each path weighted by the published figures' observation models
(``sim/experiments/observations.py``), and 500 particles resampled as the conditioned start every
forecast replays (``docs/MODEL.md`` §3.7). ``backtest`` forecasts from origins 2019–2023 with only
what was published up to each (an ABC-SMC search on the history to 2019, 2020, 2021; the fit's own
posterior for 2022; the update on 2023 alone for 2023), and ``skill`` scores the held-out points
(coverage of the 50 % and 90 % bands, median error, CRPS) beside a log-linear trend of the last
three years.

Public API (the notebook ``notebooks/05_calibration.ipynb`` uses only these):

- ``FREE``: the free parameters (key, prior range, scale, why free).
- ``observed()`` → DataFrame of the published points used (series, year, value, status, source).
- ``hindcast(params=None, replicates=8, seed=2017, scale=0.25, workers=1, samples=None)`` →
  long DataFrame (replicate, year, series, value), years 2017–2022. ``samples`` (a list of
  parameter-override dicts, e.g. ``posterior_samples()``) spreads the runs over parameter draws.
- ``hindcast_band(runs)`` → per series and year: mean, p05, p50, p95 and the published value.
- ``fit_errors(runs_or_band)`` → per series: MAPE (%), max APE, points, weight, observed and
  simulated values. ``distance(errors)`` → the scalar the calibration minimises.
- ``calibrate(budget=..., seed=..., population=..., history=...)`` → ``CalibrationResult``;
  ``write_calibration``. ``search(...)`` → the ABC-SMC alone (``SearchResult``).
- ``backtest(origins=(2020, 2019), ...)`` → one row per held-out published point; ``write_backtest``.
- ``load_calibration(path=CALIBRATION_FILE)`` → dict; ``calibrated_params(path)`` → Params;
  ``posterior_samples(path)`` → list of override dicts; ``evaluate(path)`` → re-evaluated errors.
- ``plot_hindcast(band, path, posterior_band=None)`` writes the hindcast figure (published
  points over the band); ``figure_from_file(path, figure)`` draws it for a calibration file.

Command line: ``python run.py calibrate [--population N] [--budget N] [--seed S] [--scale X] ...``,
``--evaluate`` (re-check the stated fit), ``--backtest`` (add the backtest to the file); see ``--help``.

Modules, in layers (each imports only modules listed before it): ``problem`` (the free
parameters, years, paths and defaults; ``load_calibration`` reads the file's tables), ``fit`` (the
published points and the distance), ``result`` (``SearchResult``, ``CalibrationResult`` and the
clipping of the derived end-2022 state), ``runs`` (hindcast simulations and ensembles), ``sampler``
(pyabc's seeded sampler), ``refine`` (the Nelder–Mead refinement and the choice of the fitted
point), ``search`` (ABC-SMC, ``calibrate`` and the check of its settings), ``backtest`` (rolling
origin), ``skill`` (the trend benchmark, CRPS and the skill score), ``file`` (the calibration
file: writing it, reading it back as parameters or posterior draws, ``evaluate``), ``update``
(the conditioned start), ``figure`` (the hindcast figure), ``cli`` (the command line). Everything
above is importable from ``sim.calibration`` itself.
"""

from ..experiments.calibration_file import (CALIBRATION_FILE, FIT_YEARS, LAST_YEAR, START_YEAR, CalibrationError,
                                            load_calibration)
from .backtest import backtest, forecast_points
from .cli import HELP, add_arguments, main
from .figure import LABELS, figure_from_file, plot_hindcast
from .file import (DATA_FILES, SHARED_HISTORY, calibrated_params, data_version, evaluate, posterior_sample,
                   posterior_samples, write_backtest, write_calibration)
from .fit import (ADDED, AIM_MAPE, CITY_SERIES, FIT_SERIES, HEADLINE, REGIONAL_SERIES, SERIES, WEIGHTS, distance,
                  fit_errors, hindcast_band, observed)
from .problem import DEFAULTS, DERIVED, FIGURE_FILE, FIXED_BECAUSE, FREE, ROOT, STEPS, Free
from .result import CalibrationResult, SearchResult
from .runs import hindcast
from .search import calibrate, search

__all__ = [
    "ADDED", "FIT_SERIES", "SearchResult", "backtest", "forecast_points", "posterior_sample", "search",
    "write_backtest", "AIM_MAPE", "CALIBRATION_FILE", "CITY_SERIES", "DATA_FILES", "DEFAULTS", "DERIVED", "FIGURE_FILE", "FIT_YEARS",
    "FIXED_BECAUSE", "FREE", "HEADLINE", "HELP", "LABELS", "LAST_YEAR", "REGIONAL_SERIES", "ROOT", "SERIES",
    "SHARED_HISTORY", "START_YEAR", "STEPS", "WEIGHTS", "CalibrationError", "CalibrationResult", "Free",
    "add_arguments", "calibrate", "calibrated_params", "data_version", "distance", "evaluate", "figure_from_file",
    "fit_errors", "hindcast", "hindcast_band", "load_calibration", "main", "observed", "plot_hindcast",
    "posterior_samples", "write_calibration",
]
