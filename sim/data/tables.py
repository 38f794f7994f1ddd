"""Reading data files against a schema, so that any damage is a :class:`DataError`.

A schema maps each required column to a converter that turns the cell's text into a value or
raises ``ValueError("problem|what is allowed")``. :func:`read_csv` parses with the :mod:`csv`
module first and names the file, the 1-based line, the column and what is allowed for anything
wrong: a missing or unreadable file, a folder in its place, text that is not UTF-8, a file cut
off mid-line, malformed quoting, a missing column, a short row, a bad cell, a duplicate row or
key, a header without rows. Values are quoted short (:func:`sim.util.messages.short`).
"""
from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from ..util.errors import InputError
from ..util.messages import clip, short

SchemaT = dict[str, Callable[[str], Any]]


class DataError(InputError):
    """A data file is malformed. The message names file, row (1-based line), column, allowed values."""

    def __init__(self, file: str | Path, row: int | None, column: str | None, problem: str,
                 allowed: str | None = None):
        self.file, self.row, self.column, self.problem, self.allowed = str(file), row, column, problem, allowed
        where = f"{clip(self.file, 200)}, row {row if row is not None else '(all rows)'}, column {column or '(none)'}"
        msg = f"{where}: {problem}"
        if allowed:
            msg += f" (allowed: {allowed})"
        super().__init__(clip(msg))


# ----------------------------------------------------------------------------- cell converters
def text(required: bool = True) -> Callable[[str], str]:
    def conv(v: str) -> str:
        if required and not v.strip():
            raise ValueError("missing value|a non-empty text")
        return v.strip()
    return conv


def enum(values, required: bool = True) -> Callable[[str], str]:
    vals = frozenset(values)
    def conv(v: str) -> str:
        v = v.strip()
        if v not in vals:
            raise ValueError(f"invalid value {short(v)}|" + ", ".join(repr(x) for x in sorted(vals)))
        return v
    return conv


def integer(lo: int | None = None, hi: int | None = None, required: bool = True) -> Callable[[str], Any]:
    def conv(v: str):
        v = v.strip()
        if not v:
            if required:
                raise ValueError("missing value|an integer")
            return None
        # int() of thousands of digits is refused by Python itself; no valid cell is that long.
        try:
            x = int(v) if len(v) <= 30 else None
        except ValueError:
            x = None
        if x is None:
            raise ValueError(f"non-integer value {short(v)}|an integer")
        if (lo is not None and x < lo) or (hi is not None and x > hi):
            raise ValueError(f"value {x} out of range|integers in [{lo}, {hi}]")
        return x
    return conv


def number(lo: float | None = None, positive: bool = False) -> Callable[[str], float]:
    def conv(v: str) -> float:
        v = v.strip()
        if not v:
            raise ValueError("missing value|a number")
        try:
            x = float(v)
        except ValueError:
            raise ValueError(f"non-numeric value {short(v)}|a number") from None
        if not math.isfinite(x) or (lo is not None and x < lo) or (positive and x <= 0):
            raise ValueError(f"value {short(v)} out of range|finite numbers {'> 0' if positive else f'>= {lo}'}")
        return x
    return conv


def adcode(codes: frozenset[str] | None) -> Callable[[str], int]:
    def conv(v: str) -> int:
        v = v.strip()
        if codes is None:
            if not (v.isdigit() and len(v) == 6 and v.startswith("50")):
                raise ValueError(f"invalid adcode {short(v)}|six-digit Chongqing codes 500101…500243")
        elif v not in codes:
            raise ValueError(f"unknown adcode {short(v)}|one of the 38 adcodes in districts.csv")
        return int(v)
    return conv


