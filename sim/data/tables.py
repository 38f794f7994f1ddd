"""Reading data files against a schema, so that any damage is a :class:`DataError`.

A schema maps each required column to a converter that turns the cell's text into a value or
raises ``ValueError("problem|what is allowed")``. :func:`read_csv` parses with the :mod:`csv`
module first and names the file, the 1-based line, the column and what is allowed for anything
wrong: a missing or unreadable file, a folder in its place, text that is not UTF-8, a file cut
off mid-line, malformed quoting, a missing column, a short row, a bad cell, a duplicate row or
key, a header without rows, a column the schema does not know, a control character. ``order``
sorts the rows, so a loader's result never depends on the order of the file's lines. Values are
quoted short (:func:`sim.util.messages.short`). TOML files: :func:`read_toml`, then
``Spec.check`` against :class:`Spec` objects (types, ranges, required and unknown keys): any
damage is a :class:`DataKeyError` naming the file and the dotted key.
"""
from __future__ import annotations

import csv
import io
import json
import math
import re
import tomllib
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from ..util.errors import InputError
from ..util.messages import clip, key_name, short

SchemaT = dict[str, Callable[[str], Any]]
# Characters no cell of a text table holds (a NUL, a form feed, ...): damage, or a binary paste.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


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


class DataKeyError(DataError):
    """A TOML data file is malformed: "file: key 'a.b': problem (allowed: ...)"; ``column`` is the key."""

    def __init__(self, file: str | Path, key: str, problem: str, allowed: str | None = None):
        self.file, self.row, self.column, self.key, self.problem, self.allowed = str(file), None, key, key, problem, allowed
        InputError.__init__(self, clip(f"{clip(self.file, 200)}: key '{key}': {problem}"
                                       + (f" (allowed: {allowed})" if allowed else "")))


# ----------------------------------------------------------------------------- cell converters
def text(required: bool = True) -> Callable[[str], str]:
    def conv(v: str) -> str:
        if required and not v.strip():
            raise ValueError("missing value|a non-empty text")
        return v.strip()
    return conv


# CJK ideographs (the unified block, extension A and the compatibility block).
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
LATIN = re.compile(r"[A-Za-z]")
VALUE = re.compile(r"[+-]?(\d[\d_]*\.?[\d_]*|\.\d+)(e[+-]?\d+)?|[+-]?(inf|infinity|nan)|true|false|none|null", re.I)


def _not_a_value(v: str) -> bool:
    """Text that reads as a number or a truth value (what a shifted or damaged cell holds)."""
    return bool(VALUE.fullmatch(v))


def _checked(test: Callable[[str], Any], problem: str, allowed: str) -> Callable[[str], str]:
    def conv(v: str) -> str:
        v = v.strip()
        if not test(v):
            raise ValueError(f"{f'{short(v)} {problem}' if v else 'missing value'}|{allowed}")
        return v
    return conv


def chinese() -> Callable[[str], str]:
    """A Chinese name: at least one CJK character (Chinese and English name columns swapped are caught)."""
    return _checked(CJK.search, "has no Chinese characters", "a Chinese name (汉字)")


def latin() -> Callable[[str], str]:
    """An English (or pinyin) name: Latin letters and no CJK character."""
    return _checked(lambda v: LATIN.search(v) and not CJK.search(v) and not _not_a_value(v),
                    "is not an English name", "Latin letters, no Chinese characters")


def label() -> Callable[[str], str]:
    """A name or unit: text with a letter in it, not a number or a truth value."""
    return _checked(lambda v: (CJK.search(v) or LATIN.search(v)) and not _not_a_value(v),
                    "is not a name", "a text with letters, not a number")


def prose(min_len: int = 4) -> Callable[[str], str]:
    """A source, method or description (or a formula): ``min_len`` characters or more, not a number."""
    return _checked(lambda v: len(v) >= min_len and not _not_a_value(v), "is not a description",
                    f"a text of at least {min_len} characters that says where the figure comes from")


def ident() -> Callable[[str], str]:
    """A key or indicator name: lower-case letters, digits and _, starting with a letter."""
    return _checked(re.compile(r"[a-z][a-z0-9_]*").fullmatch, "is not a key",
                    "lower-case letters, digits and _, such as tech_enterprises")


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


def read_csv(path: Path, schema: SchemaT, key: tuple[str, ...] = (),
             order: tuple[str, ...] = ()) -> tuple[pd.DataFrame, list[int]]:
    """Parse ``path`` with ``schema`` (column -> converter; the header names exactly these columns,
    in any order); ``key``: columns whose values identify a row, no two rows sharing them;
    ``order``: columns to sort the rows by (converted values, a blank first), so the result does not
    depend on the order of the lines. Returns the frame and each row's line number."""
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
        for col in header:
            if col not in schema:
                raise DataError(path, 1, short(col), "unknown column", ", ".join(schema))
        idx = {c: header.index(c) for c in schema}
        records, lines, seen_rows, seen_keys = [], [], {}, {}
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise DataError(path, line, None, f"{len(row)} fields, header has {len(header)}")
            bad = next((i for i, cell in enumerate(row) if CONTROL.search(cell)), None)
            if bad is not None:
                raise DataError(path, line, header[bad] or None, f"control character in {short(row[bad])}", "printable text")
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
    if order:
        def sort_key(i):
            return tuple((records[i][c] is not None, records[i][c]) for c in order)
        idx_sorted = sorted(range(len(records)), key=sort_key)
        records, lines = [records[i] for i in idx_sorted], [lines[i] for i in idx_sorted]
    return pd.DataFrame.from_records(records, columns=list(schema)), lines


