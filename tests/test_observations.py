"""The published city figures from 2023 on (sim/data/city_recent.csv, sim/data/recent.py) and
their observation models (sim/experiments/observations.py): every row used or explained, each
kind's likelihood shaped as stated, the model quantity read right from a quarterly frame, and a
damaged file refused with its file, line and column named."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.experiments import observations as O
from sim.data import identity, recent
from sim.data.tables import DataError

HEADER = ["indicator", "year", "value", "unit", "status", "kind", "note", "source"]
SRC = "a test source, 2030"


def write(folder: Path, rows, header=HEADER) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / recent.FILE, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows([header, *rows])
    return folder


def shipped_rows() -> list[list[str]]:
    with open(identity.DATA_DIR / recent.FILE, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == HEADER
    return rows[1:]


def obs(model="lognormal", value=100.0, sigma=0.02, series=("tech_enterprises",), months=12, kind="level",
        status="verified") -> O.Observation:
    return O.Observation("tech_enterprises", 2023, value, "firms", kind, status, series, months, model, sigma, "test", SRC)


# ---------------------------------------------------------------------------- the shipped file
def test_every_row_is_used_or_explained():
    table = recent.load_recent()
    used, left = O.observations(), O.unused()
    assert len(used) + len(left) == len(table) > 0
    keys = {o.key for o in used} | {(r["indicator"], r["year"], r["kind"]) for r, _ in left}
    assert keys == set(zip(table.indicator, table.year, table.kind))
    assert all(len(why) > 40 for _, why in left)
    assert all(o.model in O.MODELS and 0 < o.sigma < 0.2 and o.why and o.source for o in used)


def test_every_indicator_the_file_may_hold_has_a_decision():
    assert set(recent.INDICATORS) == set(O.SERIES_OF) | set(O.UNUSED_INDICATORS)
    assert not set(O.SERIES_OF) & set(O.UNUSED_INDICATORS)
    assert set(O.SIGMA_BY_STATUS) == recent.STATUSES


def test_the_file_is_sorted_by_its_key_and_covers_2023_and_2024_only():
    table = recent.load_recent()
    assert list(table.columns) == [*HEADER, "months"]
    assert list(zip(table.indicator, table.year, table.kind)) == sorted(zip(table.indicator, table.year, table.kind))
    assert set(table.year) == {2023, 2024}
    assert not (table.year >= 2025).any()


def test_the_decisions_on_single_rows():
    used = {o.key: o for o in O.observations()}
    left = {(r["indicator"], r["year"], r["kind"]): why for r, why in O.unused()}
    # the 2023 intensity repeats the 2023 R&D preliminary: one of the two enters
    assert ("rd_intensity", 2023, "preliminary") in left and ("rd_expenditure", 2023, "preliminary") in used
    # the 2024 R&D is an interval: ≥ 800亿 on the level, ≤ 2.6 % on the intensity
    assert used[("rd_expenditure", 2024, "level_lower_bound")].model == "lower_bound"
    assert used[("rd_intensity", 2024, "expected")].model == "upper_bound"
    # 新评审通过 holds renewals; the October filings are a floor on the year's certificates
    assert O.model_quantity(used[("high_tech_enterprises_added", 2024, "flow")]) == (
        "certifications_q+renewals_q", 2024, 12)
    filed = used[("high_tech_enterprises_filed", 2023, "partial_year")]
    assert (filed.model, O.model_quantity(filed)) == ("lower_bound", ("certifications_q+renewals_q", 2023, 12))
    jan_oct = used[("tech_enterprises_added", 2023, "partial_year")]
    assert O.model_quantity(jan_oct) == ("registrations_q", 2023, 10)
    # each statement's error, and the model's own (a flow's larger than a level's) in quadrature
    assert jan_oct.sigma == pytest.approx(math.hypot(O.SIGMA_VERIFIED, O.SIGMA_PARTIAL_YEAR, O.MODEL_ERROR_FLOW))
    assert used[("tech_enterprises", 2023, "expected_year_end_lower_bound")].sigma == pytest.approx(
        math.hypot(O.SIGMA_EXPECTED_BOUND, O.MODEL_ERROR_LEVEL))
    for ind in ("gdp", "innovation_index_city", "national_innovative_county_list", "specialised_smes_municipal_added"):
        assert any(k[0] == ind for k in left), ind


def test_through_keeps_the_years_up_to_it():
    assert {o.year for o in O.observations(through=2023)} == {2023}
    assert O.observations(through=2022) == []
    assert len(O.observations(through=2024)) == len(O.observations())
    with pytest.raises(TypeError):
        O.observations(through="2023")


def test_every_kind_gets_a_model_in_an_appended_year(tmp_path):
    kinds = {"level": "lognormal", "preliminary": "lognormal", "expected": "lognormal",
             "level_lower_bound": "lower_bound", "expected_year_end_lower_bound": "lower_bound"}
    rows = [["tech_enterprises", "2100", "60000", "firms", "verified", k, "", SRC] for k in kinds]
    rows += [["tech_enterprises_added", "2030", "9000", "firms", "verified", "flow", "", SRC],
             ["tech_enterprises_added", "2030", "9000", "firms", "verified", "flow_lower_bound", "", SRC],
             ["tech_enterprises_added", "2030", "4000", "firms", "verified", "partial_year", "1—6月新增", SRC],
             ["national_innovative_county_list", "2030", "50", "counties", "verified", "event", "", SRC]]
    d = write(tmp_path / "d", rows)
    used = {o.key: o for o in O.observations(d)}
    assert {k: used[("tech_enterprises", 2100, k)].model for k in kinds} == kinds
    assert used[("tech_enterprises", 2100, "preliminary")].sigma == pytest.approx(
        math.hypot(O.SIGMA_PRELIMINARY, O.MODEL_ERROR_LEVEL))
    assert O.model_quantity(used[("tech_enterprises_added", 2030, "partial_year")]) == ("registrations_q", 2030, 6)
    assert [r["kind"] for r, _ in O.unused(d)] == ["event"]


# ---------------------------------------------------------------------------- likelihoods
def test_a_level_peaks_at_the_published_value():
    o = obs(value=7000.0)
    grid = np.linspace(6000, 8000, 2001)
    ll = [O.log_likelihood(o, m) for m in grid]
    assert grid[int(np.argmax(ll))] == pytest.approx(7000.0, abs=1.0)
    assert O.log_likelihood(o, 7000 * math.exp(0.02)) == pytest.approx(O.log_likelihood(o, 7000) - 0.5)
    assert O.log_likelihood(o, 0.0) == -math.inf and O.log_likelihood(o, float("nan")) == -math.inf


def test_a_preliminary_or_secondary_figure_is_wider_than_a_verified_one():
    def drop(o, m):
        return O.log_likelihood(o, o.value) - O.log_likelihood(o, m)
    v, p, s = (obs(sigma=O.SIGMA_BY_STATUS[st]) for st in ("verified", "verified_preliminary", "secondary"))
    assert drop(v, 110) > drop(p, 110) > drop(s, 110) > 0
    assert O.SIGMA_VERIFIED < O.SIGMA_PRELIMINARY < O.SIGMA_SECONDARY


def test_a_lower_bound_is_flat_above_the_bound_and_falls_below_it():
    o = obs(model="lower_bound", value=11000.0)
    grid = np.linspace(8000, 16000, 801)
    ll = np.array([O.log_likelihood(o, m) for m in grid])
    assert np.all(np.diff(ll) >= 0)
    assert O.log_likelihood(o, 11000) == pytest.approx(math.log(0.5))
    assert abs(O.log_likelihood(o, 12500)) < 1e-6 and O.log_likelihood(o, 1e9) == 0.0
    assert O.log_likelihood(o, 11000 * math.exp(-0.02)) == pytest.approx(math.log(0.158655), rel=1e-4)
    assert O.log_likelihood(o, 9000) < -20 and O.log_likelihood(o, 0.0) == -math.inf


def test_an_upper_bound_mirrors_it():
    o = obs(model="upper_bound", value=2.6, sigma=0.08)
    assert O.log_likelihood(o, 2.0) > -1e-3 and O.log_likelihood(o, 2.6) == pytest.approx(math.log(0.5))
    assert O.log_likelihood(o, 3.0) < O.log_likelihood(o, 2.7) < O.log_likelihood(o, 2.6)
    assert O.log_likelihood(o, 0.0) == 0.0


def test_the_total_adds_the_rows_whatever_form_the_values_come_in():
    used = O.observations()
    values = [o.value * 1.01 for o in used]
    total = O.total_log_likelihood(values, used)
    assert total == pytest.approx(sum(O.log_likelihood(o, v) for o, v in zip(used, values)))
    assert O.total_log_likelihood({o.key: v for o, v in zip(used, values)}, used) == total
    with pytest.raises(ValueError):
        O.total_log_likelihood(values[:-1], used)


# ---------------------------------------------------------------------------- the model quantity
def frame() -> pd.DataFrame:
    """End of 2022 (the start row) and the four quarters of 2023."""
    return pd.DataFrame({"year": [2022, 2023, 2023, 2023, 2023], "quarter": [4, 1, 2, 3, 4],
                         "tech_enterprises": [43000.0, 44000, 45000, 46000, 47000],
                         "registrations_q": [0.0, 2000, 2100, 2200, 2400],
                         "certifications_q": [0.0, 0, 800, 0, 1200], "renewals_q": [0.0, 0, 500, 0, 700]})


def test_simulated_value_reads_a_stock_a_full_year_and_january_to_october():
    f = frame()
    assert O.simulated_value(obs(), f) == 47000.0
    assert O.simulated_value(obs(series=("registrations_q",)), f) == 8700.0
    assert O.simulated_value(obs(series=("registrations_q",), months=10), f) == pytest.approx(6300 + 800)
    assert O.simulated_value(obs(series=("registrations_q",), months=6), f) == 4100.0
    assert O.simulated_value(obs(series=("certifications_q", "renewals_q")), f) == 3200.0
    assert O.total_log_likelihood(f, [obs(value=47000.0)]) == O.log_likelihood(obs(value=47000.0), 47000.0)


def test_simulated_value_refuses_a_frame_that_cannot_answer():
    f = frame()
    with pytest.raises(ValueError, match="end of 2023"):
        O.simulated_value(obs(), f[f.quarter < 4])
    with pytest.raises(ValueError, match="quarters"):
        O.simulated_value(obs(series=("registrations_q",), months=10), f[f.quarter != 2])
    with pytest.raises(ValueError, match="no column renewals_q"):
        O.simulated_value(obs(series=("renewals_q",)), f.drop(columns="renewals_q"))
    with pytest.raises(ValueError, match="twice"):
        O.simulated_value(obs(), pd.concat([f, f.tail(1)]))


# ---------------------------------------------------------------------------- damaged files
def damaged(tmp_path, line: int, column: str, value: str) -> Path:
    rows = shipped_rows()
    rows[line - 2][HEADER.index(column)] = value
    return write(tmp_path / "d", rows)


@pytest.mark.parametrize("column, value, says", [
    ("kind", "rumour", "invalid value 'rumour'"),
    ("year", "2021", "city_history.csv"),
    ("year", "2101", "years 2023 to 2100"),
    ("value", "-5", "out of range"),
    ("value", "11642.5", "not a whole number"),
    ("unit", "100m_yuan", "for tech_enterprises_added"),
    ("status", "rumoured", "invalid value 'rumoured'"),
    ("kind", "level", "a flow indicator"),
    ("note", "gross additions of the year so far", "names no period"),
    ("source", "", "missing value"),
])
def test_a_bad_cell_names_the_file_the_line_and_the_column(tmp_path, column, value, says):
    line = next(i for i, r in enumerate(shipped_rows(), 2) if r[0] == "tech_enterprises_added" and r[1] == "2023")
    with pytest.raises(DataError) as exc:
        recent.load_recent(damaged(tmp_path, line, column, value))
    e = exc.value
    assert (Path(e.file).name, e.row, e.column) == (recent.FILE, line, column), str(e)
    assert says in str(e) and f"{recent.FILE}, row {line}, column {column}" in str(e)


def test_a_duplicate_row_or_key_is_refused_with_its_line(tmp_path):
    rows = shipped_rows()
    with pytest.raises(DataError, match=rf"{recent.FILE}, row {len(rows) + 2}, .*duplicate of row 2"):
        recent.load_recent(write(tmp_path / "a", [*rows, rows[0]]))
    again = list(rows[0])
    again[2] = "1"
    with pytest.raises(DataError, match=rf"row {len(rows) + 2}, column indicator: duplicate indicator, year, kind"):
        recent.load_recent(write(tmp_path / "b", [*rows, again]))


def test_a_wrong_header_is_refused_on_line_one(tmp_path):
    rows = shipped_rows()
    header = ["indicator", "year", "value", "unit", "status", "type", "note", "source"]
    with pytest.raises(DataError) as exc:
        recent.load_recent(write(tmp_path / "h", rows, header))
    assert (exc.value.row, exc.value.column) == (1, "kind") and "missing column" in str(exc.value)


def test_a_missing_or_percent_over_100_file_is_refused(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        recent.load_recent(tmp_path / "none")
    with pytest.raises(DataError, match="more than 100"):
        recent.load_recent(write(tmp_path / "p", [["rd_intensity", "2030", "120", "pct_gdp", "verified", "level", "",
                                                    SRC]]))


def test_the_order_of_the_lines_changes_nothing(tmp_path):
    d = write(tmp_path / "r", shipped_rows()[::-1])
    pd.testing.assert_frame_equal(recent.load_recent(d), recent.load_recent(), check_exact=True)
    assert O.observations(d) == O.observations()
