"""The report's figures (matplotlib, drawn off screen) and the ensemble summaries they are drawn
from: fan charts of the target indicators, regional inequality over time and the paired
differences of a comparison; the maps are in ``sim/report/maps.py``.

Every chart is drawn yearly: the year-end (Q4) value of a stock, share or index, the year's
total of a flow counted per quarter (an indicator ending in ``_q``). The inequality indices move
with the quarter's R&D and firm counts and mean something only year on year. A step the model
puts in an indicator on purpose (zones upgraded, ``sim/report/events.py``) is marked where it
happens, with what happened and where.
"""

from __future__ import annotations

import io
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from ..data import actors, datasets  # noqa: E402
from ..experiments import observations  # noqa: E402
from ..experiments.laggards import t3_laggards, t3_start  # noqa: E402
from ..experiments.results import EnsembleResult  # noqa: E402
from ..experiments.targets import INDICATOR_NAMES, REGIONAL_INDICATORS, meets_rd_growth  # noqa: E402
from ..params.constants import STEPS_PER_YEAR  # noqa: E402
from .events import ZONE_SHARE, zone_steps  # noqa: E402
from .fonts import CJK_FAMILIES, FALLBACK, use_cjk_font  # noqa: E402
from .numbers import is_count  # noqa: E402
from .uncertainty import run_kind, spread_phrase  # noqa: E402

# Chinese district names need a CJK font (Debian fonts-noto-cjk); DejaVu covers the rest.
FONTS = [*CJK_FAMILIES, FALLBACK]
COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]
GROUP_ZH = {"central_urban": "中心城区", "new_metropolitan": "主城新区", "northeast": "渝东北", "southeast": "渝东南"}
GROUP_EN = {"central_urban": "central urban", "new_metropolitan": "new metropolitan", "northeast": "northeast cluster",
            "southeast": "southeast cluster"}
# Indicators of the fan charts: (city indicator, label, target id whose line is drawn)
FAN_INDICATORS = {
    "tech_enterprises": "科技型企业 tech-based SMEs",
    "high_tech_enterprises": "高新技术企业 high-tech enterprises",
    "districts_rd_cagr_10": "R&D 年均增长≥10% 的区县 districts with R&D growth ≥ 10 %/yr",
    "hightech_zone_output_share": "高新区工业产值占比 high-tech-zone output share (%)",
    "new_innovative_counties": "新增通过验收的国家创新型县 new innovative counties (accepted)",
    "new_innovative_counties_listed": "新创建国家创新型县 new innovative counties (listed)",
    "districts_with_platform": "一区一平台 districts with a platform",
    "rd_expenditure": "全社会R&D经费 R&D spending (100m yuan)",
    "rd_intensity": "R&D 投入强度 R&D intensity (% of GDP)",
}
INEQUALITY = {
    "rd_intensity_gini": "R&D 强度基尼系数 Gini of district R&D intensity",
    "rd_per_capita_theil": "人均R&D 泰尔指数 Theil of R&D per capita",
    "tech_per_capita_theil": "人均科技型企业 泰尔指数 Theil of tech SMEs per capita",
    "clusters_rd_share": "两群 R&D 占比 two clusters' share of R&D (%)",
}
# The y-axis unit of each fan chart, by indicator.
UNITS = {
    "tech_enterprises": "家 firms", "high_tech_enterprises": "家 firms",
    "districts_rd_cagr_10": "区县 districts (of 38)", "hightech_zone_output_share": "% of industrial output",
    "new_innovative_counties": "县 counties", "new_innovative_counties_listed": "县 counties", "districts_with_platform": "区县 districts (of 38)",
    "rd_expenditure": "亿元 100 million yuan", "rd_intensity": "% of GDP",
}
# A region's indicator (the regional city reporters of sim/core/metrics.py): named in both
# languages, in the city indicator's unit.
FAN_INDICATORS.update({k: " ".join(INDICATOR_NAMES[k]) for k in REGIONAL_INDICATORS})
UNITS.update({k: UNITS[base] for k, (base, _) in REGIONAL_INDICATORS.items()})
INEQUALITY_UNITS = {"rd_intensity_gini": "Gini index (0 = equal)",
                    "rd_per_capita_theil": "Theil index (0 = equal)", "tech_per_capita_theil": "Theil index (0 = equal)",
                    "clusters_rd_share": "% of city R&D"}


