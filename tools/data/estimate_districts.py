"""Reproducible estimation of the district indicator table and the paired-assistance proxies.

Run from the repository root:  python tools/data/estimate_districts.py
Reads sim/data/districts.csv and sim/data/universities.csv, writes
sim/data/district_indicators.csv and sim/data/paired_assistance.csv.
Only the standard library is used. Every verified input below carries its source; every
estimated output row carries the method in its ``source`` column. Methods are summarised in
sim/data/README.md.
"""
from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "sim" / "data"
NOTES = "shared research notes (districts_first_pass.md / districts_second_pass.md)"

# ---------------------------------------------------------------- verified inputs
# 2020 census resident population (persons). status: verified unless noted.
POP_SRC = "7th census 2020 (smilingsouls.net/zh/population_313235; district census bulletins)"
POP2020 = {
    "500101": 1564449, "500102": 1115016, "500103": 588717, "500104": 421904, "500105": 925800,
    "500106": 1477345, "500107": 1526821, "500108": 1197639, "500109": 834887, "500110": 1011334,
    "500111": 834592, "500112": 2191493, "500113": 1178856, "500114": 487281, "500115": 692960,
    "500116": 1359611, "500117": 1245294, "500118": 1148896, "500119": 572362, "500120": 756022,
    "500151": 685729, "500152": 688115, "500153": 668977, "500154": 1203306, "500155": 645315,
    "500156": 356748, "500229": 197497, "500237": 462462, "500238": 388685, "500240": 389001,
    "500241": 496194, "500242": 607338, "500243": 530599,
}
POP_NOTE = {
    "500106": ("verified", POP_SRC + "; 1,477,345 preferred over a 1,447,345 typo (checked against the +47.73万 change since 2010)"),
    "500229": ("verified", "7th census, secondary source (factpedia.org 求真百科 城口)"),
    "500237": ("verified", "7th census, secondary source (95408.com/baike/218858.html)"),
    "500238": ("verified", "7th census, secondary source (Wikipedia mirror 巫溪县)"),
    "500240": ("verified", "7th census, secondary source (pediainside.com 石柱)"),
    "500241": ("verified", "秀山县第七次全国人口普查主要数据公报 2021-07-07 (weimomishe.com mirror)"),
    "500242": ("derived", "sum of the age groups in 酉阳县七普公报 (144,660 + 337,493 + 125,185; szb.yyxww.net 2021-06-16)"),
    "500243": ("verified", "7th census, secondary source (Wikipedia mirror 彭水)"),
}
MISSING5_SUM = 3602914  # D: city census 32,054,159 minus the 33 known values
# Proxies (non-census years) for the five missing counties, in persons; 奉节 has none.
MISSING5_PROXY = {"500230": (592700, "year-end 2019 resident 59.27万 (hongheiku.com/xianjirank/3208.html)"),
                  "500231": (649900, "2021 resident 64.99万 (factpedia 垫江)"),
                  "500233": (721000, "'约72.1万' resident, year unstated (tcmap.com.cn)"),
                  "500235": (913100, "2023 resident 91.31万 (maigoo 2023 list)")}
FENGJIE = "500236"

# 2022 GDP (100m yuan), verified: maigoo.com/news/661116.html table + county 2022 bulletins.
GDP_SRC = "2022 区县 GDP table (maigoo.com/news/661116.html; 市统计局 release 2023-02-08)"
GDP2022 = {
    "500112": 2297.11, "500107": 1763.94, "500103": 1602.76, "500105": 1560.91, "500102": 1504.37,
    "500116": 1330.02, "500118": 1202.84, "500101": 1118.43, "500106": 1106.73, "500117": 1021.99,
    "500113": 1000.28, "500108": 922.13, "500120": 920.95, "500115": 918.63, "500153": 817.30,
    "500111": 817.21, "500110": 770.79, "500109": 742.01, "500151": 733.63, "500154": 662.03,
    "500155": 577.16, "500152": 558.51, "500241": 358.21, "500242": 231.66, "500240": 209.07,
}
GDP_NOTE = {"500241": "秀山 2022 statistical bulletin (cqxs.gov.cn 2023-03-31)",
            "500242": "酉阳 2022 statistical bulletin (bx2200.com/tjgongbao/xn/6853.html, 2023-04-17)",
            "500240": "石柱 2022 statistical bulletin (cqszx.gov.cn 2023-03-28)",
            "500102": "涪陵 2022 statistical bulletin; same value in " + GDP_SRC}
