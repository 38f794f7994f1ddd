"""The enterprise population: one row per firm in numpy arrays, updated with vectorised operations.

Tens of thousands of firms are the hot path of the model, so they are not Mesa agents. Each
row is a firm (or, below scale 1.0, a firm standing for ``1/scale`` real ones, its ``weight``);
an :class:`Enterprise` is a light read-only view of one row for inspection and the app.
A firm that exits keeps its row (``alive`` is False) until the links have let go of it; then
the population is compacted (``FirmPopulation.compact``) so that the passes run over live rows.
"""

from __future__ import annotations

import numpy as np

from ..params.constants import CERT_RD_BANDS, INDUSTRY_DIRECTIONS
from ..util.jit import NUMBA, inline, kernel, seqsum

# Columns and their dtypes; every array has the same length (the capacity).
COLUMNS = {
    "district": np.int16, "industry": np.int8, "weight": np.float64,
    "revenue": np.float64,         # million yuan per year
    "rd_base": np.float64,         # R&D intensity the firm would choose at 2022 prices
    "rd_rate": np.float64,         # current R&D / revenue
    "rd": np.float64,              # R&D spending, million yuan per year
    "knowledge": np.float64,       # knowledge stock, million yuan of R&D equivalent
    "patents": np.float64,         # stock of granted patents (IP)
    "age": np.float64,             # years
    "born": np.int32,              # model step of entry (0 for the start population)
    "alive": np.bool_, "registered": np.bool_, "certified": np.bool_,
    "cert_expiry": np.int32,       # model step at which the certificate lapses unless renewed
    "specialised": np.bool_, "listed": np.bool_, "leader": np.bool_,
    "in_zone": np.bool_, "on_list": np.bool_,
    "loan": np.float64, "loan_due": np.int32,   # outstanding knowledge-value loan
    "equity": np.float64,                       # fund-of-funds equity at cost
    "subsidy": np.float64,                      # subsidy received last quarter, million yuan
}

# Perpetual-inventory start of knowledge stocks, K = R&D / (g + depreciation): knowledge taken to
# have grown about 10 %/yr before the start (and for entrants, before they entered).
KNOWLEDGE_GROWTH_START = 0.10

STATUS_NAMES = ("exited", "candidate", "tech-based SME", "high-tech (certified)", "专精特新", "listed")


# What a programme's term may depend on: a firm's class. Terms are evaluated once per class (a
# FirmClasses table), not per firm, and the firm processes look each firm's class up.
CLASS_ATTRIBUTES = ("district", "industry", "registered", "certified", "on_list", "specialised", "leader",
                    "has_loan", "has_equity")


class FirmClasses:
    """Every combination of some class attributes, one row each, as columns named like the
    population's (``has_loan`` and ``has_equity`` say whether a loan or stake is held): what
    the programmes' terms are evaluated on. ``strides`` gives each attribute's step in the
    row number (zero for attributes the classes do not distinguish)."""

    def __init__(self, attributes: tuple[str, ...], n_districts: int, process: str = ""):
        unknown = set(attributes) - set(CLASS_ATTRIBUTES)
        if unknown:
            raise KeyError(f"not a class attribute: {sorted(unknown)}; choose from {CLASS_ATTRIBUTES}")
        sizes = [n_districts if a == "district" else len(INDUSTRY_DIRECTIONS) if a == "industry" else 2
                 for a in attributes]
        grid = np.indices(sizes).reshape(len(sizes), -1) if sizes else np.zeros((0, 1), np.int64)
        self.attributes, self.process = attributes, process
        self.n = grid.shape[1]
        self._cols = {a: (g.astype(np.int64) if a in ("district", "industry") else g.astype(bool))
                      for a, g in zip(attributes, grid)}
        step, self.strides = 1, np.zeros(len(CLASS_ATTRIBUTES), np.int64)
        for a, size in reversed(list(zip(attributes, sizes))):
            self.strides[CLASS_ATTRIBUTES.index(a)] = step
            step *= size
        self.key = tuple(int(x) for x in self.strides)   # the strides as the kernels take them

    def col(self, name: str) -> np.ndarray:
        if name not in self._cols:
            raise KeyError(f"the terms of {self.process or 'this process'} depend on a firm's "
                           f"{', '.join(self.attributes)} only; {name!r} is not one of them")
        return self._cols[name]

    def __repr__(self):
        return f"FirmClasses({', '.join(self.attributes)}: {self.n} classes)"


