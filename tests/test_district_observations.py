"""The districts' own figures of 2023 on (sim/data/district_recent.csv) and their observation
model (sim/experiments/district_observations.py): the shipped rows, a damaged file refused with
its file, line and column, the mixture's shape, and the model's value read from a district frame."""

from __future__ import annotations

import csv
import math
import shutil
from pathlib import Path

import pandas as pd
import pytest

from sim.data import district_recent, identity
from sim.data.tables import DataError
from sim.experiments import district_observations as D


def rows_of(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def damaged(tmp_path, line: int, column: str, value: str) -> Path:
    data = tmp_path / "data"
    shutil.copytree(identity.DATA_DIR, data, ignore=shutil.ignore_patterns("__pycache__", "*.toml", "*.geojson"))
    rows = rows_of(data / district_recent.FILE)
    rows[line - 1][rows[0].index(column)] = value
    with open(data / district_recent.FILE, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    return data


def test_the_shipped_rows_and_their_doubts():
    obs = D.district_observations()
    assert {(o.adcode, o.indicator, o.year, o.quarter): o.value for o in obs} == {
        (500113, "tech_enterprises", 2023, 1): 4529, (500152, "high_tech_enterprises", 2023, 1): 86,
        (500152, "tech_enterprises", 2023, 1): 882, (500153, "tech_enterprises", 2023, 4): 1557,
        (500241, "high_tech_enterprises", 2024, 3): 82, (500241, "tech_enterprises", 2024, 3): 694}
    assert {o.doubt: o.outlier for o in obs} == {"": 0.1, "year_inferred": 0.3, "may_be_cumulative": 0.5}
    assert all(o.sigma == pytest.approx(math.sqrt(0.02 ** 2 + 0.03 ** 2 + 0.2 ** 2 + 0.17 ** 2)) for o in obs)
    assert [o.year for o in D.district_observations(through=2023)] == [2023] * 4


@pytest.mark.parametrize("column, value, says", [
    ("adcode", "500999", "unknown adcode"),
    ("indicator", "rd_expenditure", "invalid value 'rd_expenditure'"),
    ("year", "2022", "out of range"),
    ("quarter", "5", "out of range"),
    ("value", "4529.5", "not a whole number"),
    ("doubt", "rumour", "invalid value 'rumour'"),
    ("source", "", "missing value"),
])
def test_a_bad_cell_names_the_file_the_line_and_the_column(tmp_path, column, value, says):
    with pytest.raises(DataError) as exc:
        district_recent.load_district_recent(damaged(tmp_path, 2, column, value))
    e = exc.value
    assert (Path(e.file).name, e.row, e.column) == (district_recent.FILE, 2, column), str(e)
    assert says in str(e)


def test_a_data_folder_without_the_file_is_refused_by_name(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(identity.DATA_DIR, data, ignore=shutil.ignore_patterns("__pycache__", "*.toml", "*.geojson",
                                                                           district_recent.FILE))
    with pytest.raises(DataError, match=district_recent.FILE):
        D.district_observations(data)


def test_the_mixture_peaks_at_the_figure_and_never_rules_a_path_out():
    o = D.district_observations()[0]
    peak = D.log_likelihood(o, o.value)
    assert peak > D.log_likelihood(o, o.value * 1.1) > D.log_likelihood(o, o.value * 1.5)
    floor = math.log(o.outlier / (2 * math.log(D.OUTLIER_RANGE)))
    assert D.log_likelihood(o, o.value * 20) == pytest.approx(floor, abs=1e-6)
    assert D.log_likelihood(o, 0.0) == pytest.approx(floor)
    doubtful = next(x for x in D.district_observations() if x.doubt)
    # a doubtful figure pulls less: its far tail sits higher
    assert D.log_likelihood(doubtful, doubtful.value * 20) > D.log_likelihood(o, o.value * 20)


def test_the_model_value_is_the_districts_stock_at_the_quarters_end():
    o = D.district_observations()[0]
    frame = pd.DataFrame({"adcode": [o.adcode, o.adcode, 500101], "year": [o.year, o.year, o.year],
                          "quarter": [o.quarter, o.quarter + 1, o.quarter], "tech_enterprises": [4400.0, 4700.0, 1.0],
                          "high_tech_enterprises": [1.0, 2.0, 3.0]})
    assert D.district_values(frame, [o]) == {o.key: 4400.0}
    with pytest.raises(ValueError, match="does not reach"):
        D.district_values(frame[frame["quarter"] != o.quarter], [o])
    assert D.total_log_likelihood({o.key: 4400.0}, [o]) == pytest.approx(D.log_likelihood(o, 4400.0))
