"""The app's ensemble: many replicates of the sidebar's settings and of the loaded scenario file,
so that a planner sees the odds of meeting each target instead of one random path.

Runs go through the ensemble runner (``sim.experiments.ensemble.run_ensemble``) in a process pool, started
from a background thread of the page; replicate *k* of both ensembles has the same seed, so
their difference is the levers' effect, not chance. Finished replicates are kept in a folder per
set-up for as long as the server runs: a second run of the same settings is read from there (and
from a small in-memory cache of what the page shows), and a cancelled run resumes where it
stopped. Nothing here draws; the panel is ``EnsemblePanel`` in ``sim/app/scoreboards.py``.
"""

from __future__ import annotations

import atexit
import concurrent.futures as cf
import contextlib
import dataclasses
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd

from ..experiments import scenarios
from ..experiments.ensemble import compare, run_ensemble
from ..experiments.executors import executor
from ..experiments.results import finished_replicates
from ..experiments.scenarios import Scenario
from ..experiments.targets import Target
from ..report.figures import band, yearly
from ..report.text import result_summary
from ..report.uncertainty import wilson
from .levers import AppConfig

DEFAULT_REPLICATES = 20
MAX_REPLICATES = 200
BACKEND = "processes"        # "serial" runs in the page's background thread alone
VIEWS_KEPT = 32              # finished ensembles the page can show again at once


class Cancelled(Exception):
    """The user cancelled the run; finished replicates are kept for the next one."""


@dataclass(frozen=True)
class Request:
    """What to run: the loaded scenario file, and the same with the sidebar's levers when any differ."""

    scenario: Scenario
    levers: Scenario | None
    replicates: int

    @property
    def key(self) -> tuple:
        return (self.scenario.fingerprint(), self.levers.fingerprint() if self.levers else None, self.replicates)

    @property
    def runs(self) -> list[Scenario]:
        return [self.scenario] + ([self.levers] if self.levers else [])


def request(config: AppConfig, replicates: int = DEFAULT_REPLICATES) -> Request:
    """The ensembles the app runs for ``config``: its scenario file as loaded and, when the
    levers differ from it, the levers as they stand in the sidebar now (applied by Reset or not),
    both at the sidebar's scale and seed and the scenario's horizon."""
    replicates = max(1, min(int(replicates), MAX_REPLICATES))
    base = dataclasses.replace(scenarios.load(config.file), params=config.scenario_params)
    base = base.with_run(replicates=replicates, seed=config.seed, scale=config.scale)
    levers = None
    if config.changed_levers():
        levers = dataclasses.replace(base, name=f"{base.name}+levers",
                                     params=config.params.with_overrides({"scale": config.scale}))
    return Request(base, levers, replicates)


@dataclass(frozen=True, eq=False)      # identity: its tables do not compare with ==
class EnsembleView:
    """What the page shows of a finished pair of ensembles."""

    names: tuple[str, ...]                         # the scenario file's, then the levers' (if any)
    replicates: int
    scale: float
    seed: int
    start_year: int
    until: int
    targets: tuple[Target, ...]
    summaries: tuple[pd.DataFrame, ...]            # sim.experiments.results.summarise, one per ensemble
    bands: tuple[dict[str, pd.DataFrame], ...]     # indicator → year-end median, p05, p95, one per ensemble
    diffs: pd.DataFrame | None                     # paired differences, levers − scenario
    text: dict                                     # the plain-words paragraph (zh, en)
    seconds: float
    key: tuple
    from_cache: bool = False

    def prob(self, i: int, target: str) -> tuple[float, float, float]:
        """P(met) of ensemble ``i`` for a target and its 95 % interval."""
        row = self.summaries[i].set_index("target").loc[target]
        k = int(round(row["prob_met"] * self.replicates))
        return (float(row["prob_met"]), *wilson(k, self.replicates))


_views: OrderedDict = OrderedDict()
_views_lock = threading.Lock()
_folder_locks: dict[str, threading.Lock] = {}
_root: Path | None = None