@inline
def _cell(strides, district, industry, registered, certified, on_list, specialised, leader, loan, equity):
    # scalars only: a compiled helper that takes arrays pays a reference count per call
    c = (strides[0] * district + strides[1] * industry + strides[2] * registered + strides[3] * certified
         + strides[4] * on_list + strides[5] * specialised + strides[6] * leader)
    if strides[7]:
        c += strides[7] * (loan > 0)
    if strides[8]:
        c += strides[8] * (equity > 0)
    return c


def _class_rows_twin(strides, cols, out):
    c = strides[0] * cols[0].astype(np.int64) + strides[1] * cols[1].astype(np.int64)
    for s, flag in zip(strides[2:7], cols[2:7]):
        if s:
            c += s * flag
    for s, amount in zip(strides[7:], cols[7:]):
        if s:
            c += s * (amount > 0)
    out[:] = c


@kernel(_class_rows_twin)
def _class_rows(strides, cols, out):
    k0, k1, k2, k3, k4, k5, k6, k7, k8 = cols
    for i in range(len(out)):
        out[i] = _cell(strides, k0[i], k1[i], k2[i], k3[i], k4[i], k5[i], k6[i], k7[i], k8[i])


def cert_threshold(revenue: np.ndarray) -> np.ndarray:
    """R&D intensity required for high-tech certification at this revenue (three bands)."""
    out = np.full(revenue.shape, CERT_RD_BANDS[-1][1])
    for upper, rate in reversed(CERT_RD_BANDS[:-1]):
        out[revenue <= upper] = rate
    return out


# The most sums one pass of _district_sums takes (more are split into passes of this many).
SUMS_PER_PASS = 5


def _district_sums_twin(district, weight, alive, masks, values, n_districts, k=None):
    return np.stack([np.bincount(district, weights=weight * alive * m * v, minlength=n_districts)
                     for m, v in zip(masks, values)])


@kernel(_district_sums_twin)
def _district_sums(district, weight, alive, masks, values, n_districts, k):
    """The first ``k`` (at most five) of five weighted per-district sums over live rows, in one
    pass. Each adds its rows in row order, as ``bincount`` does, so both give the same bits.
    Rows come district by district (the start population, each quarter's entrants), so the
    running sums of the current district are kept in registers and written back when the
    district changes: a sum then waits on an addition, not on a store and a load of the same
    memory. The tests of ``k`` go the same way on every row (the branch costs nothing)."""
    out = np.zeros((5, n_districts))
    m0, m1, m2, m3, m4 = masks
    v0, v1, v2, v3, v4 = values
    run = 0
    s0 = s1 = s2 = s3 = s4 = 0.0
    for i in range(len(district)):
        d = district[i]
        if d != run:
            out[0, run], out[1, run], out[2, run], out[3, run], out[4, run] = s0, s1, s2, s3, s4
            s0, s1, s2, s3, s4 = out[0, d], out[1, d], out[2, d], out[3, d], out[4, d]
            run = d
        a = weight[i] * alive[i]
        s0 += a * m0[i] * v0[i]
        if k > 1:
            s1 += a * m1[i] * v1[i]
            if k > 2:
                s2 += a * m2[i] * v2[i]
                s3 += a * m3[i] * v3[i] if k > 3 else 0.0
                s4 += a * m4[i] * v4[i] if k > 4 else 0.0
    out[0, run], out[1, run], out[2, run], out[3, run], out[4, run] = s0, s1, s2, s3, s4
    return out


def _status_totals_twin(alive, registered, specialised, listed, knowledge, weight):
    w = weight * alive
    return seqsum(w * ~registered), seqsum(w * specialised), seqsum(w * listed), seqsum(knowledge * weight * alive)


@kernel(_status_totals_twin)
def _status_totals(alive, registered, specialised, listed, knowledge, weight):
    candidates = spec = lst = k = 0.0
    for i in range(len(alive)):
        w = weight[i] * alive[i]
        candidates += w * (not registered[i])
        spec += w * specialised[i]
        lst += w * listed[i]
        k += knowledge[i] * weight[i] * alive[i]
    return candidates, spec, lst, k


