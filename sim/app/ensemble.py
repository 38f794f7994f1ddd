"""The app's ensemble: many replicates of the sidebar's settings and of the loaded scenario file,
so that a planner sees the odds of meeting each target instead of one random path.

Runs go through the ensemble runner (``sim.experiments.ensemble.run_ensemble``) in a process pool, started
from a background thread of the page; replicate *k* of both ensembles has the same seed (and the
same posterior draw of the parameters), so what they share cancels in their difference. Finished
replicates are kept in a folder per set-up for as long as the server runs: a second run of the
same settings is read from there (and from a small in-memory cache of what the page shows), and a
cancelled run resumes where it stopped. The words the page adds to the report's paragraph are
made here too: what the sidebar's levers do against the file (named, in percentage points) and
why we might miss (the report's scenario discovery). Nothing here draws; the panel is
``EnsemblePanel`` in ``sim/app/scoreboards.py``.
"""

from __future__ import annotations

import atexit
import concurrent.futures as cf
import contextlib
import dataclasses
import html
import logging
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from ..data.datasets import data_origin
from ..experiments import scenarios
from ..experiments.ensemble import compare, run_ensemble
from ..experiments.executors import executor
from ..experiments.results import finished_replicates
from ..experiments.scenarios import Scenario
from ..experiments.targets import UNIT_ZH, Target
from ..report.figures import band, yearly
from ..report.misses import why_we_might_miss_html
from ..report.numbers import diff_unit, difference, is_count, whole
from ..report.text import result_summary
from ..report.uncertainty import RunKind, beyond, coarsening_note, run_kind, wilson
from .levers import AppConfig, change_text, lever_changes

logger = logging.getLogger(__name__)
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

    @property
    def changes(self) -> tuple[str, ...]:
        """The sidebar's levers that differ from the scenario file, in words (old → new)."""
        if self.levers is None:
            return ()
        return tuple(change_text(*c) for c in lever_changes(self.scenario.params, self.levers.params))


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
    kinds: tuple[RunKind, ...] = ()                # how each ensemble ran: posterior draws or fixed, how many runs
    changes: tuple[str, ...] = ()                  # the levers that differ from the scenario file, in words
    misses: str = ""                               # why we might miss (HTML), for the last ensemble
    coarser: dict = dataclasses.field(default_factory=dict)  # lang → how many runs of each ensemble thinned their firms
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
    start = data_origin(s.params.start_year)     # the runs' frames begin at the state they are built from
    bands = []
    for r in results:
        y = yearly(r.city, r.districts, start)
        shown = {t.indicator for t in s.targets}
        bands.append({ind: band(y, ind) for ind in shown if ind in y.columns})
    diffs = compare(results[0], results[1]) if len(results) > 1 else None
    text = result_summary(results[-1])
    if diffs is not None and len(diffs):
        said = comparison_sentences(diffs, req.changes, s.targets)
        text = {lang: text[lang] + ("" if lang == "zh" else " ") + said[lang] for lang in text}
    return EnsembleView(names=tuple(r.scenario.name for r in results), replicates=req.replicates,
                        scale=s.params.scale, seed=s.seed, start_year=start, until=s.until, targets=s.targets,
                        summaries=tuple(r.summary for r in results), bands=tuple(bands), diffs=diffs, text=text,
                        seconds=seconds, key=req.key, kinds=tuple(run_kind(r) for r in results), changes=req.changes,
                        misses=why_we_might_miss(results[-1]),
                        coarser={lang: coarsening_note(results, lang) for lang in ("en", "zh")})


def why_we_might_miss(result) -> str:
    """The report's "why might we miss" (HTML) for one ensemble: for each target some runs meet
    and others miss, the conditions under which it is mostly missed; or why nothing can be said."""
    try:
        return why_we_might_miss_html(result)
    except Exception as e:  # noqa: BLE001 — the odds are shown all the same
        logger.exception("scenario discovery failed")
        return f"<p class=note>{html.escape(f'Scenario discovery failed: {type(e).__name__}: {e}')}</p>"


