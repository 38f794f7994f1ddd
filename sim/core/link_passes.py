"""Compiled passes over the links of the collaboration graph (``sim/core/network.py``), each with
its numpy twin: the grouping of live firms that link targets are drawn from, the draws of the
targets, decay, the sums of what firms see through their links and the reporters' totals.
See ``sim/util/jit.py`` for what keeps a kernel and its twin bit-identical.
"""

from __future__ import annotations

import numpy as np

from ..util.draws import uniform
from ..util.jit import grouped_rows_twin as _grouped_twin, kernel, seqsum


def regrouped_twin(order, starts, counts, keys, alive, since, n_groups):
    return _grouped_twin(keys, alive, n_groups)


@kernel(regrouped_twin)
def regrouped(order, starts, counts, keys, alive, since, n_groups):
    """The grouping ``_grouped`` gives now, from the one it gave when the population had
    ``since`` rows: the rows then in use are filtered by ``alive`` and the newer rows appended,
    which is the same as grouping afresh as long as no exited firm comes back."""
    new_counts = np.zeros(n_groups, np.int64)
    for g in range(n_groups):
        for j in range(starts[g], starts[g] + counts[g]):
            new_counts[g] += alive[order[j]]
    for i in range(since, len(keys)):
        new_counts[keys[i]] += alive[i]
    new_starts = np.zeros(n_groups, np.int64)
    for g in range(1, n_groups):
        new_starts[g] = new_starts[g - 1] + new_counts[g - 1]
    new_order = np.empty(new_counts.sum(), np.int64)
    fill = new_starts.copy()
    for g in range(n_groups):
        k = fill[g]
        for j in range(starts[g], starts[g] + counts[g]):
            new_order[k] = order[j]
            k += alive[order[j]]
        fill[g] = k
    for i in range(since, len(keys)):
        if alive[i]:
            new_order[fill[keys[i]]] = i
            fill[keys[i]] += 1
    return new_order, new_starts, new_counts


# Categories of new firm links while their targets are drawn (stored as network.LINK_KINDS codes after).
# The two kernels below have no twin of their own: without numba, form_firm_links draws the
# same targets with array operations.
LOCAL, INDUSTRY, PAIRED, BORDER, NO_BORDER = 0, 1, 3, 4, 5


@kernel(None)
def local_targets(rng, u, d_src, n_partners, border, local_share, paired_share, sc_share, order, starts, counts,
                   category, dst):
    """Sort new links into local, paired, border and same-industry ones by their uniform ``u``
    (as form_firm_links' masks do) and draw the local ones' targets, one uniform per link whose
    district has live firms, in link order. Returns the numbers of paired and border links."""
    hi, lo, inc_hi, inc_lo = rng[0], rng[1], rng[2], rng[3]
    n_paired = n_border = 0
    for j in range(len(u)):
        d = d_src[j]
        if u[j] < local_share:
            category[j] = LOCAL
            c = counts[d]
            if c > 0:
                hi, lo, v = uniform(hi, lo, inc_hi, inc_lo)
                dst[j] = order[starts[d] + np.int64(v * c)]
        elif n_partners[d] > 0 and u[j] < local_share + paired_share:
            category[j] = PAIRED
            n_paired += 1
        elif border[d] and u[j] < local_share + paired_share + sc_share:
            category[j] = BORDER
            n_border += 1
        else:
            category[j] = INDUSTRY
    rng[0], rng[1] = hi, lo
    return n_paired, n_border


@kernel(None)
def grouped_targets(rng, which, groups, category, order, starts, counts, dst):
    """Targets of the links of one category, in link order: a uniform pick from the live firms of
    the group ``groups[k]`` given for the k-th such link (one uniform per link whose group has
    live firms)."""
    hi, lo, inc_hi, inc_lo = rng[0], rng[1], rng[2], rng[3]
    k = 0
    for j in range(len(category)):
        if category[j] == which:
            g = groups[k]
            k += 1
            c = counts[g]
            if c > 0:
                hi, lo, v = uniform(hi, lo, inc_hi, inc_lo)
                dst[j] = order[starts[g] + np.int64(v * c)]
    rng[0], rng[1] = hi, lo


def pick(group: np.ndarray, grouped, rng) -> np.ndarray:
    """One random row from each requested group (-1 where the group is empty)."""
    order, starts, counts = grouped
    c = counts[group]
    out = np.full(len(group), -1, dtype=np.int64)
    ok = c > 0
    out[ok] = order[starts[group[ok]] + (rng.random(ok.sum()) * c[ok]).astype(np.int64)]
    return out


def decay_twin(src, dst, w, kind, code, m, factor, alive, min_weight):
    w[:m] *= factor
    keep = np.flatnonzero((w[:m] >= min_weight) & alive[src[:m]] & alive[dst[:m]])
    for a in (src, dst, w, kind, code):
        a[: len(keep)] = a[keep]
    return len(keep)


@kernel(decay_twin)
def decay(src, dst, w, kind, code, m, factor, alive, min_weight):
    """Weights decay in place; links too weak or with an exited end are squeezed out, the rest
    keep their order. Returns the number kept."""
    k = 0
    for e in range(m):
        we = w[e] * factor
        if we >= min_weight and alive[src[e]] and alive[dst[e]]:
            src[k], dst[k], w[k], kind[k], code[k] = src[e], dst[e], we, kind[e], code[e]
            k += 1
    return k


def decay_univ_twin(firm, univ, w, m, factor, alive, min_weight):
    w[:m] *= factor
    keep = np.flatnonzero((w[:m] >= min_weight) & alive[firm[:m]])
    for a in (firm, univ, w):
        a[: len(keep)] = a[keep]
    return len(keep)


