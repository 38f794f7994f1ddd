"""The app's model and the numbers behind its views: the district indicators and collaboration
strengths the map and the district panel show, each target indicator per step, and whether a
target is met or on track."""

from __future__ import annotations

import contextlib
import ctypes
import gc
import threading
import time

import numpy as np
import solara

from ..core.firms import STATUS_NAMES
from ..experiments.targets import Target, meets_rd_growth
from ..model import InnovationModel
from ..params.constants import STEPS_PER_YEAR
from .levers import AppConfig, default_config

MAP_INDICATORS = {
    "tech_per_10k": "每万人科技型企业 Tech-based SMEs per 10,000 people",
    "high_tech_enterprises": "高新技术企业 High-tech enterprises",
    "rd_intensity": "研发投入强度 R&D intensity (% of GDP)",
    "tier": "评价档次 Evaluation tier",
}
# Indicators that are already a rate over the whole period: on track means meeting it so far.
RATE_INDICATORS = {"districts_rd_cagr_10"}
STATUS = {"met": ("已达标 met", "#2b8a3e"), "on_track": ("进度正常 on track", "#1971c2"),
          "off_track": ("进度滞后 off track", "#e8590c"), "pending": ("待观测 no growth yet", "#868e96")}
ON_TRACK_RULE = ("进度正常 on track: the value is at or above the straight line from its end-2022 value to the "
                 "target at the end of the target year (T3, a growth rate already: annualised R&D growth so far "
                 "≥ 10 % in enough districts; nothing to measure before the first quarter). 已达标 met: at or "
                 "above the target now, or at the end of the target year once it has passed.")


def return_freed_memory() -> None:
    """Free what closed sessions left and hand it back to the system. Their models are released,
    but a closed session's widgets and state hold reference cycles that wait for the cyclic
    collector, and glibc keeps freed pages between the server's long-lived objects: without this
    the server's memory creeps up with every session ever opened. (Trimming is glibc only.)"""
    global _malloc_trim
    gc.collect()
    if _malloc_trim is None:
        try:
            _malloc_trim = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _malloc_trim = False
    if _malloc_trim:
        _malloc_trim(0)


_malloc_trim = None
_trim_lock = threading.Lock()
_trim_due: float | None = None      # when the pending return of freed memory runs; None: none pending


def return_freed_memory_soon(delay: float = 2.0, most: float = 30.0) -> None:
    """:func:`return_freed_memory` in the background once sessions have stopped closing for
    ``delay`` seconds (at most ``most`` seconds after the first of them). For a session that ends
    with no other session opening after it: Solara closes its widgets and kernel after the page's
    own clean-ups have run, so the memory is only free a moment later. Many sessions ending
    together (the idle ones Solara culls) share one collection."""
    global _trim_due
    with _trim_lock:
        start = _trim_due is None
        _trim_due = time.monotonic() + delay
    if start:
        threading.Thread(target=_return_when_quiet, args=(time.monotonic() + most,), daemon=True,
                         name="return-freed-memory").start()


def _return_when_quiet(latest: float) -> None:
    global _trim_due
    while True:
        with _trim_lock:
            wait = min(_trim_due, latest) - time.monotonic()
            if wait <= 0:
                _trim_due = None
                break
        time.sleep(wait)
    return_freed_memory()


class AppModel(InnovationModel):
    """The model as the app runs it: built from an :class:`AppConfig` (or a reactive holding
    one, so that Reset picks up the levers as they are now), stopping at the
    scenario's horizon, and keeping each district's R&D per step for target T3."""

    def __init__(self, config: AppConfig | solara.Reactive | None = None):
        cfg = getattr(config, "value", config) or default_config()
        super().__init__(params=cfg.params, seed=cfg.seed, scale=cfg.scale)
        self.config = cfg
        # Play steps in a thread of its own while a Reset or a scenario load may release the
        # model from the page's thread: a release waits for the step, and a released model no
        # longer steps.
        self._lock = threading.RLock()
        self.released = False
        self._cache = {}
        self.rd_track = [np.array([d.rd for d in self.district_list])]
        self.link_reference = max(self.district_network()[0].max(), 1e-9)
        self.map_reference = {k: max(float(np.max(_indicator(self, k))), 1e-9) * 1.5 for k in MAP_INDICATORS}
        # The published years are replayed at once (under the policy as written): the page opens
        # where the scenario takes over, with those years already on its charts.
        self.run_until(self.scenario_from)

    def per_step(self, name: str, compute):
        """``compute(self)`` once per step: several views need the same numbers. It runs under the
        step's lock: the play thread may be stepping while a view draws, and a view must not read
        the firm arrays half-way through a step."""
        with self._lock:
            key = (name, self.steps)
            if key not in self._cache:
                self._cache = {k: v for k, v in self._cache.items() if k[1] == self.steps}
                self._cache[key] = compute(self)
            return self._cache[key]

    def step(self):
        with self._lock:
            if self.released:
                return
            super().step()
            self.rd_track.append(np.array([d.rd for d in self.district_list]))
            if self.reached(self.config.until):
                self.running = False

    def release(self):
        with self._lock:
            self.released = True
            self.running = False
            self._cache = {}
            super().release()


def _indicator(model, key) -> np.ndarray:
    return np.array([float(getattr(d, key)) for d in model.district_list])


def indicator_series(model, indicator: str) -> np.ndarray:
    """A target indicator at every step so far."""
    if indicator == "districts_rd_cagr_10":
        rd0 = model.rd_track[0]
        return np.array([0.0] + [float(meets_rd_growth(rd, rd0, t / STEPS_PER_YEAR).sum()) for t, rd in enumerate(model.rd_track[1:], start=1)])
    frame = model.per_step("city", lambda m: m.datacollector.get_model_vars_dataframe())
    return frame[indicator].to_numpy(float)


def target_status(values: np.ndarray, target: Target, start_year: int) -> str:
    """met / on_track / off_track; the rule is ON_TRACK_RULE."""
    span = target.year - start_year
    now = (len(values) - 1) / STEPS_PER_YEAR
    if now >= span:
        return "met" if values[int(round(span * STEPS_PER_YEAR))] >= target.threshold else "off_track"
    if target.indicator in RATE_INDICATORS:
        if now == 0:
            return "pending"
        return "on_track" if values[-1] >= target.threshold else "off_track"
    if values[-1] >= target.threshold:
        return "met"
    path = values[0] + (target.threshold - values[0]) * now / span
    return "on_track" if values[-1] >= path - 1e-9 else "off_track"


def district_status_counts(model, index: int) -> dict[str, float]:
    # Under the step's lock, so the play thread cannot grow the firm arrays between two reads.
    with getattr(model, "_lock", contextlib.nullcontext()):
        pop = model.firms
        status = pop.status()
        mine = pop.col("district") == index
        w = pop.col("weight")
        counts = {STATUS_NAMES[s]: float(w[mine & (status == s)].sum()) for s in range(len(STATUS_NAMES))}
        counts["exited"] += float(pop.exited[index]) if index < len(pop.exited) else 0.0   # rows compacted away
        return counts


def fmt(x: float, unit: str = "") -> str:
    if not np.isfinite(x):
        return "–"
    if unit == "%":
        return f"{x:.1f} %"
    return f"{x:,.0f}" if abs(x) >= 100 or float(x).is_integer() else f"{x:,.2f}"
