"""The districts' own published S&T figures (2018–2022) that the calibration compares its
hindcast with, as year-end values.

Run from the repository root:  python tools/data/district_history.py
Reads docs/research/district_search_2022/district_reported*.csv (every figure with its source and
quoted wording), writes sim/data/district_history.csv. A figure published for the year's end is
kept as it is (status verified); one published for a date inside the year is carried to the
nearest year end with the city's growth of the same stock over the months between (status
derived, the method in ``method``), as the district anchors of estimate_districts.py do. Left
out: cumulative counts, lower bounds ("超过"), and 渝北's "研发投入报统 175.53亿元" (coverage
unclear, see sim/data/README.md).
"""
from __future__ import annotations

import csv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESEARCH = ROOT / "docs" / "research" / "district_search_2022"
OUT = ROOT / "sim" / "data" / "district_history.csv"
INDICATORS = ("tech_enterprises", "high_tech_enterprises", "rd_expenditure", "rd_intensity")
UNITS = {"firms", "100m_yuan", "pct_gdp"}
# (adcode, indicator, published year) -> (year end it is compared at, factor, method); the city
# stocks are those of sim/data/city_history.csv and the Q1-2021 stock 27509 (科技日报 2021-04).
TO_YEAR_END = {
    ("500105", "tech_enterprises", 2021): (2020, 26375 / 27509,
        "Q1-2021 stock carried back to end-2020 with the city's stock then (26375 / 27509)"),
    ("500120", "high_tech_enterprises", 2021): (2021, (5108 / 4222) ** 0.5,
        "mid-2021 stock carried to end-2021 with half a year of city growth ((5108 / 4222)^0.5)"),
    ("500120", "high_tech_enterprises", 2022): (2022, (6348 / 5108) ** 0.5,
        "c. mid-2022 stock carried to end-2022 with half a year of city growth ((6348 / 5108)^0.5)"),
}
LEFT_OUT = {("500120", "tech_enterprises", 2021): "cumulative registrations (累计), not a stock",
            ("500106", "rd_intensity", 2020): "lower bound (超过3.50%)",
            ("500112", "rd_expenditure", 2022): "报统 value, 7.6 % of GDP: coverage unclear"}
FIELDS = ("adcode", "name_zh", "indicator", "year", "value", "unit", "status", "method", "source", "wording")


def rows():
    out = []
    for f in sorted(RESEARCH.glob("district_reported*.csv")):
        with f.open(encoding="utf-8") as fh:
            for r in csv.DictReader(fh):
                key = (r["adcode"], r["indicator"], int(r["year"]))
                if r["indicator"] not in INDICATORS or r["unit"] not in UNITS or key in LEFT_OUT:
                    continue
                value, status, method, year = float(r["value"]), r["status"], "as published", key[2]
                if key in TO_YEAR_END:
                    year, factor, method = TO_YEAR_END[key]
                    value, status = round(value * factor), "derived"
                out.append(dict(adcode=r["adcode"], name_zh=r["name_zh"], indicator=r["indicator"], year=year,
                                value=f"{value:g}", unit=r["unit"], status=status, method=method,
                                source=f"{r['source']} ({f.name})", wording=r["wording"]))
    return sorted(out, key=lambda r: (r["adcode"], r["indicator"], r["year"]))


def main() -> None:
    data = rows()
    with OUT.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=FIELDS)
        w.writeheader()
        w.writerows(data)
    print(f"{OUT.relative_to(ROOT)}: {len(data)} district figures")


if __name__ == "__main__":
    main()
