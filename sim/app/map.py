"""The app's district map: the 38 shapes projected once, their colours, tooltips and the
collaboration links of the current step, the legend, and the map widget.

The map is a Vue template so that a click on a district reaches Python; its shapes are sent once
per page, only colours, tooltips and links travel with each step.
"""

from __future__ import annotations

import html
import math
from functools import lru_cache

import ipyvuetify as v
import numpy as np
import solara
import traitlets
from matplotlib import colormaps
from matplotlib.colors import to_hex

from ..data import datasets
from ..programmes.evaluation import TIER_NAMES
from ..report.palette import TIER_COLOURS
from .model import MAP_INDICATORS, AppModel

TOP_LINKS = 120       # strongest district pairs drawn; paired-assistance pairs are always drawn

GROUPS = {"central_urban": "中心城区 Central urban", "new_metropolitan": "主城新区 New metropolitan",
          "northeast": "渝东北三峡库区城镇群 Northeast (Three Gorges) cluster",
          "southeast": "渝东南武陵山区城镇群 Southeast (Wuling) cluster"}
PALETTE = [to_hex(c) for c in colormaps["YlGnBu"](np.linspace(0.08, 0.95, 64))]


# Projected once; shapes simplified to what a 1000-px drawing shows.
def map_geometry():
    """The district shapes (SVG path data, label places), the district seats and the viewBox."""
    paths, centres, viewbox, _ = _geometry()
    return paths, centres, viewbox


def map_inset() -> dict:
    """Where the enlarged central urban area is drawn: the frame (x, y, w, h), the SVG transform
    that maps the city's coordinates into it, the area it enlarges (bx0…by1), the districts it
    holds (``members``, indices of ``paths``) and those named on the main map (``others``)."""
    return _geometry()[3]


@lru_cache(maxsize=1)
def _geometry():
    gj = datasets.load_boundaries()
    dd = datasets.load_districts()
    lons, lats = [], []
    for f in gj["features"]:
        for poly in _polygons(f["geometry"]):
            for ring in poly:
                lons += [p[0] for p in ring]
                lats += [p[1] for p in ring]
    lat0 = math.radians((min(lats) + max(lats)) / 2)
    k = 1000.0 / ((max(lons) - min(lons)) * math.cos(lat0))
    lon_min, lat_max = min(lons), max(lats)

    def project(lon, lat):
        return (round((lon - lon_min) * math.cos(lat0) * k + 5, 1), round((lat_max - lat) * k + 5, 1))

    by_code = {str(f["properties"]["adcode"]): f for f in gj["features"]}
    paths, centres, points = [], {}, []
    for row in dd.itertuples(index=False):
        code = str(row.adcode)
        f = by_code[code]
        parts, mine = [], []
        for poly in _polygons(f["geometry"]):
            for ring in poly:
                pts = [project(*p) for p in ring]
                kept = [pts[0]]
                for p in pts[1:]:
                    if abs(p[0] - kept[-1][0]) + abs(p[1] - kept[-1][1]) >= 1.5:
                        kept.append(p)
                if len(kept) >= 3:
                    parts.append("M" + "L".join(f"{x:g},{y:g}" for x, y in kept) + "Z")
                    mine += kept
        lx, ly = project(f["properties"]["rep_lon"], f["properties"]["rep_lat"])
        paths.append(dict(code=code, d="".join(parts), x=lx, y=ly + 4, label=row.short_zh, ax=lx, ay=ly,
                          moved=False, central=row.group == "central_urban", area=_area(mine)))
        points.append(mine)
        centres[code] = project(row.lon, row.lat)
    width = round((max(lons) - min(lons)) * math.cos(lat0) * k + 10)
    height = round((lat_max - min(lats)) * k + 10)
    inset = _inset(paths, points, width, height)
    place_labels([paths[i] for i in inset["others"]], (0, 0, width, height))
    for p in paths:
        del p["area"]
    return paths, centres, f"0 0 {width} {height}", inset


INSET_MARGIN = 8


