"""The double-doubling plan's regions as first-class outputs: the districts each region holds, the
city reporters that sum them, the plan's regional 2027 goals in its target set, and their names,
units and place in the report's and the app's scoreboards."""

import re

import pandas as pd
import pytest

from sim.core.metrics import CITY_REPORTERS, REGIONAL_REPORTERS
from sim.data.identity import PLAN_REGIONS, REGIONS, district_identity
from sim.experiments.targets import (INDICATOR_NAMES, REGION_NAMES, REGIONAL_INDICATORS, load_target_sets, regional)

# 一区两群 as /work/shared/MISSION.md lists them (short names)
CENTRAL = set("渝中 大渡口 江北 沙坪坝 九龙坡 南岸 北碚 渝北 巴南".split())
NEW_METRO = set("涪陵 长寿 江津 合川 永川 南川 綦江 大足 璧山 铜梁 潼南 荣昌".split())
NORTHEAST = set("万州 开州 梁平 城口 丰都 垫江 忠县 云阳 奉节 巫山 巫溪".split())
SOUTHEAST = set("黔江 武隆 石柱 秀山 酉阳 彭水".split())
# The plan's 2027 goals (high-tech, tech-based), as data/policy_timeline.csv records them
PLAN_2027 = {"central": (7110, 46560), "new_metro": (4640, 29780), "clusters": (1060, 9720)}


def _members(region: str) -> set[str]:
    d = district_identity()
    return set(d.loc[d["group"].isin(REGIONS[region]), "short_zh"])


def test_the_plan_regions_hold_the_districts_the_mission_lists_and_cover_the_city_once():
    assert _members("central") == CENTRAL and _members("new_metro") == NEW_METRO
    assert _members("northeast") == NORTHEAST and _members("southeast") == SOUTHEAST
    assert _members("clusters") == NORTHEAST | SOUTHEAST
    plan = [_members(r) for r in PLAN_REGIONS]
    assert sum(map(len, plan)) == 38 and set().union(*plan) == set(district_identity()["short_zh"])


def test_every_region_has_its_three_reporters_named_in_both_languages():
    names = {f"{base}_{region}" for region in REGIONS for base in ("tech_enterprises", "high_tech_enterprises",
                                                                   "rd_expenditure")}
    assert set(REGIONAL_REPORTERS) == names == set(REGIONAL_INDICATORS) and names <= set(CITY_REPORTERS)
    assert regional("tech_enterprises_central") == ("tech_enterprises", "central")
    assert regional("rd_expenditure_northeast") == ("rd_expenditure", "northeast") and regional("tech_enterprises") is None
    assert INDICATOR_NAMES["tech_enterprises_central"] == ("中心城区科技型企业", "tech-based SMEs in the central urban districts")
    assert INDICATOR_NAMES["high_tech_enterprises_clusters"] == ("两群高新技术企业", "high-tech enterprises in the two clusters")
    from sim.report import numbers
    from sim.report.figures import FAN_INDICATORS, UNITS
    for k, (base, region) in REGIONAL_INDICATORS.items():
        assert REGION_NAMES[region][0] in FAN_INDICATORS[k] and UNITS[k] == UNITS[base]
        assert numbers.SHORT_NAMES[k][0].startswith(REGION_NAMES[region][0])
        assert numbers.is_count(indicator=k) == (base != "rd_expenditure")


def test_the_regional_reporters_sum_their_districts_and_the_plan_regions_add_up_to_the_city():
    from sim import InnovationModel
    model = InnovationModel(seed=3, scale=0.02)
    model.step()
    row = model.datacollector.get_model_vars_dataframe().iloc[-1]
    attr = {"tech_enterprises": "tech_enterprises", "high_tech_enterprises": "high_tech_enterprises", "rd_expenditure": "rd"}
    for k, (base, region) in REGIONAL_INDICATORS.items():
        assert row[k] == pytest.approx(sum(getattr(d, attr[base]) for d in model.district_list if d.group in REGIONS[region]))
    for base in attr:
        assert sum(row[f"{base}_{r}"] for r in PLAN_REGIONS) == pytest.approx(row[base])
        assert row[f"{base}_clusters"] == pytest.approx(row[f"{base}_northeast"] + row[f"{base}_southeast"])
    assert row["rd_expenditure_clusters"] == pytest.approx(row["clusters_rd_share"] / 100 * row["rd_expenditure"])
    model.release()


