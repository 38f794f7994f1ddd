"""The report's figures (matplotlib, drawn off screen) and the ensemble summaries they are drawn
from: fan charts of the target indicators, regional inequality over time, choropleth maps of
the 38 区县, the collaboration network on the map and the paired differences of a comparison.
"""

from __future__ import annotations

import io
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib import patheffects  # noqa: E402
from matplotlib.collections import LineCollection, PolyCollection  # noqa: E402
from matplotlib.colors import BoundaryNorm, ListedColormap  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from ..data import datasets  # noqa: E402
from ..experiments.ensemble import EnsembleResult  # noqa: E402
from .fonts import CJK_FAMILIES, FALLBACK, use_cjk_font  # noqa: E402
from ..programmes.evaluation import TIER_COLOURS, TIER_NAMES  # noqa: E402
from ..experiments.targets import meets_rd_growth, rd_growth_rate  # noqa: E402

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
NETWORK_TOP_LINKS = 60
# Map: (title, colour map, colour-bar label with the unit); the tier is a category (legend).
MAPS = {
    "tech_per_10k": ("每万人科技型企业 tech-based SMEs per 10,000 people", "viridis", "家/万人 firms per 10,000 people"),
    "high_tech_enterprises": ("高新技术企业 high-tech enterprises", "viridis", "家 firms"),
    "rd_intensity": ("R&D 投入强度 R&D intensity", "magma_r", "占GDP % of GDP"),
    "tier": ("创新指数梯队 evaluation tier", None, None),
}
# The y-axis unit of each fan chart, by indicator.
UNITS = {
    "tech_enterprises": "家 firms", "high_tech_enterprises": "家 firms",
    "districts_rd_cagr_10": "区县 districts (of 38)", "hightech_zone_output_share": "% of industrial output",
    "new_innovative_counties": "县 counties", "new_innovative_counties_listed": "县 counties", "districts_with_platform": "区县 districts (of 38)",
    "rd_expenditure": "亿元 100 million yuan", "rd_intensity": "% of GDP",
}
INEQUALITY_UNITS = {"rd_intensity_gini": "Gini index (0 = equal)",
                    "rd_per_capita_theil": "Theil index (0 = equal)", "tech_per_capita_theil": "Theil index (0 = equal)",
                    "clusters_rd_share": "% of city R&D"}
# The nine central urban districts are too small at the city's scale to carry their names: they are
# drawn again, labelled, in an inset beside the map.
CENTRAL = "central_urban"
INSET_RATIO = (3.0, 1.35)                  # widths of a map and of its inset beside it
LEADER = dict(arrowstyle="-", lw=0.5, color="#333333", shrinkA=0.5, shrinkB=1.0)   # a moved name's line


def _style():
    # Registers CJK fonts a stale matplotlib font cache does not list (see sim/report/fonts.py).
    use_cjk_font()
    plt.rcParams.update({"figure.dpi": 100, "axes.spines.top": False, "axes.spines.right": False, "font.size": 9})


# ------------------------------------------------------------------------------------------------
# Derived series
# ------------------------------------------------------------------------------------------------
def yearly(city: pd.DataFrame, districts: pd.DataFrame, start_year: int) -> pd.DataFrame:
    """Year-end city indicators per replicate, plus the T3 count (districts whose R&D grew at
    least 10 %/yr on average since the start year) derived from the district R&D series."""
    y = city[city["quarter"] == 4].pivot_table(index=["scenario", "replicate", "year"], columns="indicator",
                                               values="value").reset_index()
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


def band(frame: pd.DataFrame, indicator: str, by="year") -> pd.DataFrame:
    g = frame.groupby(by)[indicator]
    return pd.DataFrame({"median": g.median(), "p05": g.quantile(0.05), "p95": g.quantile(0.95)})


