"""Nothing depends on the order of a data file's lines: every loader sorts by the key its
docstring names, so a copy of sim/data with every CSV's rows reversed (same header, same
content) and the boundaries' features reversed loads the same tables and gives a same-seed run
that is bit for bit the run on the shipped folder, from the 2022 start and from the 2017 one."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from sim.core import metrics
from sim.core.hindcast import load_policy_environment
from sim.data.district_recent import load_district_recent
from sim.data.recent import load_recent
from sim.data import actors, datasets, identity
from sim.model import InnovationModel
from sim.params.parameters import Params

CSV_FILES = sorted(p.name for p in identity.DATA_DIR.glob("*.csv"))
QUARTERS = 6


def reversed_copy(root: Path, names) -> Path:
    """sim/data copied to ``root`` with the data rows of each CSV in ``names`` reversed (the
    header kept; parsed and written with the csv module, so quoted cells stay whole) and the
    features of boundaries.geojson reversed."""
    d = root / "data"
    shutil.copytree(identity.DATA_DIR, d, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    for name in names:
        with open(d / name, newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        with open(d / name, "w", newline="", encoding="utf-8") as fh:
            csv.writer(fh, lineterminator="\n").writerows([rows[0], *reversed(rows[1:])])
    gj = json.loads((d / "boundaries.geojson").read_text("utf-8"))
    gj["features"].reverse()
    (d / "boundaries.geojson").write_text(json.dumps(gj, ensure_ascii=False), "utf-8")
    return d


def run(data_dir, start_year: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    model = InnovationModel(Params().with_overrides(start_year=start_year), seed=1, scale=0.02, data_dir=data_dir)
    for _ in range(QUARTERS):
        model.step()
    out = model.datacollector.get_model_vars_dataframe(), metrics.district_frame(model)
    model.release()
    return out


LOADERS = {
    "districts.csv": identity.district_identity,
    "district_indicators.csv": datasets.load_indicators,
    "hindcast_2017.csv": datasets.load_hindcast_indicators,
    "platforms.csv": datasets.load_platforms,
    "universities.csv": actors.load_universities,
    "leading_firms.csv": actors.load_leading_firms,
    "industry_directions.csv": actors.load_industry_directions,
    "paired_assistance.csv": actors.load_paired_assistance,
    "sichuan_chongqing.csv": actors.load_sichuan_chongqing,
    "city_history.csv": actors.load_city_history,
    "district_history.csv": actors.load_district_history,
    "policy_parameters.csv": actors.load_policy_parameters,
    "policy_environment.csv": load_policy_environment,
    "city_recent.csv": load_recent,
    "district_recent.csv": load_district_recent,
}


def test_every_csv_has_a_loader_here():
    assert set(LOADERS) == set(CSV_FILES)


@pytest.fixture(scope="module")
def reversed_dir(tmp_path_factory):
    return reversed_copy(tmp_path_factory.mktemp("reversed"), CSV_FILES)


@pytest.mark.parametrize("name", CSV_FILES)
def test_a_loader_returns_the_same_table_whatever_the_order_of_the_lines(reversed_dir, name):
    pd.testing.assert_frame_equal(LOADERS[name](reversed_dir).reset_index(drop=True),
                                  LOADERS[name](None).reset_index(drop=True), check_exact=True)


def test_the_boundaries_come_in_adcode_order_whatever_the_order_of_the_features(reversed_dir):
    assert datasets.load_boundaries(reversed_dir) == datasets.load_boundaries()
    codes = [int(f["properties"]["adcode"]) for f in datasets.load_boundaries()["features"]]
    assert codes == sorted(codes)


@pytest.mark.parametrize("start_year", [2022, 2017])
def test_a_same_seed_run_is_bit_identical_on_reversed_files(reversed_dir, start_year):
    city, districts = run(reversed_dir, start_year)
    city0, districts0 = run(None, start_year)
    pd.testing.assert_frame_equal(city, city0, check_exact=True)
    pd.testing.assert_frame_equal(districts, districts0, check_exact=True)