def run(req: Request, cancel: threading.Event | None = None,
        progress: Callable[[int, int], None] | None = None, backend: str | None = None) -> EnsembleView:
    """Run (or read back) the request's ensembles; ``progress(done, total)`` after each replicate.
    Raises :class:`Cancelled` when ``cancel`` is set before the end."""
    cancel = cancel or threading.Event()
    backend = backend or BACKEND
    with _views_lock:
        if req.key in _views:
            _views.move_to_end(req.key)
            return dataclasses.replace(_views[req.key], from_cache=True)
    started = time.perf_counter()
    total = req.replicates * len(req.runs)
    done = [sum(len(finished_replicates(_folder(s)) & set(range(req.replicates))) for s in req.runs)]

    def one_done(n: int):
        done[0] += n
        if progress is not None:
            progress(min(done[0], total), total)

    if progress is not None:
        progress(done[0], total)
    results = []
    with _executor(backend) as pool:
        watched = _Watched(pool, cancel, one_done)
        for s in req.runs:
            with _lock(s):
                try:
                    results.append(run_ensemble(s, out=_folder(s), pool=watched, chunk=1))
                except cf.CancelledError:
                    raise Cancelled() from None
            if cancel.is_set():
                raise Cancelled()
    view = _view(req, results, time.perf_counter() - started)
    with _views_lock:
        _views[req.key] = view
        while len(_views) > VIEWS_KEPT:
            _views.popitem(last=False)
    return view


def cached(req: Request) -> EnsembleView | None:
    """The view of a request already run, without running anything."""
    with _views_lock:
        view = _views.get(req.key)
    return dataclasses.replace(view, from_cache=True) if view is not None else None


def _view(req: Request, results, seconds: float) -> EnsembleView:
    s = req.scenario
    start = s.params.start_year
    bands = []
    for r in results:
        y = yearly(r.city, r.districts, start)
        shown = {t.indicator for t in s.targets}
        bands.append({ind: band(y, ind) for ind in shown if ind in y.columns})
    diffs = compare(results[0], results[1]) if len(results) > 1 else None
    text = result_summary(results[-1], diffs)
    return EnsembleView(names=tuple(r.scenario.name for r in results), replicates=req.replicates,
                        scale=s.params.scale, seed=s.seed, start_year=start, until=s.until, targets=s.targets,
                        summaries=tuple(r.summary for r in results), bands=tuple(bands), diffs=diffs, text=text,
                        seconds=seconds, key=req.key)


# ------------------------------------------------------------------------------------------------
class _Watched(cf.Executor):
    """Passes tasks to ``pool``, reports each finished one, and on cancel stops handing out work:
    tasks not yet started are cancelled, so a cancel takes effect within one replicate."""

    def __init__(self, pool: cf.Executor, cancel: threading.Event, on_done: Callable[[int], None]):
        self.pool, self.cancel, self.on_done = pool, cancel, on_done
        self.futures: list[cf.Future] = []

    def submit(self, fn, /, *args, **kwargs):
        if self.cancel.is_set():
            return _cancelled()
        future = self.pool.submit(fn, *args, **kwargs)
        self.futures.append(future)
        future.add_done_callback(self._finished)
        return future

    def _finished(self, future: cf.Future):
        if not future.cancelled() and future.exception() is None:
            self.on_done(len(future.result()["replicates"]))
        if self.cancel.is_set():
            for f in self.futures:
                f.cancel()


def _cancelled() -> cf.Future:
    future = cf.Future()
    future.cancel()
    future.set_running_or_notify_cancel()    # as_completed only sees a cancel once it is notified
    return future


@contextlib.contextmanager
def _executor(backend: str):
    # forkserver: workers are forked from a clean process that has the model imported, not from
    # the web server with its threads (forking a threaded process can deadlock the child).
    with executor(backend, start_method="forkserver", preload=("sim.experiments.ensemble",)) as pool:
        yield pool


def _folder(s: Scenario) -> Path:
    global _root
    if _root is None:
        _root = Path(tempfile.mkdtemp(prefix="cq-sim-app-ensembles-"))
        atexit.register(shutil.rmtree, _root, True)
    return _root / s.fingerprint()


def _lock(s: Scenario) -> threading.Lock:
    # Two sessions asking for the same set-up at once take turns: the second reads what the
    # first wrote instead of writing the same shards again.
    with _views_lock:
        return _folder_locks.setdefault(s.fingerprint(), threading.Lock())