def _inset(paths, points, width, height) -> dict:
    """The largest enlargement of the central urban districts whose names collide at the city's
    scale that fits in a corner free of the map (the city's north-west is empty), with their
    names placed inside it."""
    boxes = [label_box(p) for p in paths]
    members = [i for i, p in enumerate(paths) if p["central"] and any(
        j != i and _overlap(boxes[i], boxes[j]) for j in range(len(paths)))]
    if not members:
        return dict(members=[], others=list(range(len(paths))))
    central = [xy for i in members for xy in points[i]]
    bx0, by0 = min(x for x, _ in central), min(y for _, y in central)
    bx1, by1 = max(x for x, _ in central), max(y for _, y in central)
    every = [xy for pts in points for xy in pts]
    m = INSET_MARGIN
    for tenths in range(40, 12, -1):
        scale = tenths / 10
        w, h = scale * (bx1 - bx0), scale * (by1 - by0)
        x1, y1 = m + w, m + h
        clear = not any(x < x1 + m and y < y1 + m for x, y in every) and (x1 + m < bx0 or y1 + m < by0)
        if clear and x1 < width and y1 < height:
            break
    else:       # no room: every name on the map, moved apart where they collide
        return dict(members=[], others=list(range(len(paths))))
    for i in members:
        p = paths[i]
        p.update(ix=round(m + scale * (p["ax"] - bx0), 1), iy=round(m + scale * (p["ay"] - by0) + 6, 1))
    inside = [dict(label=paths[i]["label"], x=paths[i]["ix"], y=paths[i]["iy"], area=paths[i]["area"]) for i in members]
    place_labels(inside, (m, m, x1, y1))
    for i, q in zip(members, inside):
        paths[i].update(ix=q["x"], iy=q["y"], imoved=q["moved"])
    return dict(x=m, y=m, w=round(w, 1), h=round(h, 1), scale=scale, bx0=bx0, by0=by0, bx1=bx1, by1=by1,
                transform=f"translate({m - scale * bx0:.1f},{m - scale * by0:.1f}) scale({scale})",
                members=members, others=[i for i in range(len(paths)) if i not in members])


LABEL_SIZE = 19          # px in the map's 1000-px-wide drawing; a CJK glyph is about one size wide


def label_box(p) -> tuple[float, float, float, float]:
    """The box a district's name covers, with a little room: x0, y0, x1, y1 (text drawn centred
    on x, baseline at y)."""
    half = LABEL_SIZE * len(p["label"]) / 2 + 2
    return p["x"] - half, p["y"] - LABEL_SIZE + 1, p["x"] + half, p["y"] + 5


def place_labels(labels, bounds) -> None:
    """Move names that would cover another to the nearest free spot within ``bounds`` (x0, y0,
    x1, y1), largest districts first, marking them ``moved`` (drawn with a leader line back to
    the district)."""
    placed = []
    bx0, by0, bx1, by1 = bounds

    def free(box):
        return (box[0] >= bx0 and box[1] >= by0 and box[2] <= bx1 and box[3] <= by1
                and not any(_overlap(box, b) for b in placed))

    for p in sorted(labels, key=lambda p: -p["area"]):
        p["moved"] = False
        if not free(label_box(p)):
            x0, y0 = p["x"], p["y"]
            spots = ((x0 + r * math.cos(a), y0 + r * math.sin(a)) for r in range(16, 200, 6)
                     for a in (math.radians(d) for d in range(0, 360, 20)))
            for x, y in spots:
                p.update(x=round(x, 1), y=round(y, 1))
                if free(label_box(p)):
                    p["moved"] = True
                    break
            else:
                p.update(x=x0, y=y0)
        placed.append(label_box(p))


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _area(points) -> float:
    """Area of a district's drawn outline (px², shoelace over its rings' points)."""
    if len(points) < 3:
        return 0.0
    return abs(sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(points, points[1:] + points[:1]))) / 2


def _polygons(geom):
    return geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]


def colour_of(value: float, reference: float, indicator: str) -> str:
    if indicator == "tier":
        return TIER_COLOURS.get(int(value), "#cccccc")
    # A square-root scale: district counts span three orders of magnitude.
    x = math.sqrt(min(max(value, 0.0) / reference, 1.0))
    return PALETTE[min(int(x * len(PALETTE)), len(PALETTE) - 1)]


def map_layers(model, indicator: str):
    """Fills, tooltips and link segments of the map for the model's current state."""
    paths, centres, _ = map_geometry()
    ref = model.map_reference[indicator]
    fills, tips = [], []
    for d in model.district_list:
        value = float(getattr(d, indicator))
        fills.append(colour_of(value, ref, indicator))
        tips.append("\n".join([
            f"{d.name_zh} {d.name_pinyin} ({d.adcode})", GROUPS.get(d.group, d.group),
            f"科技型企业 Tech-based SMEs: {d.tech_enterprises:,.0f} ({d.tech_per_10k:.1f} 每万人 per 10k)",
            f"高新技术企业 High-tech enterprises: {d.high_tech_enterprises:,.0f}",
            f"研发 R&D: {d.rd:.2f} 亿元 ({d.rd_intensity:.2f} % of GDP)",
            f"评价档次 Tier: {d.tier}   指数 Index: {d.index_score:.1f}",
            f"特色平台 Platform: {'有 yes' if d.has_platform else '无 no'}",
            "点击查看详情 Click for details"]))
    M, paired = model.per_step("links", AppModel.district_network)
    codes = [str(d.adcode) for d in model.district_list]
    iu = np.triu_indices(len(codes), 1)
    strength = M[iu]
    order = np.argsort(-strength)
    keep = set(order[:TOP_LINKS][strength[order[:TOP_LINKS]] > 0]) | set(np.flatnonzero(paired[iu]))
    links = []
    for e in sorted(keep, key=lambda e: strength[e]):
        (x1, y1), (x2, y2) = centres[codes[iu[0][e]]], centres[codes[iu[1][e]]]
        width = 0.6 + 7.0 * math.sqrt(min(strength[e] / model.link_reference, 2.0))
        links.append([x1, y1, x2, y2, round(width, 2), bool(paired[iu][e])])
    return fills, tips, links