def district_final(result: EnsembleResult) -> pd.DataFrame:
    """Median over replicates of each district's indicators at the last step, with its R&D
    growth since the start year."""
    d = result.districts
    last = d["step"].max()
    start = d["step"].min()
    final = d[d["step"] == last]
    fin = final.groupby(["adcode", "name_zh", "indicator"])["value"].median().unstack("indicator")
    if "tier" in fin.columns:
        # A tier is a category: the one most replicates give (the better on a tie), not a median
        # that can fall between two tiers.
        tiers = final[final["indicator"] == "tier"]
        fin["tier"] = tiers.groupby(["adcode", "name_zh"])["value"].agg(lambda v: v.mode().min())
    rd0 = d[(d["step"] == start) & (d["indicator"] == "rd_expenditure")].groupby("adcode")["value"].median()
    years = result.scenario.until - result.scenario.params.start_year
    fin = fin.reset_index()
    fin["rd_cagr"] = 100 * rd_growth_rate(fin["rd_expenditure"], fin["adcode"].map(rd0), years)
    fin["meets_t3"] = meets_rd_growth(fin["rd_expenditure"], fin["adcode"].map(rd0), years)
    groups = datasets.load_districts().set_index("adcode")["group"]
    fin["group"] = fin["adcode"].map(groups)
    return fin


# ------------------------------------------------------------------------------------------------
# Figures
# ------------------------------------------------------------------------------------------------
def fan_charts(results: list[EnsembleResult]) -> plt.Figure:
    """Median and 5–95 % band of each target indicator over time, with the target lines."""
    _style()
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
        ax.set_title(FAN_INDICATORS.get(indicator, indicator), fontsize=8.5)
        ax.set_ylabel(UNITS.get(indicator, next((t.unit for t in targets if t.indicator == indicator), "")), fontsize=7.5)
        ax.set_xlabel("年末 year end", fontsize=7.5)
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.10g}"))
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7, loc="upper left")
    fig.suptitle("Target indicators: median and 5–95 % band across replicates (dashed: target)", fontsize=10)
    fig.tight_layout()
    return fig


def inequality_chart(results: list[EnsembleResult]) -> plt.Figure:
    _style()
    fig, axes = plt.subplots(1, len(INEQUALITY), figsize=(3.4 * len(INEQUALITY), 2.8), squeeze=False)
    for ax, (indicator, label) in zip(axes.flat, INEQUALITY.items()):
        for i, r in enumerate(results):
            sub = r.city[r.city["indicator"] == indicator]
            b = band(sub, "value", by="step")
            # time in years, a year-end at the whole number (step 0 = end of the start year)
            first = sub.groupby("step")[["year", "quarter"]].first()
            x = first["year"] + (first["quarter"] - 4) / 4.0
            c = COLORS[i % len(COLORS)]
            ax.fill_between(x, b["p05"], b["p95"], color=c, alpha=0.18, lw=0)
            ax.plot(x, b["median"], color=c, lw=2, label=r.scenario.name)
        ax.set_title(label, fontsize=8)
        ax.set_ylabel(INEQUALITY_UNITS.get(indicator, ""), fontsize=7.5)
        ax.set_xlabel("年 year (tick = year end)", fontsize=7.5)
        ax.xaxis.set_major_locator(matplotlib.ticker.MultipleLocator(1))
        ax.xaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%d"))
    axes.flat[0].legend(fontsize=7)
    fig.suptitle("Regional inequality across the 38 districts, quarterly (median, 5–95 % band)", fontsize=10)
    fig.tight_layout()
    return fig


def _polygons():
    gj = datasets.load_boundaries()
    polys, codes = [], []
    for f in gj["features"]:
        geom = f["geometry"]
        parts = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
        for part in parts:
            polys.append(np.asarray(part[0]))
            codes.append(int(f["properties"]["adcode"]))
    return polys, codes


def _label_points() -> pd.DataFrame:
    """Where each district's name goes: the boundary file's representative point (inside the
    shape, unlike the seat for some districts), the short Chinese name, and its group."""
    d = datasets.load_districts()
    rep = {int(f["properties"]["adcode"]): (f["properties"]["rep_lon"], f["properties"]["rep_lat"])
           for f in datasets.load_boundaries()["features"]}
    return pd.DataFrame({"adcode": d["adcode"].astype(int),
                         "name": [r.short_zh if isinstance(r.short_zh, str) else r.name_zh for r in d.itertuples()],
                         "lon": [rep[int(c)][0] for c in d["adcode"]], "lat": [rep[int(c)][1] for c in d["adcode"]],
                         "group": d["group"]})