def _squeeze_twin(live, cols):
    for a in cols:
        a[: len(live)] = a[live]


@kernel(_squeeze_twin)
def _squeeze(live, cols):
    """Move rows ``live`` (ascending) to the front of each column, in order (columns of one
    dtype). In place: row j is read from ``live[j]`` >= j before it is overwritten."""
    for a in cols:
        for j in range(len(live)):
            a[j] = a[live[j]]


class FirmPopulation:
    """Firm state as columns of numpy arrays; ``n`` rows are in use."""

    def __init__(self, capacity: int = 1024):
        self.n = 0
        self.exited = np.zeros(0)     # per district: real firms that exited and were compacted away
        self._ones = np.ones(0)
        self._scratch = {}
        for name, dtype in COLUMNS.items():
            setattr(self, name, np.zeros(capacity, dtype=dtype))

    # ---- rows -------------------------------------------------------------------------------
    @property
    def capacity(self) -> int:
        return len(self.alive)

    def add(self, count: int, **values) -> np.ndarray:
        """Append ``count`` rows with the given column values; returns their indices."""
        if count <= 0:
            return np.arange(0)
        if self.n + count > self.capacity:
            new_cap = max(2 * self.capacity, self.n + count)
            for name in COLUMNS:
                old = getattr(self, name)
                grown = np.zeros(new_cap, dtype=old.dtype)
                grown[: self.n] = old[: self.n]
                setattr(self, name, grown)
        rows = slice(self.n, self.n + count)
        self.n += count
        self.alive[rows] = True
        for name, value in values.items():
            getattr(self, name)[rows] = value
        return np.arange(rows.start, rows.stop)

    def compact(self, n_districts: int) -> np.ndarray | None:
        """Drop the rows of exited firms, keeping the live rows in their order (so rows still come
        district by district and the draws of a pass still go in row order). Returns the new row
        of each old row (-1 for a dropped one) for whoever holds rows, or None when no row went.
        Call it only when nothing holds the row of an exited firm (after the links' decay)."""
        n, alive = self.n, self.col("alive")
        live = np.flatnonzero(alive)
        k = len(live)
        if k == n:
            return None
        dead = ~alive
        remap = np.full(n, -1, np.int64)
        remap[live] = np.arange(k)
        if len(self.exited) < n_districts:
            self.exited = np.concatenate((self.exited, np.zeros(n_districts - len(self.exited))))
        self.exited += np.bincount(self.district[:n][dead], weights=self.weight[:n][dead], minlength=len(self.exited))
        by_type = {}
        for name, dtype in COLUMNS.items():
            by_type.setdefault(dtype, []).append(getattr(self, name))
        for cols in by_type.values():
            _squeeze(live, tuple(cols))
            for a in cols:
                a[k:n] = 0          # rows are added onto zeros
        self.n = k
        return remap

    def col(self, name: str) -> np.ndarray:
        """The used part of a column (a view)."""
        return getattr(self, name)[: self.n]

    def scratch(self, name: str, dtype=np.float64, width: int | None = None) -> np.ndarray:
        """A working array of n rows (of ``width`` columns), kept between calls: the compiled
        processes write their intermediate results into memory already in use rather than into
        fresh pages."""
        buf = self._scratch.get(name)
        if buf is None or len(buf) < self.n or buf.dtype != dtype:
            buf = self._scratch[name] = np.zeros(self.capacity if width is None else (self.capacity, width), dtype)
        return buf[: self.n]

    def class_columns(self) -> tuple:
        """The columns a firm's class is read from, in the order of CLASS_ATTRIBUTES (loan and
        equity for has_loan and has_equity)."""
        return tuple(self.col(c) for c in ("district", "industry", "registered", "certified", "on_list",
                                            "specialised", "leader", "loan", "equity"))

    def classes_of(self, classes: FirmClasses) -> np.ndarray:
        """Each firm's row in the ``classes`` table, as the firms stand now (a scratch array:
        read it before the next call)."""
        out = self.scratch("class_rows", np.int32)
        _class_rows(classes.key, self.class_columns(), out)
        return out

    # ---- aggregates -------------------------------------------------------------------------
    def count(self, mask: np.ndarray) -> float:
        """Number of real firms a row mask stands for."""
        return float(self.col("weight")[mask].sum())

    def totals(self) -> dict:
        """What the reporters read of the firms, in one pass: real live firms not registered,
        specialised (专精特新) and listed, and their knowledge stock."""
        c, s, lst, k = _status_totals(*(self.col(x) for x in ("alive", "registered", "specialised", "listed",
                                                              "knowledge", "weight")))
        return dict(candidates=c, specialised=s, listed=lst, knowledge=k)

    def count_sum(self, column: str) -> float:
        """Weighted sum of a column over live firms."""
        return float((self.col(column) * self.col("weight") * self.col("alive")).sum())

    def by_district(self, values: np.ndarray | None, mask: np.ndarray, n_districts: int) -> np.ndarray:
        """Weighted sum per district of ``values`` (or of firm counts when None) over ``mask``."""
        w = self.col("weight") * mask
        if values is not None:
            w = w * values
        return np.bincount(self.col("district"), weights=w, minlength=n_districts)

    def district_sums(self, n_districts: int, *sums) -> np.ndarray:
        """Weighted sums per district over live firms, one row per ``(mask, column)`` pair, in
        one pass: ``mask`` (a column name, a boolean row array or None for all live firms)
        selects the firms, ``column`` (a name, or None to count firms) is what is summed."""
        alive = self.col("alive")
        if len(self._ones) < self.n:
            self._ones = np.ones(max(self.n, 2 * len(self._ones)))   # written pages: the rows in use, not the capacity
        ones = self._ones[: self.n]
        # A missing mask is the live mask again and a count sums ones: multiplying by one is exact.
        masks = [alive if m is None else self.col(m) if isinstance(m, str) else m for m, _ in sums]
        values = [ones if c is None else self.col(c) for _, c in sums]
        k = len(sums)
        if not NUMBA:
            return _district_sums(self.col("district"), self.col("weight"), alive, masks, values, n_districts)
        # Passes of five sums; a pass with fewer is filled up with the live mask and ones, not summed.
        pad = -k % SUMS_PER_PASS
        masks, values = masks + [alive] * pad, values + [ones] * pad
        out = np.concatenate([
            _district_sums(self.col("district"), self.col("weight"), alive, tuple(masks[j:j + SUMS_PER_PASS]),
                           tuple(values[j:j + SUMS_PER_PASS]), n_districts, min(k - j, SUMS_PER_PASS))
            for j in range(0, k + pad, SUMS_PER_PASS)])
        return out[:k]

    def status(self) -> np.ndarray:
        """Ladder position per row: 0 exited, 1 candidate, 2 registered, 3 certified, 4 专精特新, 5 listed."""
        s = np.where(self.col("alive"), 1, 0)
        s = np.where(self.col("alive") & self.col("registered"), 2, s)
        s = np.where(self.col("alive") & self.col("certified"), 3, s)
        s = np.where(self.col("alive") & self.col("specialised"), 4, s)
        return np.where(self.col("alive") & self.col("listed"), 5, s)

    def view(self, i: int) -> "Enterprise":
        return Enterprise(self, int(i))


