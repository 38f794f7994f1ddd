"""The app's district map: the 38 shapes projected once, their colours, tooltips and the
collaboration links of the current step, the legend, and the map widget.

The map is a Vue template so that a click on a district reaches Python; its shapes are sent once
per page, only colours, tooltips and links travel with each step.
"""

from __future__ import annotations

import math
from functools import lru_cache

import ipyvuetify as v
import numpy as np
import solara
import traitlets
from matplotlib import colormaps
from matplotlib.colors import to_hex

from . import datasets
from .app_model import MAP_INDICATORS, AppModel, _fmt
from .programmes.evaluation import TIER_COLOURS, TIER_NAMES

TOP_LINKS = 120       # strongest district pairs drawn; paired-assistance pairs are always drawn

GROUPS = {"central_urban": "中心城区 Central urban", "new_metropolitan": "主城新区 New metropolitan",
          "northeast": "渝东北三峡库区城镇群 Northeast (Three Gorges) cluster",
          "southeast": "渝东南武陵山区城镇群 Southeast (Wuling) cluster"}
PALETTE = [to_hex(c) for c in colormaps["YlGnBu"](np.linspace(0.08, 0.95, 64))]


# Projected once; shapes simplified to what a 1000-px drawing shows.
@lru_cache(maxsize=1)
def map_geometry():
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
    paths, centres = [], {}
    for row in dd.itertuples(index=False):
        code = str(row.adcode)
        f = by_code[code]
        parts = []
        for poly in _polygons(f["geometry"]):
            for ring in poly:
                pts = [project(*p) for p in ring]
                kept = [pts[0]]
                for p in pts[1:]:
                    if abs(p[0] - kept[-1][0]) + abs(p[1] - kept[-1][1]) >= 1.5:
                        kept.append(p)
                if len(kept) >= 3:
                    parts.append("M" + "L".join(f"{x:g},{y:g}" for x, y in kept) + "Z")
        lx, ly = project(f["properties"]["rep_lon"], f["properties"]["rep_lat"])
        paths.append(dict(code=code, d="".join(parts), x=lx, y=ly + 4, label=row.short_zh))
        centres[code] = project(row.lon, row.lat)
    width = round((max(lons) - min(lons)) * math.cos(lat0) * k + 10)
    height = round((lat_max - min(lats)) * k + 10)
    return paths, centres, f"0 0 {width} {height}"


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


def legend_svg(indicator: str, reference: float) -> str:
    if indicator == "tier":
        items = "".join(f'<rect x="{x}" y="4" width="12" height="12" fill="{TIER_COLOURS[t]}"/>'
                        f'<text x="{x + 16}" y="14">{TIER_NAMES[t]}</text>' for x, t in zip((4, 220, 480), (1, 2, 3)))
        return (f'<svg viewBox="0 0 660 20" width="100%" font-size="11" font-family="sans-serif">'
                f'<rect width="660" height="20" fill="#fff"/>{items}</svg>')
    stops = "".join(f'<stop offset="{i / (len(PALETTE) - 1):.3f}" stop-color="{c}"/>' for i, c in enumerate(PALETTE[::8]))
    ticks = "".join(f'<text x="{10 + 300 * math.sqrt(f)}" y="30" text-anchor="middle">{_fmt(reference * f)}</text>'
                    for f in (0, 0.1, 0.25, 0.5, 1.0))
    return (f'<svg viewBox="0 0 360 34" width="360" font-size="10" font-family="sans-serif">'
            f'<rect width="360" height="34" fill="#fff"/><defs><linearGradient id="g-{indicator}">{stops}</linearGradient></defs>'
            f'<rect x="10" y="2" width="300" height="14" fill="url(#g-{indicator})"/>{ticks}</svg>')


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
    <text v-for="p in paths" :key="'t' + p.code" :x="p.x" :y="p.y" font-size="19" text-anchor="middle"
          fill="#111" stroke="#fff" stroke-width="3" paint-order="stroke"
          style="pointer-events:none">{{ p.label }}</text>
  </svg>
</template>
""").tag(sync=True)
    paths = traitlets.List().tag(sync=True)
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
        with solara.Row():
            key_of = {label: key for key, label in MAP_INDICATORS.items()}
            solara.Select("着色指标 Colour by", value=MAP_INDICATORS[indicator], values=list(key_of),
                          on_value=lambda label: set_indicator(key_of[label]), dense=True, style="max-width: 460px")
            solara.Checkbox(label="协作网络 Network links", value=show_links, on_value=set_show_links)
        DistrictMapWidget.element(paths=paths, viewbox=viewbox, fills=fills, tips=tips, links=links,
                                  show_links=show_links, selected=selected.value, on_selected=selected.set)
        solara.HTML(unsafe_innerHTML=legend_svg(indicator, model.map_reference[indicator]))
        solara.Text(f"线宽 = 协作强度 link width = collaboration strength (firm and university links "
                    f"between districts; the {TOP_LINKS} strongest pairs); 紫色虚线 dashed purple = "
                    f"对口协同 paired-assistance pairs (while that lever is on). Hover a district for its figures, "
                    f"click it for details.",
                    style="font-size: 12px; color: #555")