def stamp(path: Path) -> tuple:
    """Cache key part that changes when the file changes (edited copies are re-validated)."""
    try:
        st = path.stat()
        return (st.st_mtime_ns, st.st_size)
    except (OSError, ValueError):
        return (None, None)


def is_number(x) -> bool:
    """A finite number (not a truth value); an integer too large for a float is not."""
    try:
        return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
    except OverflowError:
        return False


# ----------------------------------------------------------------------------- TOML files
def read_toml(path: Path) -> dict:
    """The tables of a TOML data file; a missing or unreadable file, text that is not UTF-8 or
    not TOML is a :class:`DataError` naming the file (and the line, where TOML says it)."""
    content = read_text(path)
    try:
        return tomllib.loads(content)
    except (ValueError, RecursionError) as exc:   # TOMLDecodeError; an integer of over 4,300 digits
        m = re.search(r"\(at line (\d+)", str(exc))
        raise DataError(path, int(m.group(1)) if m else None, None,
                        f"not valid TOML: {clip(str(exc) or 'nested too deeply', 200)}") from None


def _join(where: str, key) -> str:
    return f"{where}.{key_name(str(key))}" if where else key_name(str(key))


class Spec:
    """What one value of a TOML file must be: it passes ``test`` (``allowed`` says what that is);
    ``check(path, where, value)`` returns it or raises :class:`DataKeyError` naming the key ``where``."""

    def __init__(self, test: Callable[[Any], Any] = lambda v: True, allowed: str = "a value"):
        self.test, self.allowed = test, allowed

    def check(self, path, where: str, value):
        if not self.test(value):
            raise DataKeyError(path, where or "(file)", f"{short(value)} is not allowed", self.allowed)
        return value


# The Specs of single values; ListOf, Table and MapOf below hold others.
def Num(lo: float | None = None, hi: float | None = None, integer: bool = False, above: bool = False) -> Spec:  # noqa: N802
    """A finite number (``integer``: an integer) from ``lo`` to ``hi`` (``above``: more than ``lo``)."""
    bounds = [f"{'>' if above else '≥'} {lo:g}" if lo is not None else "", f"≤ {hi:g}" if hi is not None else ""]
    return Spec(lambda v: (is_number(v) and (isinstance(v, int) or not integer)
                           and (lo is None or (v > lo if above else v >= lo)) and (hi is None or v <= hi)),
                f"{'an integer' if integer else 'a finite number'} {' and '.join(b for b in bounds if b)}".strip())


def Text(pattern: str | None = None, what: str | None = None) -> Spec:  # noqa: N802
    """A non-empty string (``pattern``: matching this regular expression, described by ``what``)."""
    rx = re.compile(pattern) if pattern else None
    return Spec(lambda v: isinstance(v, str) and v.strip() and (rx is None or rx.fullmatch(v)), what or "a non-empty string")


def Flag() -> Spec:  # noqa: N802
    return Spec(lambda v: isinstance(v, bool), "true or false")


def OneOf(values) -> Spec:  # noqa: N802
    values = tuple(values)
    return Spec(lambda v: isinstance(v, str) and v in values, ", ".join(repr(v) for v in values))


class ListOf(Spec):
    """A list of ``lo`` to ``hi`` items, each an ``item``."""

    def __init__(self, item: Spec, lo: int = 1, hi: int = 100_000):
        self.item, self.lo, self.hi = item, lo, hi
        self.allowed = f"a list of {lo} to {hi} items, each {item.allowed}"

    def check(self, path, where, value):
        if not isinstance(value, list) or not self.lo <= len(value) <= self.hi:
            raise DataKeyError(path, where, f"{short(value)} is not allowed", self.allowed)
        for i, x in enumerate(value):
            self.item.check(path, f"{where}[{i}]", x)
        return value


class Table(Spec):
    """A table with exactly the keys of ``fields`` (those in ``optional`` may be left out), and
    any key matching ``extra = (pattern, what, spec)``."""

    def __init__(self, fields: dict[str, Spec], optional=(), extra: tuple[str, str, Spec] | None = None):
        self.fields, self.optional = dict(fields), frozenset(optional)
        self.extra = (re.compile(extra[0]), extra[1], extra[2]) if extra else None
        self.allowed = f"a table of {', '.join(self.fields)}"

    def check(self, path, where, value):
        if not isinstance(value, dict):
            raise DataKeyError(path, where or "(file)", f"{short(value)} is not a table", self.allowed)
        for k, v in value.items():
            if k in self.fields:
                self.fields[k].check(path, _join(where, k), v)
            elif self.extra is not None and self.extra[0].fullmatch(k):
                self.extra[2].check(path, _join(where, k), v)
            else:
                raise DataKeyError(path, _join(where, k), "unknown key",
                                   ", ".join(list(self.fields) + ([self.extra[1]] if self.extra else [])) or "no keys")
        for k, spec in self.fields.items():
            if k not in value and k not in self.optional:
                raise DataKeyError(path, _join(where, k), "missing", spec.allowed)
        return value


class MapOf(Spec):
    """A table of at least ``lo`` keys of any name (``keys``: a Spec each meets), each value a ``value``."""

    def __init__(self, value: Spec, keys: Spec | None = None, lo: int = 1):
        self.value, self.keys, self.lo = value, keys, lo
        self.allowed = f"a table of at least {lo} keys, each {value.allowed}"

    def check(self, path, where, value):
        if not isinstance(value, dict) or len(value) < self.lo:
            raise DataKeyError(path, where or "(file)", f"{short(value)} is not allowed", self.allowed)
        for k, v in value.items():
            if self.keys is not None and not self.keys.test(k):
                raise DataKeyError(path, _join(where, k), f"key {short(k)} is not allowed", self.keys.allowed)
            self.value.check(path, _join(where, k), v)
        return value