def style():
    # Registers CJK fonts a stale matplotlib font cache does not list (see sim/report/fonts.py).
    use_cjk_font()
    plt.rcParams.update({"figure.dpi": 100, "axes.spines.top": False, "axes.spines.right": False, "font.size": 9})


# ------------------------------------------------------------------------------------------------
# Derived series
# ------------------------------------------------------------------------------------------------
def yearly(city: pd.DataFrame, districts: pd.DataFrame, start_year: int) -> pd.DataFrame:
    """Year-end city indicators per replicate, plus the T3 count (districts whose R&D grew at
    least 10 %/yr on average since the year the runs start from, as the scoreboard counts it:
    ``sim.experiments.laggards.t3_start``; ``start_year`` for a table without districts) derived
    from the district R&D series."""
    y = city[city["quarter"] == 4].pivot_table(index=["scenario", "replicate", "year"], columns="indicator",
                                               values="value").reset_index()
    start_year = t3_start(districts, start_year)
    rd = districts[(districts["quarter"] == 4) & (districts["indicator"] == "rd_expenditure")]
    rd = rd.pivot_table(index=["scenario", "replicate", "adcode"], columns="year", values="value")
    base = rd[start_year] if start_year in rd.columns else None
    rows = []
    for year in rd.columns:
        if year <= start_year or base is None:
            count = pd.Series(np.nan, index=rd.index)
        else:
            count = pd.Series(meets_rd_growth(rd[year], base, year - start_year).astype(float), index=rd.index)
        rows.append(count.groupby(level=["scenario", "replicate"]).sum(min_count=1).rename(year))
    t3 = pd.concat(rows, axis=1)
    t3.columns.name = "year"
    t3 = t3.stack().rename("districts_rd_cagr_10").reset_index()
    return y.merge(t3, on=["scenario", "replicate", "year"], how="left")


def year_values(city: pd.DataFrame, indicator: str) -> pd.DataFrame:
    """One value per run and year: the year-end (Q4) value, or for a flow counted per quarter
    (``*_q``) the year's total (complete years only)."""
    sub = city[city["indicator"] == indicator]
    if not indicator.endswith("_q"):
        return sub[sub["quarter"] == 4][["scenario", "replicate", "year", "value"]]
    g = sub.groupby(["scenario", "replicate", "year"])["value"]
    total = g.sum().rename("value").to_frame().assign(quarters=g.size())
    return total[total["quarters"] == STEPS_PER_YEAR].drop(columns="quarters").reset_index()


def band(frame: pd.DataFrame, indicator: str, by="year") -> pd.DataFrame:
    g = frame.groupby(by)[indicator]
    return pd.DataFrame({"median": g.median(), "p05": g.quantile(0.05), "p95": g.quantile(0.95)})


def district_final(result: EnsembleResult) -> pd.DataFrame:
    """Median over replicates of each district's indicators at the last step, with T3 as the
    scoreboard counts it, run by run (``sim.experiments.laggards``): ``rd_cagr``, the median of
    the runs' R&D growth (%/yr) from the start year to T3's year, and ``lag_share``, the share of
    the runs in which the district grows less than T3 asks."""
    d = result.districts
    last = d["step"].max()
    final = d[d["step"] == last]
    fin = final.groupby(["adcode", "name_zh", "indicator"])["value"].median().unstack("indicator")
    if "tier" in fin.columns:
        # A tier is a category: the one most replicates give (the better on a tie), not a median
        # that can fall between two tiers.
        tiers = final[final["indicator"] == "tier"]
        fin["tier"] = tiers.groupby(["adcode", "name_zh"])["value"].agg(lambda v: v.mode().min())
    t3 = t3_laggards(result).districts.set_index("adcode")
    fin = fin.reset_index()
    fin["rd_cagr"] = fin["adcode"].map(t3["rd_cagr"])
    fin["lag_share"] = fin["adcode"].map(t3["lag_share"])
    groups = datasets.load_districts().set_index("adcode")["group"]
    fin["group"] = fin["adcode"].map(groups)
    return fin