# ----------------------------------------------------------------------------- files
def read_text(path: Path) -> str:
    """The text of a data file (a leading byte-order mark is dropped, as spreadsheets write one)."""
    try:
        if path.is_dir():
            raise DataError(path, None, None, "is a folder; expected a file")
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataError(path, None, None, "file not found") from None
    except OSError as exc:
        raise DataError(path, None, None, f"cannot be read: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise DataError(path, line, None, f"not UTF-8 text (byte {short(data[exc.start:exc.start + 1])} at offset "
                        f"{exc.start})", "UTF-8 text; re-save the file as UTF-8") from None


def read_json(path: Path):
    text_ = read_text(path)
    try:
        return json.loads(text_)
    except json.JSONDecodeError as exc:
        raise DataError(path, exc.lineno, None, f"invalid JSON: {exc.msg}") from None
    except RecursionError:
        raise DataError(path, None, None, "JSON nested too deeply") from None


def read_csv(path: Path, schema: SchemaT, key: tuple[str, ...] = ()) -> tuple[pd.DataFrame, list[int]]:
    """Parse ``path`` with ``schema`` (column -> converter); ``key``: columns whose values identify
    a row, so that no two rows may share them. Returns the frame and each row's line number."""
    content = read_text(path)
    if not content.strip():
        raise DataError(path, 1, None, "empty file", "a header line, then one line per row")
    if not content.endswith(("\n", "\r")):
        raise DataError(path, content.count("\n") + 1, None, "the last line does not end with a line break: "
                        "the file looks cut off", "complete lines; if the last row is complete, end it with a line break")
    reader = csv.reader(io.StringIO(content, newline=""), strict=True)
    try:
        header = [h.strip() for h in next(reader)]
        for col in schema:
            if col not in header:
                raise DataError(path, 1, col, "missing column", ", ".join(schema))
            if header.count(col) > 1:
                raise DataError(path, 1, col, "column appears more than once in the header")
        idx = {c: header.index(c) for c in schema}
        records, lines, seen_rows, seen_keys = [], [], {}, {}
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise DataError(path, line, None, f"{len(row)} fields, header has {len(header)}")
            whole = tuple(cell.strip() for cell in row)
            if whole in seen_rows:
                raise DataError(path, line, None, f"duplicate of row {seen_rows[whole]}", "each row once")
            seen_rows[whole] = line
            rec = {}
            for col, conv in schema.items():
                try:
                    rec[col] = conv(row[idx[col]])
                except ValueError as exc:
                    problem, _, allowed = str(exc).partition("|")
                    raise DataError(path, line, col, problem, allowed or None) from None
            if key:
                k = tuple(rec[c] for c in key)
                if k in seen_keys:
                    raise DataError(path, line, key[0], f"duplicate {', '.join(key)} {short(k if len(k) > 1 else k[0])}, "
                                    f"first on row {seen_keys[k]}", f"one row per {', '.join(key)}")
                seen_keys[k] = line
            records.append(rec)
            lines.append(line)
    except csv.Error as exc:
        raise DataError(path, reader.line_num, None, f"malformed CSV: {exc}") from None
    if not records:
        raise DataError(path, 2, None, "no rows after the header", "one line per row")
    return pd.DataFrame.from_records(records, columns=list(schema)), lines


def stamp(path: Path) -> tuple:
    """Cache key part that changes when the file changes (edited copies are re-validated)."""
    try:
        st = path.stat()
        return (st.st_mtime_ns, st.st_size)
    except (OSError, ValueError):
        return (None, None)


def is_number(x) -> bool:
    """A finite JSON number (not a boolean)."""
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def check_polygons(path, where: str, geom, lon_range, lat_range) -> None:
    """A GeoJSON Polygon or MultiPolygon of rings of at least four [lon, lat] points inside the
    box (maps draw every point, so one bad point is an error here rather than a broken figure)."""
    kind = geom.get("type") if isinstance(geom, dict) else None
    if kind not in ("Polygon", "MultiPolygon"):
        raise DataError(path, None, where, "geometry must be Polygon or MultiPolygon")
    coords = geom.get("coordinates")
    polygons = [coords] if kind == "Polygon" else coords
    if not isinstance(polygons, list) or not polygons:
        raise DataError(path, None, f"{where}.coordinates", "no polygons", "a list of rings of [lon, lat] points")
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon:
            raise DataError(path, None, f"{where}.coordinates", "a polygon is not a list of rings")
        for ring in polygon:
            if not isinstance(ring, list) or len(ring) < 4:
                raise DataError(path, None, f"{where}.coordinates", "a ring has fewer than four points",
                                "closed rings of at least four [lon, lat] points")
            for pt in ring:
                if not (isinstance(pt, list) and len(pt) >= 2 and is_number(pt[0]) and is_number(pt[1])
                        and lon_range[0] < pt[0] < lon_range[1] and lat_range[0] < pt[1] < lat_range[1]):
                    raise DataError(path, None, f"{where}.coordinates", f"point {short(pt)} is not [lon, lat] in the "
                                    "expected area", f"lon {lon_range[0]}–{lon_range[1]}, lat {lat_range[0]}–{lat_range[1]}")