def comparison_sentences(diffs: pd.DataFrame, changes, targets) -> dict[str, str]:
    """What the sidebar's levers do against the scenario file, in plain words (zh, en): each
    change in a probability of meeting a target whose interval excludes 0, in percentage points;
    else the largest real change in a target's value, relative and with its unit; else that
    nothing changes beyond what the runs' spread explains. Names the levers, not "a scenario":
    the app compares one set of levers with one file."""
    ref, n = diffs["reference"].iloc[0], int(diffs["replicates"].iloc[0])
    by_id = {t.id: t for t in targets}
    levers_zh = f"侧栏改动的杠杆（{'；'.join(changes)}）" if changes else "侧栏的杠杆"
    levers_en = f"the sidebar's levers ({'; '.join(changes)})" if changes else "the sidebar's levers"
    b_zh, b_en = beyond(diffs, "zh"), beyond(diffs, "en")
    d = diffs.assign(size=diffs["prob_met_diff"].abs())
    sure = d[(d["prob_met_diff_lo"] > 0) | (d["prob_met_diff_hi"] < 0)].sort_values("size", ascending=False)
    if len(sure):
        zh = "；".join(f"{r.target} {100 * r.prob_met_diff:+.0f} 个百分点（95%区间 {100 * r.prob_met_diff_lo:+.0f} 至 "
                      f"{100 * r.prob_met_diff_hi:+.0f}）" for r in sure.itertuples())
        en = "; ".join(f"{r.target} by {100 * r.prob_met_diff:+.0f} percentage points (95 % interval "
                       f"{100 * r.prob_met_diff_lo:+.0f} to {100 * r.prob_met_diff_hi:+.0f})" for r in sure.itertuples())
        return {"zh": f"与情景文件「{ref}」相比，{levers_zh}改变了达标概率（{n} 次配对运行，变化{b_zh}）：{zh}。",
                "en": f"Against the scenario file «{ref}», {levers_en} change the probability of meeting {en}, "
                      f"over {n} paired runs ({b_en})."}
    rel = d.assign(rel=(d["value_diff"] / d["value_reference"].abs().replace(0, np.nan)).abs())
    real = rel[((rel["value_diff_lo"] > 0) | (rel["value_diff_hi"] < 0)) & rel["rel"].notna()]
    if len(real):
        r = real.sort_values("rel", ascending=False).iloc[0]
        t = by_id.get(r["target"])
        unit = diff_unit(t)
        unit_zh = "个百分点" if unit == "pts of %" else UNIT_ZH.get(unit, unit)
        share = 100 * r["value_diff"] / abs(r["value_reference"])
        scale = abs(r["value_reference"])

        def signed(x: float) -> str:      # a count's mean difference whole when whole, else to a tenth
            if t is not None and is_count(t):
                return f"{x:+,.0f}" if whole(x) else f"{x:+,.1f}"
            return difference(x, scale)

        mean, lo, hi = (signed(r[k]) for k in ("value_diff", "value_diff_lo", "value_diff_hi"))
        return {"zh": f"与情景文件「{ref}」相比，在这 {n} 次配对运行中，{levers_zh}对达标概率的影响没有{b_zh}；"
                      f"指标值变化最大的是 {r['target']}：比「{ref}」的平均值变化 {share:+.1f}%（平均差值 {mean} {unit_zh}，"
                      f"95%区间 {lo} 至 {hi}）。",
                "en": f"Against the scenario file «{ref}», over {n} paired runs, {levers_en} move no probability of "
                      f"meeting a target {b_en}; the largest real change in a target's value is {r['target']}'s: "
                      f"{share:+.1f} % of its mean in «{ref}» (mean difference {mean} {unit}, 95 % interval {lo} to "
                      f"{hi} {unit})."}
    return {"zh": f"与情景文件「{ref}」相比，在这 {n} 次配对运行中，{levers_zh}对任何目标的影响都没有{b_zh}。",
            "en": f"Against the scenario file «{ref}», over {n} paired runs, {levers_en} change no target {b_en}."}


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