@kernel(decay_univ_twin)
def decay_univ(firm, univ, w, m, factor, alive, min_weight):
    k = 0
    for e in range(m):
        we = w[e] * factor
        if we >= min_weight and alive[firm[e]]:
            firm[k], univ[k], w[k] = firm[e], univ[e], we
            k += 1
    return k


def contact_sums_twin(src, dst, w, table):
    n = len(table)
    rows, cols, w2 = np.stack((src, dst), 1).ravel(), np.stack((dst, src), 1).ravel(), np.repeat(w, 2)
    table[:, 2] += np.bincount(rows, weights=w2 * table[cols, 0], minlength=n)
    table[:, 3] += np.bincount(rows, weights=w2 * table[cols, 1], minlength=n)
    table[:, 4] += np.bincount(rows, weights=w2, minlength=n)


@kernel(contact_sums_twin)
def contact_sums(src, dst, w, table):
    """One pass over the links, adding to both ends, into the three sums (zeroed by the
    caller). A firm's two values and its three sums share one row of the table, so each end
    of a link costs one cache line rather than two (the pass waits on memory; the indices are
    32-bit for the same reason)."""
    for e in range(len(src)):
        s, d, we = src[e], dst[e], w[e]
        vs0, vs1, vd0, vd1 = table[s, 0], table[s, 1], table[d, 0], table[d, 1]
        table[s, 2] += we * vd0
        table[s, 3] += we * vd1
        table[s, 4] += we
        table[d, 2] += we * vs0
        table[d, 3] += we * vs1
        table[d, 4] += we


def university_sums_twin(firm, univ, w, univ_values, out):
    n = len(out)
    out[:, 0] = np.bincount(firm, weights=w * univ_values[univ], minlength=n)
    out[:, 1] = np.bincount(firm, weights=w, minlength=n)


@kernel(university_sums_twin)
def university_sums(firm, univ, w, univ_values, out):
    out[:] = 0.0
    for e in range(len(firm)):
        f, we = firm[e], w[e]
        out[f, 0] += we * univ_values[univ[e]]
        out[f, 1] += we


# A link's code: whether it joins a cluster district and one outside (bit 0) and whether its
# first or second end is a leading firm (bits 1 and 2), fixed when it forms (districts and
# leading firms never change), so the reporters' pass over the links reads no firm.
CROSS, SRC_LEADER, DST_LEADER = 1, 2, 4


def link_codes(src, dst, district, cluster, leader) -> np.ndarray:
    return ((cluster[district[src]] != cluster[district[dst]]) * CROSS + leader[src] * SRC_LEADER
            + leader[dst] * DST_LEADER).astype(np.uint8)


def link_totals_twin(src, dst, w, kind, code, weight, marks, kinds):
    for k in range(len(kinds)):
        kinds[k] = seqsum(w * (kind == k))
    members = np.unique(np.concatenate((dst[(code & SRC_LEADER) > 0], src[(code & DST_LEADER) > 0])))
    return seqsum(w), seqsum(w * (code & CROSS)), seqsum(weight[members])


@kernel(link_totals_twin)
def link_totals(src, dst, w, kind, code, weight, marks, kinds):
    """One pass over the links: their total weight, the weight between the clusters and the
    rest, the weight of each kind (into ``kinds``) and the weight of the firms linked to a
    leading firm (``marks``: a false flag per firm, left false)."""
    total = cross = 0.0
    kinds[:] = 0.0
    run, of_kind = 0, 0.0   # links are stored kind after kind: the current kind's sum stays in a register
    for e in range(len(src)):
        we, c, k = w[e], code[e], kind[e]
        total += we
        cross += we * (c & CROSS)
        if k != run:
            kinds[run] = of_kind
            of_kind = kinds[k]
            run = k
        of_kind += we
        if c & (SRC_LEADER | DST_LEADER):       # rare: a branch, not a write per link
            if c & SRC_LEADER:
                marks[dst[e]] = True
            if c & DST_LEADER:
                marks[src[e]] = True
    kinds[run] = of_kind
    reach = 0.0
    for i in range(len(marks)):
        reach += weight[i] * marks[i]
        marks[i] = False
    return total, cross, reach


def room(arrays: list, used: int, need: int) -> list:
    """The arrays, reallocated (doubling) if ``need`` rows do not fit."""
    if need <= len(arrays[0]):
        return arrays
    cap = max(2 * len(arrays[0]), need, 1024)
    grown = []
    for a in arrays:
        b = np.zeros(cap, a.dtype)
        b[:used] = a[:used]
        grown.append(b)
    return grown


def pair_sums_twin(a, b, w, a_group, b_group, out):
    np.add.at(out, (a_group[a].astype(np.int64), b_group[b].astype(np.int64)), w)


@kernel(pair_sums_twin)
def pair_sums(a, b, w, a_group, b_group, out):
    """Adds each link's weight to ``out`` at its ends' groups (``a_group`` of its first end,
    ``b_group`` of its second), in link order as ``np.add.at`` adds: the district views of the
    graph without gathering every link's districts into arrays first."""
    for e in range(len(a)):
        out[a_group[a[e]], b_group[b[e]]] += w[e]


def _renumbered_twin(remap, rows):
    rows[:] = remap[rows]


@kernel(_renumbered_twin)
def renumbered(remap, rows):
    """Each row in ``rows`` replaced by its new number, in place."""
    for j in range(len(rows)):
        rows[j] = remap[rows[j]]