# ------------------------------------------------------------------------------------------------
# Figures
# ------------------------------------------------------------------------------------------------
def fan_charts(results: list[EnsembleResult]) -> plt.Figure:
    """Median and 5–95 % band of each target indicator over time, with the target lines."""
    style()
    targets = results[0].scenario.targets
    shown = [t.indicator for t in targets] + [k for k in ("rd_expenditure", "rd_intensity") if k not in {t.indicator for t in targets}]
    n = len(shown)
    cols = 3 if n > 4 else 2
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 2.9 * rows), squeeze=False)
    years = [yearly(r.city, r.districts, r.scenario.params.start_year) for r in results]
    for ax, indicator in zip(axes.flat, shown):
        for i, (r, y) in enumerate(zip(results, years)):
            b = band(y, indicator)
            c = COLORS[i % len(COLORS)]
            ax.fill_between(b.index, b["p05"], b["p95"], color=c, alpha=0.18, lw=0)
            ax.plot(b.index, b["median"], color=c, lw=2, marker="o", ms=3, label=r.scenario.name)
        for t in targets:
            if t.indicator == indicator:
                ax.axhline(t.threshold, color="k", ls="--", lw=1)
                ax.annotate(f"{t.id} target {t.threshold:,.0f} ({t.year})", (ax.get_xlim()[1], t.threshold),
                            xytext=(-2, 3), textcoords="offset points", fontsize=7, ha="right")
        if indicator == ZONE_SHARE:
            mark_zone_steps(ax, results, years)
        draw_published(ax, indicator, int(min(y.index.min() for y in years)))
        ax.set_title(FAN_INDICATORS.get(indicator, indicator), fontsize=8.5)
        ax.set_ylabel(UNITS.get(indicator, next((t.unit for t in targets if t.indicator == indicator), "")), fontsize=7.5)
        ax.set_xlabel("年末 year end", fontsize=7.5)
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        unit = next((t.unit for t in targets if t.indicator == indicator), None)
        if is_count(indicator=indicator, unit=unit):      # a count's axis in whole numbers
            ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.10g}"))
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7, loc="upper left")
    fig.suptitle("Target indicators at each year end: median and 5–95 % band across replicates (dashed: target; "
                 f"the spread: {spread_phrase([run_kind(r) for r in results])});\nblack: published figures with the "
                 "90 % range of their observation model (▲ a published floor, ▼ a ceiling); grey: the published years "
                 "every replicate replays, conditioned on them", fontsize=9)
    fig.tight_layout()
    return fig


Z90 = 1.645


def draw_published(ax, indicator: str, first: int) -> None:
    """The published figures of an indicator from ``first`` on: the history's final levels as
    dots, the later figures through their observation models (a level with its 90 % range, a
    floor ▲ or a ceiling ▼), and the published years shaded."""
    hist = actors.load_city_history()
    h = hist[(hist.indicator == indicator) & (hist.year >= first)]
    if len(h):
        ax.plot(h.year, h.value, "o", color="k", ms=3.5, zorder=5)
    last = first
    for o in observations.observations():
        if o.series != (indicator,):
            continue
        last = max(last, o.year)
        if o.model == "lognormal":
            lo, hi = o.value * math.exp(-Z90 * o.sigma), o.value * math.exp(Z90 * o.sigma)
            ax.errorbar([o.year], [o.value], yerr=[[o.value - lo], [hi - o.value]], fmt="o", color="k", ms=3.5,
                        capsize=2, lw=1, zorder=5)
        else:
            ax.plot([o.year], [o.value], "^" if o.model == "lower_bound" else "v", color="k", ms=5, zorder=5)
    if last > first:
        ax.axvspan(first, last, color="0.5", alpha=0.08, lw=0)


def mark_zone_steps(ax, results: list[EnsembleResult], years: list[pd.DataFrame]) -> None:
    """Mark on the zone-share chart each quarter in which zones were upgraded: what, where, and
    how much the share moved (one mark for scenarios that share the same step)."""
    steps = [zone_steps(r) for r in results]
    keys = [[(s.year, s.quarter, frozenset(s.adcodes)) for s in ss] for ss in steps]
    seen = set()
    for i, (y, ss, ks) in enumerate(zip(years, steps, keys)):
        for step, key in zip(ss, ks):
            if key in seen:
                continue
            seen.add(key)
            shared = all(key in k for k in keys)        # every scenario's: drawn neutral
            c = "#333333" if shared else COLORS[i % len(COLORS)]
            b = band(y, ZONE_SHARE)
            x = step.year if step.quarter == 4 else step.year - 1 + step.quarter / STEPS_PER_YEAR
            top = float(b["median"].get(step.year, step.after))
            ax.axvline(x, color="#777777", ls=":", lw=0.9, zorder=0)
            ax.annotate(step.label(), (x, top), xytext=(0.03, 0.97 - 0.3 * (len(seen) - 1)), textcoords="axes fraction",
                        fontsize=6.5, va="top", ha="left", color=c,
                        arrowprops=dict(arrowstyle="->", lw=0.6, color="#555555"),
                        bbox=dict(boxstyle="round,pad=0.25", fc="white", ec="#bbbbbb", lw=0.5, alpha=0.9))