def test_the_2027_set_holds_the_plans_regional_goals_beside_the_city_goals():
    targets = load_target_sets()["double_doubling_2027"]
    by_indicator = {t.indicator: t for t in targets}
    assert by_indicator["high_tech_enterprises"].threshold == 12800 and by_indicator["tech_enterprises"].threshold == 86000
    for region, (ht, ts) in PLAN_2027.items():
        for base, goal in (("high_tech_enterprises", ht), ("tech_enterprises", ts)):
            t = by_indicator[f"{base}_{region}"]
            assert (t.threshold, t.year, t.unit) == (goal, 2027, "firms")
            assert REGION_NAMES[region][0] in t.description and t.id.startswith("DD27-")
    # the plan's split sums to its city goals, up to its rounding
    assert sum(ht for ht, _ in PLAN_2027.values()) == pytest.approx(12800, rel=1e-3)
    assert sum(ts for _, ts in PLAN_2027.values()) == pytest.approx(86000, rel=1e-3)
    assert len(targets) == 8 and len({t.id for t in targets}) == 8


def _summary(targets) -> pd.DataFrame:
    return pd.DataFrame([dict(target=t.id, description=t.description, threshold=t.threshold, year=t.year,
                              median=t.threshold - 0.5, p05=t.threshold / 2, p95=t.threshold * 2,
                              prob_met=0.25, year_first_met=float("nan")) for t in targets])


def test_the_reports_scoreboard_has_a_region_column_only_for_a_set_with_regional_goals():
    from sim.report.html import scoreboard_html
    dd = load_target_sets()["double_doubling_2027"]
    board = scoreboard_html(_summary(dd), dd)
    assert "<th class=l>region 区域</th>" in board
    row = re.search(r"<td class=l>DD27-TS-CENTRAL</td>.*?</tr>", board).group(0)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
    assert cells[1] == "中心城区 central" and cells[3] == "firms" and cells[4] == "46,560"
    assert cells[6] == "46,559.5" and cells[7] == "23,280 – 93,120" and cells[8] == "25%"
    assert "<td class=l>DD27-HT</td><td class=l>全市 city</td>" in board
    assert "<td class=l>DD27-HT-CLUSTERS</td><td class=l>两群 two clusters</td>" in board
    policy = load_target_sets()["policy_2025"]
    assert "region" not in scoreboard_html(_summary(policy), policy)


def test_the_apps_ensemble_scoreboard_and_the_terminal_name_each_regional_goal():
    from sim.app.ensemble import EnsembleView
    from sim.app.scoreboards import ensemble_table
    from sim.report import numbers
    dd = load_target_sets()["double_doubling_2027"]
    view = EnsembleView(names=("double_doubling",), replicates=20, scale=0.1, seed=1, start_year=2022, until=2027,
                        targets=dd, summaries=(_summary(dd),), bands=({},), diffs=None, text={}, seconds=0.0, key=())
    table = ensemble_table(view)
    row = re.search(r'<tr data-target="DD27-HT-NEW-METRO">.*?</tr>', table).group(0)
    assert "主城新区高新技术企业 ≥ 4,640 firms (2027)" in row and 'title="High-tech enterprises in the new metropolitan' in row
    assert "25 %" in row and "4,639.5 (2,320–9,280) firms" in row
    assert [numbers.short_name(t) for t in dd][2:4] == ["high-tech enterprises, central", "tech-based SMEs, central"]