# What each colour scale measures, printed under its bar.
MAP_UNITS = {"tech_per_10k": "家/万人 firms per 10,000 people", "high_tech_enterprises": "家 firms",
             "rd_intensity": "% of GDP"}


def legend_ticks(reference: float, gap: float = 0.16) -> list[float]:
    """Round values (1, 2 or 5 times a power of ten) for the colour bar, from 0 to at most
    ``reference`` (its top colour), at least ``gap`` of the bar apart along its square-root
    scale (picked from the largest down), in increasing order."""
    if not reference > 0:
        return [0.0]
    ticks, last = [], math.inf
    k = math.floor(math.log10(reference))
    for mag in (10.0 ** e for e in range(k, k - 6, -1)):
        for m in (5, 2, 1):
            v = m * mag
            x = math.sqrt(v / reference)
            if v <= reference * (1 + 1e-9) and last - x >= gap and x >= gap:
                ticks.append(v)
                last = x
    return [0.0] + ticks[::-1]


def legend_svg(indicator: str, reference: float) -> str:
    if indicator == "tier":
        items = "".join(f'<rect x="{x}" y="4" width="12" height="12" fill="{TIER_COLOURS[t]}"/>'
                        f'<text x="{x + 16}" y="14">{TIER_NAMES[t]}</text>' for x, t in zip((4, 220, 480), (1, 2, 3)))
        return (f'<svg viewBox="0 0 660 20" width="100%" font-size="11" font-family="sans-serif">'
                f'<rect width="660" height="20" fill="#fff"/>{items}</svg>')
    stops = "".join(f'<stop offset="{i / (len(PALETTE) - 1):.3f}" stop-color="{c}"/>' for i, c in enumerate(PALETTE[::8]))
    ticks = "".join(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="16" y2="20" stroke="#555"/>'
                    f'<text x="{x:.1f}" y="30" text-anchor="middle">{v:,.12g}</text>'
                    for v in legend_ticks(reference) for x in [10 + 300 * math.sqrt(v / reference)])
    unit = html.escape(MAP_UNITS.get(indicator, ""))
    return (f'<svg class="map-legend" data-indicator="{indicator}" viewBox="0 0 360 48" width="360" '
            f'style="max-width:100%" font-size="10" font-family="sans-serif">'
            f'<rect width="360" height="48" fill="#fff"/><defs><linearGradient id="g-{indicator}">{stops}</linearGradient></defs>'
            f'<rect x="10" y="2" width="300" height="14" fill="url(#g-{indicator})"/>{ticks}'
            f'<text class="legend-unit" x="10" y="44" font-size="11" fill="#333">{unit}</text></svg>')