GDP2020 = {  # verified 2020 GDP (same maigoo table, 2020 column; county bulletins)
    "500112": 2002.34, "500107": 1533.16, "500103": 1357.60, "500105": 1325.40, "500102": 1221.01,
    "500116": 1114.23, "500118": 1012.35, "500101": 970.68, "500106": 1013.90, "500117": 940.82,
    "500113": 865.50, "500108": 813.25, "500120": 747.10, "500115": 741.08, "500153": 716.32,
    "500111": 700.54, "500110": 714.27, "500109": 641.59, "500151": 629.99, "500154": 530.94,
    "500155": 493.24, "500152": 476.78, "500240": 171.05, "500156": 224.21, "500235": 462.59,
    "500229": 55.20,
}
GDP2020_NOTE = {"500240": "pediainside.com 石柱 (2020)", "500156": "武隆 2020 statistical bulletin (cqwl.gov.cn)",
                "500235": "云阳 2020 statistical bulletin (tjgb.hongheiku.com/718.html)", "500229": "factpedia 城口 (2020)"}
# partial anchors for the 13 區县 without a 2022 figure
GDP_ANCHOR_2021 = {"500104": (310.4, "2021 GDP 310.4 (m.personalh.cn)"),
                   "500231": (502.6, "2021 GDP 502.6 (factpedia 垫江)")}
GDP_ANCHOR_H1 = {"500114": (125.65, "2022 H1 GDP 125.65 (qianjiang.gov.cn 2022-08)")}
CITY_GDP = {2020: 25003.0, 2021: 27900.0, 2022: 29129.03}

# city totals (city_history.csv)
TECH = {2017: 6725, 2022: 42989}
HIGH = {2017: 2027, 2022: 6348}
RD2022, RD2020 = 686.6, 526.79
RD2020_BLOCK = {"metropolitan": 495.54, "northeast": 26.35, "southeast": 4.9}
CENTRAL_SHARE_2022 = 0.612
FISCAL_ST_2022 = 98.9
SECONDARY_VA_2022 = 11693.86
METRO_SHARE_NEW_TECH = 0.9209  # Q1-2021 new 科技型企业 in 主城都市区 (most.gov.cn 2021-04-30)
# district R&D anchors
RD_INTENSITY_2020 = {"500102": (0.024, "涪陵 R&D/GDP 2.4% in 2020 (fl.gov.cn 科技创新十四五规划 2021-12-29)"),
                     "500104": (0.0398, "大渡口 R&D/GDP 3.98% at end of 13th FYP (ddk.gov.cn 十四五科技规划)")}