def _central_extent(pad: float = 0.04):
    polys, codes = _polygons()
    central = set(_label_points().query("group == @CENTRAL")["adcode"])
    pts = np.vstack([p for p, c in zip(polys, codes) if c in central])
    (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
    return x0 - pad, x1 + pad, y0 - pad, y1 + pad


def draw_districts(ax, values: dict | None = None, cmap="viridis", vmin=None, vmax=None, label_names=True,
                   norm=None, labels=None, fontsize=6.0):
    """The 38 district polygons, filled by ``values`` (adcode → number) or plain grey, with the
    names of the districts in ``labels`` (adcodes; default all) when ``label_names``."""
    polys, codes = _polygons()
    if values is None:
        pc = PolyCollection(polys, facecolor="#eeeeee", edgecolor="#999999", lw=0.4)
    else:
        arr = np.array([values.get(c, np.nan) for c in codes], float)
        pc = PolyCollection(polys, array=np.ma.masked_invalid(arr), cmap=cmap, norm=norm, edgecolor="white", lw=0.4)
        if norm is None:
            pc.set_clim(vmin if vmin is not None else np.nanmin(arr), vmax if vmax is not None else np.nanmax(arr))
    ax.add_collection(pc)
    ax.autoscale_view()
    ax.set_aspect(1 / math.cos(math.radians(30)))
    ax.axis("off")
    if label_names:
        points = _label_points()
        if labels is not None:
            points = points[points["adcode"].isin(set(labels))]
        for row in points.itertuples():
            name_district(ax, row.adcode, row.name, (row.lon, row.lat), fontsize=fontsize)
    return pc


def name_district(ax, adcode, name, xy, offset=(0, 0), **kw):
    """A district's name at ``xy``, movable by :func:`declutter` (which then shows its leader line)."""
    kw = dict(ha="center", va="center", fontsize=6.0, color="#111111") | kw
    label = ax.annotate(name, xy, xytext=offset, textcoords="offset points", gid=f"district-label-{adcode}",
                        path_effects=[patheffects.withStroke(linewidth=1.5, foreground="white")], arrowprops=LEADER,
                        **kw)
    label.arrow_patch.set_visible(False)
    return label


def map_axes(fig, spec):
    """A map's axes and, beside it, the axes of its central-urban inset (in ``spec``, a grid cell)."""
    sub = spec.subgridspec(1, 2, width_ratios=INSET_RATIO, wspace=0.02)
    return fig.add_subplot(sub[0, 0]), fig.add_subplot(sub[0, 1])


def with_central_inset(ax, inset, draw):
    """Draw a map on ``ax`` with every district named but the nine central urban ones, and
    those nine, named, enlarged on ``inset``. ``draw(axes, names)`` draws the map on an axes,
    naming the districts whose adcodes are in ``names``."""
    points = _label_points()
    central = set(points.loc[points["group"] == CENTRAL, "adcode"])
    draw(ax, set(points["adcode"]) - central)
    draw(inset, central)
    x0, x1, y0, y1 = _central_extent()
    inset.set_xlim(x0, x1)
    inset.set_ylim(y0, y1)
    inset.set_aspect(1 / math.cos(math.radians(30)))
    inset.set_anchor("N")
    inset.axis("on")
    inset.set_xticks([])
    inset.set_yticks([])
    for side in inset.spines.values():
        side.set_visible(True)
        side.set_edgecolor("#555555")
    inset.set_xlabel("中心城区 central urban, enlarged", fontsize=7, labelpad=3)
    # The frame of the enlarged area, without connectors: they would cross the map.
    indicator = ax.indicate_inset_zoom(inset, edgecolor="#555555", alpha=0.8)
    for line in getattr(indicator, "connectors", None) or (indicator[1] if isinstance(indicator, tuple) else ()):
        line.set_visible(False)
    return inset


def declutter(fig, pad: float = 1.5) -> None:
    """Move district names that would overlap another to a free spot nearby, with a leader line
    to the district: the largest districts keep their place. Call after the layout is final
    (offsets are in points, but the map's scale changes with the layout)."""
    renderer = fig.canvas.get_renderer()
    area = _district_areas()
    for ax in [a for top in fig.axes for a in (top, *top.child_axes)]:
        labels = [t for t in ax.texts if str(t.get_gid() or "").startswith("district-label-")]
        labels.sort(key=lambda t: -area.get(int(t.get_gid().rsplit("-", 1)[1]), 0.0))
        frame = ax.get_window_extent(renderer)
        placed = []
        for t in labels:
            box = _box(t, renderer, pad)
            if not _collides(box, placed) and _inside(box, frame):
                placed.append(box)
                continue
            for radius in (7, 11, 15, 20, 26, 33):
                for angle in range(0, 360, 30):
                    dx, dy = radius * math.cos(math.radians(angle)), radius * math.sin(math.radians(angle))
                    t.set_ha("left" if dx > 2 else "right" if dx < -2 else "center")
                    t.set_va("bottom" if dy > 2 else "top" if dy < -2 else "center")
                    t.xyann = (dx, dy)
                    box = _box(t, renderer, pad)
                    if not _collides(box, placed) and _inside(box, frame):
                        break
                else:
                    continue
                break
            placed.append(box)
            t.arrow_patch.set_visible(True)


def _box(label, renderer, pad):
    # The name's own extent: an Annotation's would include its (hidden) leader line.
    label.update_positions(renderer)
    return matplotlib.text.Text.get_window_extent(label, renderer).padded(pad)


def _collides(box, placed) -> bool:
    return any(box.overlaps(other) for other in placed)


def _inside(box, frame) -> bool:
    return frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1


def _district_areas() -> dict[int, float]:
    polys, codes = _polygons()
    area: dict[int, float] = {}
    for p, c in zip(polys, codes):
        x, y = p[:, 0], p[:, 1]
        area[c] = area.get(c, 0.0) + 0.5 * abs(float(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))))
    return area