def inequality_chart(results: list[EnsembleResult]) -> plt.Figure:
    """Regional inequality at each year end (the indices move with each quarter's R&D and firm
    counts and mean something year on year)."""
    style()
    fig, axes = plt.subplots(1, len(INEQUALITY), figsize=(3.4 * len(INEQUALITY), 2.8), squeeze=False)
    for ax, (indicator, label) in zip(axes.flat, INEQUALITY.items()):
        for i, r in enumerate(results):
            b = band(year_values(r.city, indicator), "value")
            c = COLORS[i % len(COLORS)]
            ax.fill_between(b.index, b["p05"], b["p95"], color=c, alpha=0.18, lw=0)
            ax.plot(b.index, b["median"], color=c, lw=2, marker="o", ms=3, label=r.scenario.name)
        ax.set_title(label, fontsize=8)
        ax.set_ylabel(INEQUALITY_UNITS.get(indicator, ""), fontsize=7.5)
        ax.set_xlabel("年末 year end", fontsize=7.5)
        ax.xaxis.set_major_locator(matplotlib.ticker.MultipleLocator(1))
        ax.xaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%d"))
    axes.flat[0].legend(fontsize=7)
    fig.suptitle("Regional inequality across the 38 districts at each year end (median, 5–95 % band; the spread: "
                 f"{spread_phrase([run_kind(r) for r in results])})", fontsize=10)
    fig.tight_layout()
    return fig


def difference_chart(diffs: pd.DataFrame) -> plt.Figure:
    """Paired differences against the reference: value (relative to the threshold's scale) and
    probability of meeting each target, with 95 % intervals."""
    style()
    scen = list(dict.fromkeys(diffs["scenario"]))
    targets = list(dict.fromkeys(diffs["target"]))
    fig, axes = plt.subplots(1, 2, figsize=(11, 0.9 + 0.45 * len(targets) * len(scen)), squeeze=False)
    for ax, label, title in ((axes[0, 0], "value", "mean difference in the target indicator (scenario − reference)"),
                             (axes[0, 1], "prob_met", "difference in the probability of meeting the target")):
        ys, labels = [], []
        for i, s in enumerate(scen):
            sub = diffs[diffs["scenario"] == s].set_index("target")
            for j, t in enumerate(targets):
                if t not in sub.index:
                    continue
                y = j * (len(scen) + 1) + i
                row = sub.loc[t]
                scale = 1.0
                if label == "value":
                    scale = abs(row["value_reference"]) or 1.0
                    mid = 100 * row["value_diff"] / scale
                    lo, hi = 100 * row["value_diff_lo"] / scale, 100 * row["value_diff_hi"] / scale
                else:
                    mid, lo, hi = (100 * row[k] for k in ("prob_met_diff", "prob_met_diff_lo", "prob_met_diff_hi"))
                ax.errorbar(mid, y, xerr=[[mid - lo], [hi - mid]] if np.isfinite(lo) else None, fmt="o",
                            color=COLORS[(i + 1) % len(COLORS)], capsize=3)
                ys.append(y)
                labels.append(f"{t} {s}")
        ax.axvline(0, color="k", lw=0.8)
        lo, hi = ax.get_xlim()
        if label == "prob_met" and hi - lo < 20:          # no change: a readable scale of points, not ±0.04
            ax.set_xlim(min(lo, -10), max(hi, 10))
        ax.set_yticks(ys, labels, fontsize=7)
        ax.invert_yaxis()
        ax.set_title(title + (" (% of the reference's mean)" if label == "value" else ""), fontsize=8.5)
        ax.set_xlabel("% of the reference's mean over the paired runs" if label == "value" else "percentage points "
                      "(+10: met in 10 % more of the replicates)", fontsize=7.5)
    fig.suptitle(f"Paired differences against {diffs['reference'].iloc[0]} (95 % intervals)", fontsize=10)
    fig.tight_layout()
    return fig


def png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()