FENGJIE_RD = {2018: 1.19542, 2021: 2.7010}  # 亿元 (cq.cri.cn 2022-08-31)
# City stocks the districts' own earlier figures are carried forward with (city_history.csv).
CITY_HIGH = {2020: 4222, 2021: 5108, 2022: 6348}
CITY_TECH = {"2021Q1": 27509, 2021: 36939, 2022: 42989}
DISTRICT_OWN = "the district's own publication (docs/research/district_search_2022/district_reported*.csv)"
# 2022 district figures from the districts' own publications, or their latest earlier figure carried
# to end-2022 with the city's growth of the same stock: adcode -> (value, status, source).
HIGH_2022_ANCHORS = {
    "500112": (round(796 * CITY_HIGH[2022] / CITY_HIGH[2021]), "derived",
               "渝北 '高新技术企业达到796家' (~2021, 渝北区基本情况 区情介绍) x city growth 2021-22 (6348/5108); " + DISTRICT_OWN),
    "500107": (round(432 * CITY_HIGH[2022] / CITY_HIGH[2020]), "derived",
               "九龙坡 '2020年……高新技术企业432家' (九龙融媒, 十四五 S&T plan, 2022) x city growth 2020-22 (6348/4222); " + DISTRICT_OWN),
    "500120": (round(301 * (CITY_HIGH[2022] / CITY_HIGH[2021]) ** 0.5), "derived",
               "璧山 '高新技术企业301家' (c. mid-2022, jjftw.com/xinwen/61229.html) x half a year of city growth (6348/5108)^0.5; " + DISTRICT_OWN),
    "500236": (round(19 * CITY_HIGH[2022] / CITY_HIGH[2021]), "derived",
               "奉节 '高新技术企业增加到19家' (end of construction 2018-21, cq.cri.cn 2022-08-31) x city growth 2021-22 (6348/5108); " + DISTRICT_OWN),
}
TECH_2022_ANCHORS = {
    "500112": (round(4545 * CITY_TECH[2022] / CITY_TECH[2021]), "derived",
               "渝北 '科技型企业达到4545家' (~2021, 渝北区基本情况) x city growth 2021-22 (42989/36939); " + DISTRICT_OWN),
    "500113": (round(3715 * CITY_TECH[2022] / CITY_TECH[2021]), "derived",
               "巴南 '科技型企业3715家' (Dec 2021, 重庆日报 2021-12-31) x city growth 2021-22 (42989/36939); " + DISTRICT_OWN),
    "500105": (round(1311 * CITY_TECH[2022] / CITY_TECH["2021Q1"]), "derived",
               "江北 '全区科技型企业总量目前已达1311家' (Q1-2021, 重庆科技报 2021-06-08) x city growth Q1-2021 to end-2022 (42989/27509); " + DISTRICT_OWN),
}
SHAPINGBA, YUBEI = "500106", "500112"
RD_2022_ANCHORS = {   # share of 2022 GDP
    SHAPINGBA: (0.0444, "derived", "沙坪坝 '截至2022年底……研发经费投入强度达4.44%' (cqspb.gov.cn/zjsq/kjcx/) x its 2022 GDP; " + DISTRICT_OWN),
    YUBEI: (0.044, "derived", "渝北 '全社会研发经费投入强度达4.4%' (~2021, 渝北区基本情况) held in 2022 x its 2022 GDP (its own '2022年度研发投入报统 175.53亿元' is left out: "
                      "7.6 % of GDP, coverage unclear); " + DISTRICT_OWN),
}
SECONDARY_VA_VERIFIED = {"500102": (869.96, "涪陵 2022 bulletin"), "500240": (59.44, "石柱 2022 bulletin (cqszx.gov.cn)"),
                         "500241": (110.04, "秀山 2022 bulletin (cqxs.gov.cn)"), "500242": (33.80, "酉阳 2022 bulletin (bx2200.com)")}
SECONDARY_SHARE_PRIOR = {"central_urban": (0.401, "city 2022 secondary share 40.1%"),
                         "new_metropolitan": (0.578, "涪陵 2022 secondary share 57.8%"),
                         "northeast": (0.401, "city 2022 secondary share 40.1%"),
                         "southeast": (0.2457, "mean of 石柱 28.4%, 秀山 30.7%, 酉阳 14.6% (2022)")}
# tier factors: tier-1/tier-2 ratio from the two published intensities (3.98% / 2.4%);
# tier-3 factor 0.5 is an assumption. Firm counts use the square root (less concentrated).
TIER_F = {1: 0.0398 / 0.024, 2: 1.0, 3: 0.5}
TIER_F_FIRMS = {k: v ** 0.5 for k, v in TIER_F.items()}
# tier (2022 innovation index) and its status come from districts_reference (verified/derived)
TIER1 = {"500109", "500112", "500107", "500105", "500108", "500104", "500120", "500113", "500153", "500106"}
TIER3 = {"500235", "500156", "500230", "500243", "500242", "500229", "500237"}
TIER_SRC = "重庆科技创新指数报告2023 (2022 data), 科技日报 2023-12-21 (te-ch.tech/news/show-323196.html)"