def choropleths(result: EnsembleResult) -> plt.Figure:
    _style()
    fin = district_final(result).set_index("adcode")
    fig = plt.figure(figsize=(13, 10))
    grid = fig.add_gridspec(2, 2, hspace=0.08, wspace=0.06)
    for cell, (indicator, (label, cmap, unit)) in zip(grid, MAPS.items()):
        ax, inset = map_axes(fig, cell)
        values = fin[indicator].to_dict()
        if indicator == "tier":
            tiers = sorted(TIER_COLOURS)
            colours = ListedColormap([TIER_COLOURS[t] for t in tiers])
            norm = BoundaryNorm([t - 0.5 for t in tiers] + [tiers[-1] + 0.5], colours.N)
            with_central_inset(ax, inset, lambda a, names: draw_districts(a, values, colours, norm=norm, labels=names))
            ax.legend(handles=[Patch(color=TIER_COLOURS[t], label=TIER_NAMES[t]) for t in tiers], fontsize=7.5,
                      loc="upper left", title="梯队 tier (the most frequent across replicates)", title_fontsize=7.5,
                      frameon=False)
        else:
            lo, hi = np.nanmin(list(values.values())), np.nanmax(list(values.values()))
            with_central_inset(ax, inset, lambda a, names: draw_districts(a, values, cmap, lo, hi, labels=names))
            scale = matplotlib.cm.ScalarMappable(matplotlib.colors.Normalize(lo, hi), cmap)
            # in the map's empty north-west corner
            bar = fig.colorbar(scale, cax=ax.inset_axes([0.03, 0.84, 0.36, 0.035]), orientation="horizontal")
            bar.set_label(unit, fontsize=7.5)
            bar.ax.tick_params(labelsize=7)
        ax.set_title(label, fontsize=9.5, loc="left")
    fig.suptitle(f"{result.scenario.name}: the 38 区县 at the end of {result.scenario.until} (median across replicates)",
                 fontsize=10.5)
    fig.subplots_adjust(left=0.02, right=0.98, top=0.94, bottom=0.02)
    declutter(fig)
    return fig


