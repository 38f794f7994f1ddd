"""The report's maps (matplotlib, drawn off screen): choropleth maps of the 38 区县 and the
collaboration network on the map, each with the nine central urban districts enlarged beside it,
and what they share: the district shapes, their names, and moving aside the names that collide.
"""

from __future__ import annotations

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
from ..experiments.district_bands import OWN, STATUS_YEAR, at_year, district_quantiles  # noqa: E402
from ..experiments.results import EnsembleResult  # noqa: E402
from ..programmes.evaluation import TIER_NAMES  # noqa: E402
from .figures import COLORS, GROUP_EN, GROUP_ZH, district_final, style  # noqa: E402
from .palette import TIER_COLOURS  # noqa: E402

NETWORK_TOP_LINKS = 60
# Map: (title, colour map, colour-bar label with the unit); the tier is a category (legend).
MAPS = {
    "tech_per_10k": ("每万人科技型企业 tech-based SMEs per 10,000 people", "viridis", "家/万人 firms per 10,000 people"),
    "high_tech_enterprises": ("高新技术企业 high-tech enterprises", "viridis", "家 firms"),
    "rd_intensity": ("R&D 投入强度 R&D intensity", "magma_r", "占GDP % of GDP"),
    "tier": ("创新指数梯队 evaluation tier", None, None),
}
# How sure the medians are: each district's 5–95 % band across the replicates, as a share of its median.
BAND_MAPS = {
    "high_tech_enterprises": "高新技术企业 90 % 区间宽度 high-tech: band width",
    "rd_expenditure": "R&D 经费 90 % 区间宽度 R&D: band width",
}
BAND_UNIT = "(p95 − p05) / median, % (grey: median 0)"
# Each map's start stock: its districts whose start value is their own figure are outlined.
START_STOCK = {"tech_per_10k": "tech_enterprises", "high_tech_enterprises": "high_tech_enterprises",
               "rd_intensity": "rd_expenditure", **{k: k for k in BAND_MAPS}}
OWN_EDGE = "#d62728"
# The nine central urban districts are too small at the city's scale to carry their names: they are
# drawn again, labelled, in an inset beside the map.
CENTRAL = "central_urban"
INSET_RATIO = (3.0, 1.35)                  # widths of a map and of its inset beside it
LEADER = dict(arrowstyle="-", lw=0.5, color="#333333", shrinkA=0.5, shrinkB=1.0)   # a moved name's line


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
                   norm=None, labels=None, fontsize=6.0, outline=()):
    """The 38 district polygons, filled by ``values`` (adcode → number) or plain grey, with the
    names of the districts in ``labels`` (adcodes; default all) when ``label_names``, and the
    districts in ``outline`` (adcodes) outlined in OWN_EDGE."""
    polys, codes = _polygons()
    if values is None:
        pc = PolyCollection(polys, facecolor="#eeeeee", edgecolor="#999999", lw=0.4)
    else:
        arr = np.array([values.get(c, np.nan) for c in codes], float)
        pc = PolyCollection(polys, array=np.ma.masked_invalid(arr), cmap=cmap, norm=norm, edgecolor="white", lw=0.4)
        if norm is None:
            pc.set_clim(vmin if vmin is not None else np.nanmin(arr), vmax if vmax is not None else np.nanmax(arr))
    ax.add_collection(pc)
    own = [p for p, c in zip(polys, codes) if c in set(outline)]
    if own:
        ax.add_collection(PolyCollection(own, facecolor="none", edgecolor=OWN_EDGE, lw=1.3, zorder=2, gid="own-start"))
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
    """Medians across the replicates at the horizon of four indicators, then how wide the runs'
    band is for high-tech enterprises and R&D; each stock's map outlines the districts whose start
    value is their own published figure (the others start from an estimate)."""
    style()
    fin = district_final(result).set_index("adcode")
    horizon = at_year(district_quantiles(result), result.scenario.until)
    fig = plt.figure(figsize=(13, 14.5))
    grid = fig.add_gridspec(3, 2, hspace=0.08, wspace=0.06)
    panels = [(k, v, fin[k].to_dict()) for k, v in MAPS.items()]
    for k, title in BAND_MAPS.items():
        q = horizon.xs(k, level="indicator")
        width = (100 * (q["p95"] - q["p05"]) / q["median"]).where(q["median"] > 0)
        panels.append((k, (title, "PuBu", BAND_UNIT), width.to_dict()))
    outlined = False
    for cell, (indicator, (label, cmap, unit), values) in zip(grid, panels):
        ax, inset = map_axes(fig, cell)
        stock = START_STOCK.get(indicator)
        own = {a for (a, i), status in horizon["start_status"].items() if i == stock and status == OWN}
        outlined |= bool(own)
        if indicator == "tier":
            tiers = sorted(TIER_COLOURS)
            colours = ListedColormap([TIER_COLOURS[t] for t in tiers])
            norm = BoundaryNorm([t - 0.5 for t in tiers] + [tiers[-1] + 0.5], colours.N)
            with_central_inset(ax, inset, lambda a, names: draw_districts(a, values, colours, norm=norm, labels=names))
            ax.legend(handles=[Patch(color=TIER_COLOURS[t], label=TIER_NAMES[t]) for t in tiers], fontsize=7.5,
                      loc="upper left", title="梯队 tier (the most frequent across replicates)", title_fontsize=7.5,
                      frameon=False)
        else:
            cmap = matplotlib.colormaps[cmap].with_extremes(bad="#dddddd")      # no value: grey, not blank
            lo, hi = np.nanmin(list(values.values())), np.nanmax(list(values.values()))
            with_central_inset(ax, inset, lambda a, names: draw_districts(a, values, cmap, lo, hi, labels=names,
                                                                           outline=own))
            scale = matplotlib.cm.ScalarMappable(matplotlib.colors.Normalize(lo, hi), cmap)
            # in the map's empty north-west corner
            bar = fig.colorbar(scale, cax=ax.inset_axes([0.03, 0.84, 0.36, 0.035]), orientation="horizontal")
            bar.set_label(unit, fontsize=7.5)
            bar.ax.tick_params(labelsize=7)
        ax.set_title(label, fontsize=9.5, loc="left")
    fig.suptitle(f"{result.scenario.name}: the 38 区县 at the end of {result.scenario.until} (median across replicates; "
                 "bottom row: how wide the replicates' band is)", fontsize=10.5, y=0.995)
    if outlined:
        fig.legend(handles=[Patch(facecolor="none", edgecolor=OWN_EDGE, lw=1.3,
                                  label=f"start value (end-{STATUS_YEAR}) of the stock mapped is the district's own published "
                                        "figure (R&D for R&D intensity); the others start from an estimate")],
                   loc="upper center", bbox_to_anchor=(0.5, 0.983), fontsize=8, frameon=False)
    fig.subplots_adjust(left=0.02, right=0.98, top=0.955, bottom=0.02)
    declutter(fig)
    return fig


def network_map(result: EnsembleResult) -> plt.Figure:
    """District-to-district collaboration (firm and university links aggregated) on the map;
    paired-assistance links in red."""
    style()
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
