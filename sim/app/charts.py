"""The app's target charts: one target indicator per quarter with its target line and on-track
path.

Plain SVG, built in a few milliseconds: a matplotlib figure of the same charts takes about 0.4 s
to render on a 2-core machine, which alone would break the half-second budget of a step and its
redraw.
"""

from __future__ import annotations

import html
import math

import numpy as np

from ..experiments.targets import INDICATOR_NAMES, Target
from ..params.constants import STEPS_PER_YEAR
from ..report import numbers
from .model import RATE_INDICATORS, STATUS

# Chart titles of the indicators a target set can use (sim/data/targets.toml).
INDICATOR_LABELS = {k: f"{zh} {en[0].upper()}{en[1:]}" for k, (zh, en) in INDICATOR_NAMES.items()}


def tick(x: float) -> str:
    """An axis tick: a round number, as short as it is ("45,000", "27.5", "0.25")."""
    return f"{round(x, 9):,.12g}"


def _value(target: Target, x: float) -> str:
    """A value of a target's indicator with its unit; one run's count whole."""
    count = numbers.is_count(target)
    return numbers.with_unit(numbers.value(round(x) if count and np.isfinite(x) else x, count), numbers.unit_of(target))


def _goal(target: Target) -> str:
    return numbers.with_unit(numbers.threshold(target.threshold), numbers.unit_of(target))


def _nice_ticks(lo: float, hi: float, n: int = 4) -> list[float]:
    span = max(hi - lo, 1e-9)
    raw = span / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step + 1e-9) + 1)]


def chart_svg(target: Target, values: np.ndarray, start_year: int, horizon: int, status: str) -> str:
    """One target's indicator per quarter, the target line and the on-track path."""
    W, H, L, R, T, B = 340, 214, 52, 12, 46, 24
    span_x = max(horizon - start_year, (len(values) - 1) / STEPS_PER_YEAR, 1)
    v0, thr = float(values[0]), target.threshold
    lo = min(float(np.nanmin(values)), thr, v0)
    hi = max(float(np.nanmax(values)), thr)
    pad = (hi - lo) * 0.12 or max(abs(hi), 1) * 0.1
    lo = 0.0 if lo >= 0 and lo - pad < 0 else lo - pad
    hi += pad
    sx = lambda x: L + (W - L - R) * x / span_x  # noqa: E731
    sy = lambda y: T + (H - T - B) * (1 - (y - lo) / (hi - lo))  # noqa: E731
    out = [f'<svg class="target-chart" data-indicator="{target.indicator}" viewBox="0 0 {W} {H}" '
           f'width="100%" xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="10">',
           f'<rect width="{W}" height="{H}" fill="#fff"/>']   # readable under the dark theme too
    zh, _, en = INDICATOR_LABELS.get(target.indicator, target.indicator).partition(" ")
    label, colour = STATUS[status]
    out.append(f'<text x="4" y="12" font-size="12" font-weight="bold">{html.escape(target.id)} {html.escape(zh)}</text>'
               f'<text x="4" y="25" fill="#444">{html.escape(en)}</text>'
               f'<text x="4" y="38" fill="{colour}">{label} · 目标 target ≥ {html.escape(_goal(target))} '
               f'({target.year})</text>')
    for t in _nice_ticks(lo, hi):
        y = sy(t)
        out.append(f'<line x1="{L}" x2="{W - R}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e9ecef"/>'
                   f'<text x="{L - 4}" y="{y + 3:.1f}" text-anchor="end" fill="#555">{tick(t)}</text>')
    for yr in range(int(span_x) + 1):
        x = sx(yr)
        out.append(f'<text x="{x:.1f}" y="{H - 8}" text-anchor="middle" fill="#555">{start_year + yr}</text>')
    xt = target.year - start_year
    if target.indicator not in RATE_INDICATORS:
        out.append(f'<line x1="{sx(0):.1f}" y1="{sy(v0):.1f}" x2="{sx(xt):.1f}" y2="{sy(thr):.1f}" '
                   f'stroke="#868e96" stroke-dasharray="2 3"><title>on-track path 进度线</title></line>')
    out.append(f'<line x1="{L}" x2="{W - R}" y1="{sy(thr):.1f}" y2="{sy(thr):.1f}" stroke="#c92a2a" '
               f'stroke-dasharray="6 3"><title>target 目标 {html.escape(_goal(target))}</title></line>'
               f'<line x1="{sx(xt):.1f}" x2="{sx(xt):.1f}" y1="{T}" y2="{H - B}" stroke="#c92a2a" stroke-opacity="0.3"/>')
    pts = " ".join(f"{sx(i / STEPS_PER_YEAR):.1f},{sy(y):.1f}" for i, y in enumerate(values))
    last_x, last_y = sx((len(values) - 1) / STEPS_PER_YEAR), sy(float(values[-1]))
    out.append(f'<polyline points="{pts}" fill="none" stroke="#1c3f6e" stroke-width="2"/>'
               f'<circle cx="{last_x:.1f}" cy="{last_y:.1f}" r="3" fill="#1c3f6e"/>'
               f'<text x="{last_x + (-4 if last_x > 0.6 * W else 4):.1f}" y="{last_y - 5:.1f}" fill="#1c3f6e" '
               f'text-anchor="{"end" if last_x > 0.6 * W else "start"}">'
               f'{html.escape(_value(target, float(values[-1])))}</text>')
    out.append("</svg>")
    return "".join(out)