def network_map(result: EnsembleResult) -> plt.Figure:
    """District-to-district collaboration (firm and university links aggregated) on the map;
    paired-assistance links in red."""
    _style()
    links = result.links.groupby(["src", "dst"]).agg(weight=("weight", "mean"), paired=("paired", "max")).reset_index()
    d = datasets.load_districts().set_index("adcode")
    fin = district_final(result).set_index("adcode")
    # The strongest links carry the picture; hundreds of thin ones would hide it.
    shown = pd.concat([links[~links["paired"]].nlargest(NETWORK_TOP_LINKS, "weight"), links[links["paired"]]])
    top = shown["weight"].max() if len(shown) and shown["weight"].max() > 0 else 1.0
    size = fin["tech_enterprises"].reindex(d.index).fillna(0).to_numpy()
    colours = [COLORS[list(GROUP_ZH).index(g)] for g in d["group"]]

    def draw(ax, names, zoom=1.0):
        draw_districts(ax, None, label_names=False)
        for paired, color, z in ((False, "#1f4e79", 2), (True, "#d62728", 3)):
            sub = shown[shown["paired"] == paired]
            segs = [[(d.at[a, "lon"], d.at[a, "lat"]), (d.at[b, "lon"], d.at[b, "lat"])]
                    for a, b in zip(sub["src"], sub["dst"])]
            widths = 0.4 + 5 * np.sqrt(sub["weight"].to_numpy() / top)
            ax.add_collection(LineCollection(segs, linewidths=widths, colors=color, alpha=0.5 if not paired else 0.85,
                                             zorder=z, linestyles="solid" if not paired else (0, (3, 1.5))))
        ax.scatter(d["lon"], d["lat"], s=10 + 300 * size / max(size.max(), 1), c=colours, zorder=4,
                   edgecolor="white", lw=0.6)
        for code, row in d.iterrows():
            if code in names:
                name_district(ax, code, row["short_zh"] if isinstance(row["short_zh"], str) else row["name_zh"],
                              (row["lon"], row["lat"]), offset=(3, 3), ha="left", va="bottom", fontsize=6.5, zorder=5)

    fig = plt.figure(figsize=(12, 8.2))
    ax, inset = map_axes(fig, fig.add_gridspec(1, 1)[0, 0])
    with_central_inset(ax, inset, draw)
    handles = [plt.Line2D([], [], color="#1f4e79", lw=2, label=f"the {NETWORK_TOP_LINKS} strongest links (width = strength)"),
               plt.Line2D([], [], color="#d62728", lw=2, ls=(0, (3, 1.5)), label="对口协同 paired assistance")]
    handles += [plt.Line2D([], [], marker="o", ls="", color=COLORS[i], label=f"{GROUP_ZH[g]} {GROUP_EN[g]}")
                for i, g in enumerate(GROUP_ZH)]
    ax.legend(handles=handles, fontsize=7, loc="lower left")
    ax.set_title(f"{result.scenario.name}: district collaboration network at the end of {result.scenario.until} "
                 "(node size = tech-based SMEs)", fontsize=9.5, loc="left")
    fig.subplots_adjust(left=0.02, right=0.98, top=0.95, bottom=0.02)
    declutter(fig)
    return fig


def difference_chart(diffs: pd.DataFrame) -> plt.Figure:
    """Paired differences against the reference: value (relative to the threshold's scale) and
    probability of meeting each target, with 95 % intervals."""
    _style()
    scen = list(dict.fromkeys(diffs["scenario"]))
    targets = list(dict.fromkeys(diffs["target"]))
    fig, axes = plt.subplots(1, 2, figsize=(11, 0.9 + 0.45 * len(targets) * len(scen)), squeeze=False)
    for ax, label, title in ((axes[0, 0], "value", "difference in the target indicator (scenario − reference)"),
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
        ax.set_yticks(ys, labels, fontsize=7)
        ax.invert_yaxis()
        ax.set_title(title + (" (% of reference)" if label == "value" else ""), fontsize=8.5)
        ax.set_xlabel("% of the reference's value" if label == "value" else "percentage points (+10: met in 10 % "
                      "more of the replicates)", fontsize=7.5)
    fig.suptitle(f"Paired differences against {diffs['reference'].iloc[0]} (95 % intervals)", fontsize=10)
    fig.tight_layout()
    return fig


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()

