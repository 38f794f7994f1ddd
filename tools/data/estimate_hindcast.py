"""Reproducible estimation of the end-2017 district state and the 2017–2022 policy environment.

Run from the repository root:  python tools/data/estimate_hindcast.py
Reads sim/data/district_indicators.csv, sim/data/city_history.csv and sim/data/universities.csv;
writes sim/data/hindcast_2017.csv (district values at the end of 2017, same long layout as
district_indicators.csv) and sim/data/policy_environment.csv (what was in force each year
2017–2022). Only the standard library is used. Methods are summarised in sim/data/README.md.

The 2017 tech-based SME and high-tech enterprise stocks per district already live in
district_indicators.csv (same estimation as their 2022 values); this script adds what else a
start in 2017 needs, always by rescaling the nearest estimated district shares to a published
or derived 2017 city total, so that the hindcast start is consistent with the data layer.
"""
from __future__ import annotations

import csv
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "sim" / "data"

# ---------------------------------------------------------------- verified / derived city inputs
# city_history.csv: R&D spending 2017 (derived 686.6 / 1.9) and R&D intensity 2017 (verified).
# Local fiscal S&T spending: 33.8亿 in 2012 and 92.6亿 in 2021, both verified
# (市统计局《十八大以来重庆科技发展报告》2022-09-28; policy_parameters.csv fiscal_st_spending_city).
FISCAL_2012, FISCAL_2021, FISCAL_2022 = 33.8, 92.6, 98.9
FISCAL_SRC = ("geometric interpolation between the verified 33.8亿 (2012) and 92.6亿 (2021) "
              "(市统计局《十八大以来重庆科技发展报告》2022-09-28: 'grew 11.9 %/yr'; policy_parameters.csv)")
# Municipal-level high-tech zone changes between end-2017 and end-2022 (verified).
ZONES_2017 = {"500118": ("municipal", "永川高新区 was municipal until its national approval 国函〔2018〕48号 (2018-02-28); shared notes districts_second_pass"),
              "500153": ("municipal", "荣昌高新区 was municipal until its national approval 国函〔2018〕47号 (2018); shared notes districts_second_pass"),
              "500110": ("none", "綦江 was added as a municipal high-tech zone in 2020 (市科技局2020年工作情况报告, cqrd.gov.cn 2021-06-11; policy_parameters hightech_zones_count)"),
              "500154": ("none", "开州高新区 was approved as a municipal high-tech zone in 2022-08 (重庆市人民政府批复, cq.gov.cn 2022-08-30; platforms.csv)")}