def fan_svg(target: Target, series, start_year: int, horizon: int) -> str:
    """One target's ensemble: for each ``(label, colour, band)`` the median and 5–95 % band of its
    indicator at every year end (``band``: index year, columns median, p05, p95), and the target
    line."""
    W, H, L, R, T, B = 340, 214, 52, 12, 46, 24
    span_x = max(horizon - start_year, 1)
    thr = target.threshold
    frames = [b.dropna() for _, _, b in series]
    values = [v for b in frames for v in (*b["p05"], *b["p95"])] + [thr]
    lo, hi = min(values), max(values)
    pad = (hi - lo) * 0.12 or max(abs(hi), 1) * 0.1
    lo = 0.0 if lo >= 0 and lo - pad < 0 else lo - pad
    hi += pad
    sx = lambda x: L + (W - L - R) * (x - start_year) / span_x  # noqa: E731
    sy = lambda y: T + (H - T - B) * (1 - (y - lo) / (hi - lo))  # noqa: E731
    zh, _, en = INDICATOR_LABELS.get(target.indicator, target.indicator).partition(" ")
    out = [f'<svg class="fan-chart" data-indicator="{target.indicator}" viewBox="0 0 {W} {H}" width="100%" '
           f'xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="10">',
           f'<rect width="{W}" height="{H}" fill="#fff"/>',
           f'<text x="4" y="12" font-size="12" font-weight="bold">{html.escape(target.id)} {html.escape(zh)}</text>'
           f'<text x="4" y="25" fill="#444">{html.escape(en)} ({html.escape(target.unit)})</text>']
    x = 4
    for label, colour, _ in series:       # the legend
        out.append(f'<rect x="{x}" y="31" width="10" height="8" fill="{colour}" fill-opacity="0.35"/>'
                   f'<text x="{x + 13}" y="39" fill="{colour}">{html.escape(label)}</text>')
        x += 22 + 6 * len(label)
    for t in _nice_ticks(lo, hi):
        y = sy(t)
        out.append(f'<line x1="{L}" x2="{W - R}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e9ecef"/>'
                   f'<text x="{L - 4}" y="{y + 3:.1f}" text-anchor="end" fill="#555">{tick(t)}</text>')
    for yr in range(start_year, start_year + span_x + 1):
        out.append(f'<text x="{sx(yr):.1f}" y="{H - 8}" text-anchor="middle" fill="#555">{yr}</text>')
    out.append(f'<line x1="{L}" x2="{W - R}" y1="{sy(thr):.1f}" y2="{sy(thr):.1f}" stroke="#c92a2a" '
               f'stroke-dasharray="6 3"><title>target 目标 {html.escape(_goal(target))}</title></line>')
    for (label, colour, _), b in zip(series, frames):
        if b.empty:
            continue
        upper = " ".join(f"{sx(yr):.1f},{sy(v):.1f}" for yr, v in b["p95"].items())
        lower = " ".join(f"{sx(yr):.1f},{sy(v):.1f}" for yr, v in reversed(list(b["p05"].items())))
        mid = " ".join(f"{sx(yr):.1f},{sy(v):.1f}" for yr, v in b["median"].items())
        out.append(f'<polygon class="band" points="{upper} {lower}" fill="{colour}" fill-opacity="0.18" stroke="none">'
                   f'<title>{html.escape(label)}: 5–95 % of runs</title></polygon>'
                   f'<polyline class="median" points="{mid}" fill="none" stroke="{colour}" stroke-width="2"/>')
    out.append("</svg>")
    return "".join(out)