class Enterprise:
    """Read-only view of one firm row, for inspection (notebooks, the app's detail panel)."""

    __slots__ = ("_pop", "index")

    def __init__(self, pop: FirmPopulation, index: int):
        if not 0 <= index < pop.n:
            raise IndexError(f"no firm row {index}; rows are 0..{pop.n - 1}")
        self._pop, self.index = pop, index

    def __getattr__(self, name):
        if name in COLUMNS:
            return getattr(self._pop, name)[self.index].item()
        raise AttributeError(name)

    @property
    def industry_direction(self) -> str:
        return INDUSTRY_DIRECTIONS[self.industry]

    @property
    def status_name(self) -> str:
        if not self.alive:
            return STATUS_NAMES[0]
        flags = (self.registered, self.certified, self.specialised, self.listed)
        return STATUS_NAMES[1 + max((k + 1 for k, f in enumerate(flags) if f), default=0)]

    def as_dict(self) -> dict:
        d = {name: getattr(self, name) for name in COLUMNS}
        d.update(index=self.index, industry_direction=self.industry_direction, status=self.status_name)
        return d

    def __repr__(self) -> str:
        return (f"Enterprise(#{self.index}, district={self.district}, {self.industry_direction}, "
                f"{self.status_name}, revenue={self.revenue:.1f}M, rd={self.rd:.2f}M)")