def read(name):
    with open(DATA / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def rescale(shares: dict[str, float], total: float, digits: int) -> dict[str, float]:
    """Split ``total`` by ``shares``, rounded, with the rounding remainder put on the largest."""
    s = sum(shares.values())
    out = {k: round(total * v / s, digits) for k, v in shares.items()}
    big = max(out, key=out.get)
    out[big] = round(out[big] + total - sum(out.values()), digits)
    return out


def main() -> None:
    ind = read("district_indicators.csv")
    hist = {(r["indicator"], int(r["year"])): float(r["value"]) for r in read("city_history.csv")}
    val = {}
    for r in ind:
        val[(r["adcode"], r["indicator"], int(r["year"]))] = float(r["value"])
    codes = sorted({r["adcode"] for r in ind})

    rd17 = hist[("rd_expenditure", 2017)]
    gdp17 = round(rd17 / (hist[("rd_intensity", 2017)] / 100.0), 2)
    fiscal = {y: FISCAL_2012 * (FISCAL_2021 / FISCAL_2012) ** ((y - 2012) / 9) for y in range(2017, 2021)}
    fiscal[2021], fiscal[2022] = FISCAL_2021, FISCAL_2022
    gdp22 = hist[("gdp", 2022)]

    rows = []

    def add(c, indicator, value, unit, status, source):
        rows.append([c, indicator, 2017, value, unit, status, source])

    rd = rescale({c: val[(c, "rd_expenditure", 2020)] for c in codes}, rd17, 4)
    gdp = rescale({c: val[(c, "gdp", 2020)] for c in codes}, gdp17, 2)
    fst = rescale({c: val[(c, "fiscal_st_spending", 2022)] for c in codes}, round(fiscal[2017], 4), 4)
    io_total = round(sum(val[(c, "industrial_output", 2022)] for c in codes) * gdp17 / gdp22, 2)
    io = rescale({c: val[(c, "industrial_output", 2022)] for c in codes}, io_total, 2)
    for c in codes:
        add(c, "rd_expenditure", rd[c], "100m_yuan", "estimated",
            f"city R&D 2017 {rd17:g} (city_history.csv, derived 686.6 / 1.9) split by the district's share of estimated 2020 R&D "
            "(district_indicators.csv; the nearest year with published regional blocks)")
        add(c, "gdp", gdp[c], "100m_yuan", "estimated",
            f"city GDP 2017 {gdp17:g} = R&D 361 / intensity 1.88 % (derived from city_history.csv, so that the intensity "
            "series and its denominator agree) split by the district's 2020 GDP share (district_indicators.csv)")
        add(c, "fiscal_st_spending", fst[c], "100m_yuan", "estimated",
            f"city local fiscal S&T spending 2017 {fiscal[2017]:.2f} ({FISCAL_SRC}) split by the district's 2022 share (district_indicators.csv)")
        add(c, "industrial_output", io[c], "100m_yuan", "estimated",
            f"2022 proxy (secondary value added, district_indicators.csv) x city GDP 2017 / 2022 ({gdp17:g} / {gdp22:g}); use for shares")
    # Research units open at the end of 2017 (institutes and labs with a later opening year drop out).
    unis = read("universities.csv")
    for c in codes:
        mine = [u for u in unis if u["adcode"] == c and (not u["year_opened"] or int(u["year_opened"]) <= 2017)]
        add(c, "n_universities", sum(u["kind"] == "university" for u in mine), "count", "derived",
            "count of universities.csv rows of kind university in the district (campus district; all listed universities predate 2018)")
        add(c, "n_institutes", sum(u["kind"] != "university" for u in mine), "count", "derived",
            "count of universities.csv institutes and labs in the district opened by 2017 (year_opened)")
    for c, (level, src) in ZONES_2017.items():
        add(c, "hightech_zone", {"none": 0, "municipal": 1, "national": 2}[level], "level (0 none, 1 municipal, 2 national)", "verified", src)
    with open(DATA / "hindcast_2017.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["adcode", "indicator", "year", "value", "unit", "status", "source"])
        w.writerows(rows)

    # ------------------------------------------------------------ the policy environment
    env = []

    def e(year, key, value, unit, status, source):
        env.append([year, key, value, unit, status, source])

    SD = "policy_timeline.csv (shared data)"
    for y in range(2017, 2023):
        reg = 1.0 if y >= 2022 else 0.75
        other = 0.5 if y == 2017 else (0.8125 if y == 2022 else 0.75)
        mfg = 1.0 if y >= 2021 else other
        e(y, "super_deduction_registered", reg, "share", "verified",
          {2017: "财税〔2017〕34号: 75 % for 科技型中小企业", 2022: "公告2022年第16号: 100 % for 科技型中小企业"}.get(
              y, "财税〔2018〕99号 / 公告2021年第6号: 75 % for all eligible firms") + f" ({SD})")
        e(y, "super_deduction_other", other, "share", "verified" if y != 2022 else "derived",
          {2017: "财税〔2015〕119号: 50 % for firms other than 科技型中小企业 in 2017",
           2022: "75 % for three quarters, 100 % in Q4 (公告2022年第28号): year average 0.75 x 0.75 + 1.0 x 0.25"}.get(
              y, "财税〔2018〕99号 / 公告2021年第6号: 75 % for all eligible firms") + f" ({SD})")
        e(y, "super_deduction_manufacturing", mfg, "share", "verified",
          ("公告2021年第13号: 100 % for manufacturing firms from 2021" if y >= 2021 else "no manufacturing-specific rate before 2021")
          + f" ({SD}); applied to the directions electronic_devices, intelligent_manufacturing, biomedicine, green_energy, energy_saving (estimated: mostly manufacturers)")
        e(y, "fiscal_st_city", round(fiscal[y], 2), "100m_yuan", "verified" if y >= 2021 else "derived",
          ("city local fiscal S&T spending, policy_parameters.csv" if y >= 2021 else FISCAL_SRC))
        g = hist.get(("gdp", y))
        if g is None:
            g = round(hist[("rd_expenditure", y)] / (hist[("rd_intensity", y)] / 100.0), 2)
            e(y, "gdp_city", g, "100m_yuan", "derived", f"R&D {hist[('rd_expenditure', y)]:g} / intensity {hist[('rd_intensity', y)]:g} % (city_history.csv): the denominator of the published intensity")
        else:
            e(y, "gdp_city", g, "100m_yuan", "verified", "city GDP (city_history.csv)")
    for y in range(2017, 2023):
        budget, src = (5.0, "estimated: the new municipal S&T money of 2019 (5亿, policy_parameters fiscal_st_new_money_city_2019) taken as the pre-2021 scale of the city's money for district S&T") if y <= 2020 else (
            10.0, "estimated: the 2021 municipal decision added 10亿/yr of city-level S&T money (policy_timeline 2021-05-17); the default")
        e(y, "guiding_fund.annual_budget", budget, "100m_yuan/yr", "estimated", src)
    kv = {2017: (0.0, "verified: the pilot started in May 2017 (policy_timeline 2017-05-17); the start state holds no loan"),
          2018: (9.46, "derived: 20.1亿 lent May 2017 – 4 Jul 2019 (policy_timeline 2019-07-04) = 9.46亿/yr"),
          2019: (50.5, "derived: half a year at 9.46亿/yr and half at 91.6亿/yr ((133.78 − 20.1)亿 from Jul 2019 to Sep 2020, policy_parameters kv_loan_cum_amount; year inferred)"),
          2020: (86.6, "derived: 9 months at 91.6亿/yr and 3 at 71.8亿/yr (policy_parameters kv_loan_annual_flow_2021_approx)"),
          2021: (71.8, "derived: (223.5 − 133.78)亿 over Oct 2020 – Dec 2021, annualised (policy_parameters kv_loan_annual_flow_2021_approx)"),
          2022: (72.0, "derived: the 2021 pace, the default")}
    for y, (v, s) in kv.items():
        e(y, "finance.credit_annual_lending", v, "100m_yuan/yr", "derived" if y > 2017 else "verified", s)
    e(2017, "finance.risk_pool_initial", 3.0, "100m_yuan", "verified", "3亿 risk-compensation fund at the end of 2017 (policy_timeline 2017-12-31)")
    for y in (2018, 2019):
        e(y, "finance.risk_pool_topup", 14.0, "100m_yuan/yr", "derived", "(31 − 3)亿 over 2018–2019: the pool stood at 31亿 in July 2019 (policy_timeline 2019-07-04)")
    for y in range(2017, 2023):
        on = y >= 2020
        e(y, "paired.enabled", on, "bool", "verified",
          "对口协同 of the 一区两群 layout from 2020 (announcement 2020-05-09, districts.csv group sources; 4.24亿 support by Nov 2021, policy_parameters paired_support_funds)")
        e(y, "paired.sichuan_chongqing", 1.0 if on else 0.0, "x", "estimated",
          "成渝地区双城经济圈 cooperation from 2020 (policy_parameters chengyu_* funds of 2020); border cooperation before it taken as absent")
        e(y, "consortia.enabled", y >= 2022, "bool", "estimated",
          "innovation consortia are a lever of the 2022 guiding opinions (seed §(十三)); no earlier start date was found, so absent before 2022")
        e(y, "platforms.programme", False, "bool", "verified", "一区一平台 is a programme of the guiding opinions of Nov 2022 (seed §(七)); the platforms of platforms.csv established by the start year are in the start state")
        e(y, "evaluation.competitive_feedback", False, "bool", "verified", "competitive allocation by the yearly evaluation is seed §(二十五), Nov 2022")
        e(y, "innovative_county.candidates", "500236", "adcodes", "verified",
          "奉节 was listed for national innovative county construction in 2018 and passed in 2022 (cq.cri.cn 2022-08-31; city_history)")
        e(y, "innovative_county.batch_year", "2018", "yr", "verified",
          "the ministry's first construction list (首批创新型县(市)建设名单), 公示 2018-11-22 (xwzx.qqzyw.com/show-232233.html)")
        e(y, "innovative_county.quota", "1", "counties", "verified", "the first list took one Chongqing county, 奉节 (cq.cri.cn 2022-08-31)")
        e(y, "innovative_county.batch_year_spread", "0", "yr", "verified", "the first list's year is known (公示 2018-11-22): no draw")
        e(y, "innovative_county.quota_mean", "0", "counties", "verified", "the first list's Chongqing count is known (奉节): no draw")
    e(2017, "innovative_county.already_passed", "", "adcodes", "verified", "no Chongqing county had passed by the end of 2017: 奉节, the first, passed in 2022 (city_history)")
    e(2018, "zone.500118", "national", "level", "verified", "永川高新区 national, 国函〔2018〕48号 (2018-02-28)")
    e(2018, "zone.500153", "national", "level", "verified", "荣昌高新区 national, 国函〔2018〕47号 (2018)")
    e(2020, "zone.500110", "municipal", "level", "verified", "綦江 added as a municipal high-tech zone in 2020 (cqrd.gov.cn 2021-06-11)")
    e(2022, "zone.500154", "municipal", "level", "verified", "开州高新区 approved as a municipal high-tech zone, 重庆市人民政府批复 (cq.gov.cn 2022-08-30)")
    with open(DATA / "policy_environment.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["year", "key", "value", "unit", "status", "source"])
        w.writerows(env)


if __name__ == "__main__":
    main()