class DistrictMapWidget(v.VuetifyTemplate):
    """The 38 district shapes coloured by an indicator, the collaboration links drawn between
    district seats (fixed, geographic positions), and a click that selects a district."""

    template = traitlets.Unicode("""
<template>
  <svg class="district-map" :viewBox="viewbox" style="width:100%;max-height:560px"
       xmlns="http://www.w3.org/2000/svg" font-family="sans-serif">
    <path v-for="(p, i) in paths" :key="p.code" :d="p.d" :fill="fills[i]" fill-rule="evenodd"
          :stroke="p.code === selected ? '#000' : '#fff'" :stroke-width="p.code === selected ? 3 : 0.8"
          :data-code="p.code" style="cursor:pointer" @click="selected = p.code"><title>{{ tips[i] }}</title></path>
    <g v-if="show_links" style="pointer-events:none" stroke-linecap="round">
      <line v-for="(l, j) in links" :key="'l' + j" :x1="l[0]" :y1="l[1]" :x2="l[2]" :y2="l[3]"
            :stroke-width="l[4]" :stroke="l[5] ? '#ae3ec9' : '#1c3f6e'" :stroke-dasharray="l[5] ? '7 4' : ''"
            :stroke-opacity="l[5] ? 0.85 : 0.45"/>
    </g>
    <g style="pointer-events:none" stroke="#222" stroke-width="1.2">
      <line v-for="i in inset.others" v-if="paths[i].moved" :key="'m' + i" :x1="paths[i].ax" :y1="paths[i].ay"
            :x2="paths[i].x" :y2="paths[i].y - 6"/>
    </g>
    <text v-for="i in inset.others" :key="'t' + i" :x="paths[i].x" :y="paths[i].y" font-size="19"
          text-anchor="middle" fill="#111" stroke="#fff" stroke-width="3" paint-order="stroke"
          style="pointer-events:none">{{ paths[i].label }}</text>
    <g v-if="inset.members.length" class="map-inset">
      <rect :x="inset.bx0" :y="inset.by0" :width="inset.bx1 - inset.bx0" :height="inset.by1 - inset.by0"
            fill="none" stroke="#333" stroke-width="1.5" stroke-dasharray="5 3" style="pointer-events:none"/>
      <clipPath id="district-map-inset"><rect :x="inset.x" :y="inset.y" :width="inset.w" :height="inset.h"/></clipPath>
      <rect :x="inset.x" :y="inset.y" :width="inset.w" :height="inset.h" fill="#fff"/>
      <g clip-path="url(#district-map-inset)">
        <g :transform="inset.transform">
          <path v-for="(p, i) in paths" :key="'i' + p.code" :d="p.d" :fill="fills[i]" fill-rule="evenodd"
                :stroke="p.code === selected ? '#000' : '#fff'"
                :stroke-width="(p.code === selected ? 3 : 0.8) / inset.scale" :data-code="p.code"
                :data-inset="1" style="cursor:pointer" @click="selected = p.code"><title>{{ tips[i] }}</title></path>
        </g>
      </g>
      <g style="pointer-events:none" stroke="#222" stroke-width="1.2">
        <line v-for="i in inset.members" v-if="paths[i].imoved" :key="'im' + i"
              :x1="inset.x + inset.scale * (paths[i].ax - inset.bx0)" :y1="inset.y + inset.scale * (paths[i].ay - inset.by0)"
              :x2="paths[i].ix" :y2="paths[i].iy - 6"/>
      </g>
      <text v-for="i in inset.members" :key="'it' + i" :x="paths[i].ix" :y="paths[i].iy" font-size="19"
            text-anchor="middle" fill="#111" stroke="#fff" stroke-width="3" paint-order="stroke"
            style="pointer-events:none">{{ paths[i].label }}</text>
      <rect :x="inset.x" :y="inset.y" :width="inset.w" :height="inset.h" fill="none" stroke="#333"
            stroke-width="1.5" style="pointer-events:none"/>
      <text :x="inset.x + 4" :y="inset.y + inset.h + 20" font-size="17" fill="#333"
            style="pointer-events:none">中心城区（放大）central urban, enlarged</text>
    </g>
  </svg>
</template>
""").tag(sync=True)
    paths = traitlets.List().tag(sync=True)
    inset = traitlets.Dict(dict(members=[], others=[])).tag(sync=True)
    viewbox = traitlets.Unicode("0 0 1000 1000").tag(sync=True)
    fills = traitlets.List().tag(sync=True)
    tips = traitlets.List().tag(sync=True)
    links = traitlets.List().tag(sync=True)
    show_links = traitlets.Bool(True).tag(sync=True)
    selected = traitlets.Unicode("").tag(sync=True)


@solara.component
def DistrictMap(model: AppModel, selected: solara.Reactive[str], tick: int = 0):
    indicator, set_indicator = solara.use_state("tech_per_10k")
    show_links, set_show_links = solara.use_state(True)
    paths, _, viewbox = map_geometry()
    fills, tips, links = map_layers(model, indicator)
    with solara.Card("区县地图与协作网络 Map of the 38 districts and the collaboration network"):
        with solara.Row(style="flex-wrap: wrap"):      # the checkbox goes under the picker in a narrow card
            key_of = {label: key for key, label in MAP_INDICATORS.items()}
            solara.Select("着色指标 Colour by", value=MAP_INDICATORS[indicator], values=list(key_of),
                          on_value=lambda label: set_indicator(key_of[label]), dense=True, style="max-width: 460px")
            solara.Checkbox(label="协作网络 Network links", value=show_links, on_value=set_show_links)
        DistrictMapWidget.element(paths=paths, inset=map_inset(), viewbox=viewbox, fills=fills, tips=tips, links=links,
                                  show_links=show_links, selected=selected.value, on_selected=selected.set)
        solara.HTML(unsafe_innerHTML=legend_svg(indicator, model.map_reference[indicator]))
        solara.Text(f"线宽 = 协作强度 link width = collaboration strength (firm and university links "
                    f"between districts; the {TOP_LINKS} strongest pairs); 紫色虚线 dashed purple = "
                    f"对口协同 paired-assistance pairs (while that lever is on). Hover a district for its figures, "
                    f"click it for details.",
                    style="font-size: 12px; color: #555")