def largest_remainder(weights: dict[str, float], total: int) -> dict[str, int]:
    s = sum(weights.values())
    raw = {k: total * w / s for k, w in weights.items()}
    out = {k: int(v) for k, v in raw.items()}
    rest = total - sum(out.values())
    for k in sorted(raw, key=lambda k: (raw[k] - out[k]), reverse=True)[:rest]:
        out[k] += 1
    return out


def split(weights: dict[str, float], total: float) -> dict[str, float]:
    s = sum(weights.values())
    return {k: total * w / s for k, w in weights.items()}


def main() -> None:
    with open(DATA / "districts.csv", encoding="utf-8") as fh:
        dist = list(csv.DictReader(fh))
    codes = [d["adcode"] for d in dist]
    group = {d["adcode"]: d["group"] for d in dist}
    name = {d["adcode"]: d["short_zh"] for d in dist}
    tier = {c: 1 if c in TIER1 else 3 if c in TIER3 else 2 for c in codes}
    rows: list[list] = []

    def add(c, ind, year, val, unit, status, src):
        rows.append([c, ind, year, val, unit, status, src])

    # --- population 2020
    pop = dict(POP2020)
    proxy_sum = sum(v for v, _ in MISSING5_PROXY.values())
    for c, (v, _) in MISSING5_PROXY.items():
        pop[c] = v
    pop[FENGJIE] = MISSING5_SUM - proxy_sum
    for c in codes:
        if c in MISSING5_PROXY:
            st, src = "estimated", (f"proxy {MISSING5_PROXY[c][1]}; the five counties missing from the census "
                                    f"list sum to {MISSING5_SUM:,} (city census total minus the 33 known values)")
        elif c == FENGJIE:
            st, src = "estimated", (f"remainder: {MISSING5_SUM:,} minus the proxies used for 丰都, 垫江, 忠县, 云阳 "
                                    "(no population figure found for 奉节)")
        else:
            st, src = POP_NOTE.get(c, ("verified", POP_SRC))
        add(c, "population", 2020, pop[c], "persons", st, src)

    # --- GDP 2022 (verified or estimated) and 2020
    g22, g22_src = {}, {}
    for c in codes:
        if c in GDP2022:
            g22[c] = GDP2022[c]; g22_src[c] = ("verified", GDP_NOTE.get(c, GDP_SRC))
    growth_21_22 = CITY_GDP[2022] / CITY_GDP[2021]
    growth_20_22 = CITY_GDP[2022] / CITY_GDP[2020]
    for c, (v, s) in GDP_ANCHOR_2021.items():
        g22[c] = v * growth_21_22
        g22_src[c] = ("estimated", f"{s} x city nominal growth 2021-22 ({growth_21_22:.4f})")
    for c, (v, s) in GDP_ANCHOR_H1.items():
        g22[c] = 2 * v
        g22_src[c] = ("estimated", f"{s} x 2 (second half assumed equal to the first)")
    for c in codes:
        if c not in g22 and c in GDP2020:
            g22[c] = GDP2020[c] * growth_20_22
            g22_src[c] = ("estimated", f"2020 GDP {GDP2020[c]} ({GDP2020_NOTE.get(c, GDP_SRC)}) x city nominal growth 2020-22 ({growth_20_22:.4f})")
    # remaining: population x median per-capita GDP of same-group units with a verified/anchored GDP
    pc = defaultdict(list)
    for c in codes:
        if c in g22 and c in POP2020:
            pc[group[c]].append(g22[c] * 1e8 / POP2020[c])
    for c in codes:
        if c not in g22:
            vals = sorted(pc[group[c]])
            med = vals[len(vals) // 2] if len(vals) % 2 else 0.5 * (vals[len(vals) // 2 - 1] + vals[len(vals) // 2])
            g22[c] = pop[c] * med / 1e8
            g22_src[c] = ("estimated", f"2020 population x median 2022 per-capita GDP ({med:,.0f} yuan) of the {len(vals)} "
                                       f"{group[c]} units with a verified or anchored GDP")
    # calibrate the per-capita-based estimates so that all 13 estimates sum to the residual
    # city GDP - 25 verified values (an upper bound: it also covers 万盛经开区 if 綦江 excludes it)
    residual = CITY_GDP[2022] - sum(GDP2022.values())
    percap = [c for c in codes if g22_src[c][1].startswith("2020 population x median")]
    anchored = [c for c in codes if g22_src[c][0] == "estimated" and c not in percap]
    k = (residual - sum(g22[c] for c in anchored)) / sum(g22[c] for c in percap)
    for c in percap:
        g22[c] *= k
        g22_src[c] = ("estimated", g22_src[c][1] + f", scaled by {k:.4f} so that the 13 estimated GDPs sum to the residual "
                      f"{residual:.2f} (city 29129.03 minus the 25 verified values)")
    for c in codes:
        add(c, "gdp", 2022, round(g22[c], 2), "100m_yuan", *g22_src[c])
    g20 = {}
    for c in codes:
        if c in GDP2020:
            g20[c] = GDP2020[c]
            add(c, "gdp", 2020, GDP2020[c], "100m_yuan", "verified", GDP2020_NOTE.get(c, GDP_SRC + " (2020 column)"))
        else:
            g20[c] = g22[c] / growth_20_22
            add(c, "gdp", 2020, round(g20[c], 2), "100m_yuan", "estimated",
                f"2022 GDP ({g22_src[c][0]}) / city nominal growth 2020-22 ({growth_20_22:.4f})")

    # --- innovation tier
    for c in codes:
        st = "verified" if (c in TIER1 or c in TIER3) else "derived"
        src = TIER_SRC + ("" if st == "verified" else "; tier 2 = complement of the published tier-1 (10) and tier-3 (7) lists")
        add(c, "innovation_tier", 2022, tier[c], "tier", st, src)

    # --- R&D 2020: blocks from the 2020 S&T input bulletin, anchors pinned, rest by GDP x tier factor
    metro = [c for c in codes if group[c] in ("central_urban", "new_metropolitan")]
    ne = [c for c in codes if group[c] == "northeast"]
    se = [c for c in codes if group[c] == "southeast"]
    rd20, rd20_src = {}, {}
    for c, (inten, s) in RD_INTENSITY_2020.items():
        rd20[c] = inten * g20[c]
        st = "derived" if c in GDP2020 else "estimated"
        rd20_src[c] = (st, f"{s} x 2020 GDP ({'verified' if c in GDP2020 else 'estimated'})")
    fj20 = FENGJIE_RD[2018] * (FENGJIE_RD[2021] / FENGJIE_RD[2018]) ** (2 / 3)
    rd20[FENGJIE] = fj20
    rd20_src[FENGJIE] = ("estimated", "奉节 R&D 1.195亿 (2018) and 2.701亿 (2021) published (cq.cri.cn 2022-08-31); 2020 by geometric interpolation")
    TIER_TXT = (f"GDP x tier factor (tier1 {TIER_F[1]:.3f} = 3.98%/2.4% published intensities of 大渡口/涪陵, tier2 1, tier3 0.5 assumed)")
    for block, members in (("metropolitan", metro), ("northeast", ne), ("southeast", se)):
        free = [c for c in members if c not in rd20]
        rest = RD2020_BLOCK[block] - sum(rd20[c] for c in members if c in rd20)
        for c, v in split({c: g20[c] * TIER_F[tier[c]] for c in free}, rest).items():
            rd20[c] = v
            rd20_src[c] = ("estimated", f"2020 {block} R&D total {RD2020_BLOCK[block]} (2020 S&T input bulletin) minus pinned anchors, split by 2020 {TIER_TXT}")
    for c in codes:
        add(c, "rd_expenditure", 2020, round(rd20[c], 4), "100m_yuan", *rd20_src[c])

    # --- R&D 2022
    central = [c for c in codes if group[c] == "central_urban"]
    newm = [c for c in codes if group[c] == "new_metropolitan"]
    b22 = {"central_urban": RD2022 * CENTRAL_SHARE_2022,
           "northeast": RD2022 * RD2020_BLOCK["northeast"] / RD2020,
           "southeast": RD2022 * RD2020_BLOCK["southeast"] / RD2020}
    b22["new_metropolitan"] = RD2022 - sum(b22.values())
    rd22, rd22_src = {}, {}
    rd22[FENGJIE] = FENGJIE_RD[2021] * RD2022 / 603.8
    rd22_src[FENGJIE] = ("estimated", "奉节 2021 R&D 2.701亿 (cq.cri.cn 2022-08-31) x city R&D growth 2021-22 (686.6/603.8)")
    for c, (share, st, src) in RD_2022_ANCHORS.items():
        rd22[c], rd22_src[c] = share * g22[c], (st, src)
    block_txt = {"central_urban": "61.2% of 686.6 (指数报告2023: 中心城区 share)",
                 "new_metropolitan": "686.6 minus the other three blocks",
                 "northeast": "2020 cluster share of city R&D (26.35/526.79) held in 2022",
                 "southeast": "2020 cluster share of city R&D (4.9/526.79) held in 2022"}
    for blk, members in (("central_urban", central), ("new_metropolitan", newm), ("northeast", ne), ("southeast", se)):
        free = [c for c in members if c not in rd22]
        rest = b22[blk] - sum(rd22[c] for c in members if c in rd22)
        for c, v in split({c: g22[c] * TIER_F[tier[c]] for c in free}, rest).items():
            rd22[c] = v
            rd22_src[c] = ("estimated", f"block {blk} = {b22[blk]:.3f} ({block_txt[blk]}), split by 2022 {TIER_TXT}")
    for c in codes:
        add(c, "rd_expenditure", 2022, round(rd22[c], 4), "100m_yuan", *rd22_src[c])

    # --- firm stocks
    def firm_weights():
        w = {}
        metro_w = {c: g22[c] * TIER_F_FIRMS[tier[c]] for c in metro}
        clus_w = {c: g22[c] * TIER_F_FIRMS[tier[c]] for c in ne + se}
        for c, v in split(metro_w, METRO_SHARE_NEW_TECH).items(): w[c] = v
        for c, v in split(clus_w, 1 - METRO_SHARE_NEW_TECH).items(): w[c] = v
        return w
    tw = firm_weights()
    hw = {c: rd22[c] for c in codes}
    TW_TXT = ("largest-remainder split of the city total: 92.09% to the 21 主城都市区 districts (their share of new 科技型企业 in Q1-2021, "
              "most.gov.cn 2021-04-30), within each part by 2022 GDP x sqrt(tier factor)")
    HW_TXT = "largest-remainder split of the city total in proportion to the estimated 2022 R&D expenditure"
    def anchored(weights, total, anchors):
        free = {c: w for c, w in weights.items() if c not in anchors}
        out = largest_remainder(free, total - sum(v for v, _, _ in anchors.values()))
        out.update({c: v for c, (v, _, _) in anchors.items()})
        return out
    shares = {}
    for year in (2022, 2017):
        if year == 2022:
            t = anchored(tw, TECH[year], TECH_2022_ANCHORS)
            h = anchored(hw, HIGH[year], HIGH_2022_ANCHORS)
            shares = {"t": dict(t), "h": dict(h)}
        else:   # the 2022 split, anchors included, applied to the 2017 total
            t = largest_remainder(shares["t"], TECH[year])
            h = largest_remainder(shares["h"], HIGH[year])
        # keep high-tech <= tech-based per district (move the excess to the largest slack)
        for c in codes:
            while h[c] > t[c]:
                h[c] -= 1
                best = max(codes, key=lambda k: (t[k] - h[k]) * (hw[k] > 0))
                h[best] += 1
        extra = "" if year == 2022 else " (the 2022 split, anchored districts included, applied to the 2017 total)"
        for c in codes:
            if year == 2022 and c in TECH_2022_ANCHORS:
                add(c, "tech_enterprises", year, t[c], "firms", *TECH_2022_ANCHORS[c][1:])
            else:
                add(c, "tech_enterprises", year, t[c], "firms", "estimated", f"city total {TECH[year]} (city_history.csv); "
                    f"{TW_TXT}{' of what the anchored districts leave' if year == 2022 else extra}")
            if year == 2022 and c in HIGH_2022_ANCHORS:
                add(c, "high_tech_enterprises", year, h[c], "firms", *HIGH_2022_ANCHORS[c][1:])
            else:
                add(c, "high_tech_enterprises", year, h[c], "firms", "estimated", f"city total {HIGH[year]} (city_history.csv); "
                    f"{HW_TXT}{' of what the anchored districts leave' if year == 2022 else extra}")

    # --- fiscal S&T spending 2022
    gs = split(g22, 0.5); rs = split(rd22, 0.5)
    fw = {c: gs[c] + rs[c] for c in codes}
    for c, v in split(fw, FISCAL_ST_2022).items():
        add(c, "fiscal_st_spending", 2022, round(v, 4), "100m_yuan", "estimated",
            "city local fiscal S&T spending 98.9 (2022; includes municipal-level spending) split by 0.5 x GDP share + 0.5 x estimated R&D share")

    # --- industrial output proxy: secondary-industry value added 2022
    iv, isrc = {}, {}
    for c, (v, s) in SECONDARY_VA_VERIFIED.items():
        iv[c] = v; isrc[c] = ("verified", f"第二产业增加值 2022, {s}")
    free = [c for c in codes if c not in iv]
    rest = SECONDARY_VA_2022 - sum(iv.values())
    for c, v in split({c: g22[c] * SECONDARY_SHARE_PRIOR[group[c]][0] for c in free}, rest).items():
        iv[c] = v
        isrc[c] = ("estimated", f"city 第二产业增加值 11693.86 (2022 bulletin) minus verified districts, split by 2022 GDP x group secondary share "
                                f"({SECONDARY_SHARE_PRIOR[group[c]][1]})")
    for c in codes:
        add(c, "industrial_output", 2022, round(iv[c], 2), "100m_yuan", *isrc[c])

    # --- universities / institutes
    with open(DATA / "universities.csv", encoding="utf-8") as fh:
        uni = list(csv.DictReader(fh))
    nu, ni = defaultdict(int), defaultdict(int)
    for r in uni:
        if r["kind"] == "university":
            nu[r["adcode"]] += 1
        elif r["year_opened"] and int(r["year_opened"]) <= 2022:
            ni[r["adcode"]] += 1
    for c in codes:
        add(c, "n_universities", 2022, nu[c], "count", "derived",
            "count of kind=university rows in universities.csv (campus district; lower bound: 7 newer institutions not located)")
        add(c, "n_institutes", 2022, ni[c], "count", "derived",
            "count of institute/lab rows in universities.csv opened by 2022 (lower bound: only institutes named in the sources are listed)")

    with open(DATA / "district_indicators.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["adcode", "indicator", "year", "value", "unit", "status", "source"])
        w.writerows(rows)

    # ------------------------------------------------------------ paired assistance
    HOST = {"两江新区": ("500112", "functional zone; 直管区 mainly in 渝北 (also 江北, 北碚)"),
            "重庆高新区": ("500106", "functional zone; 直管园 centred on 西永/虎溪 in 沙坪坝 (also 九龙坡)"),
            "万盛经开区": ("500110", "functional zone inside 綦江")}
    VER = [("两江新区", "500101", "first 对口协同 joint meeting 2021-01-11 (wz.gov.cn 2022-01-28; cq.news.cn 2022-01-26)"),
           ("渝中区", "500238", "渝中区·巫溪县对口协同发展座谈会 2023-01-10 (cqwx.gov.cn)"),
           ("北碚区", "500237", "北碚区·巫山县对口协同发展工作座谈会 2025-05-21 (cqws.gov.cn)"),
           ("江北区", "500242", "'自建立对口协同发展机制以来, 江北…' (chujupifa.com)"),
           ("大足区", "500233", "'本轮对口协同结对关系' (dazu.cbg.cn/show/6852-1466031.html)"),
           ("大渡口区", "500233", "忠县党政代表团到大渡口区开展'一区两群'对口协同发展考察调研 (repost, URL not kept)"),
           ("永川区", "500243", "永川区·彭水自治县2024年对口协同发展党政联席会 2024-12-27 (wxredian.com)"),
           ("涪陵区", "500156", "对口帮扶联席会 in the 一区两群 context, c. 2020 (web.chinamshare.com)")]
    WEAK = [("合川区", "500241", "proxy with weak evidence: 对口帮扶 since 2018 (zgcqxs.net), not confirmed as a 对口协同 pair"),
            ("南川区", "500243", "proxy with weak evidence: 2024-07-11 党政代表团 visit (m.163.com), not called 对口协同")]
    code_of = {d["name_zh"]: d["adcode"] for d in dist}
    pairs = []
    def unit_code(u):
        return HOST[u][0] if u in HOST else code_of[u]
    for u, cty, s in VER:
        pairs.append([u, unit_code(u), cty, "verified", s + (f" [{HOST[u][1]}]" if u in HOST else "")])
    for u, cty, s in WEAK:
        pairs.append([u, unit_code(u), cty, "proxy", s])
    used = {p[0] for p in pairs}
    partners = [d["name_zh"] for d in dist if d["group"] in ("central_urban", "new_metropolitan")] + list(HOST)
    free_p = [p for p in partners if p not in used]
    free_p.sort(key=lambda p: (p in HOST, -g22[unit_code(p)] if p not in HOST else 0))
    counties = [c for c in codes if group[c] in ("northeast", "southeast")]
    n_part = defaultdict(int)
    for p in pairs:
        n_part[p[2]] += 1
    RULE = ("proxy rule: counties without a found partner, weakest first (2020 population ascending), take the remaining "
            "metropolitan partners strongest first (2022 GDP descending; functional zones last); leftover partners become "
            "second partners of single-partner counties in the same order")
    order = sorted([c for c in counties if n_part[c] == 0], key=lambda c: pop[c])
    for c in order:
        u = free_p.pop(0)
        pairs.append([u, unit_code(u), c, "proxy", RULE + (f" [{HOST[u][1]}]" if u in HOST else "")]); n_part[c] += 1
    order2 = sorted([c for c in counties if n_part[c] == 1], key=lambda c: pop[c])
    for c in order2:
        if not free_p:
            break
        u = free_p.pop(0)
        pairs.append([u, unit_code(u), c, "proxy", RULE + (f" [{HOST[u][1]}]" if u in HOST else "")]); n_part[c] += 1
    with open(DATA / "paired_assistance.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["partner_unit", "partner_adcode", "county_adcode", "status", "source_or_method"])
        w.writerows(pairs)

    # ------------------------------------------------------------ report
    est13 = [c for c in codes if g22_src[c][0] == "estimated"]
    print("GDP estimates:", {name[c]: round(g22[c], 1) for c in est13})
    print(f"sum of 13 estimated GDPs {sum(g22[c] for c in est13):.1f} vs residual 4380.36 (includes 万盛经开区)")
    print("population 奉节 remainder", pop[FENGJIE])
    print("RD2022 central intensity", round(sum(rd22[c] for c in central) / sum(g22[c] for c in central) * 100, 2), "% (published 3.70)")
    print("pairs", len(pairs), "counties covered", len({p[2] for p in pairs}))


if __name__ == "__main__":
    main()
