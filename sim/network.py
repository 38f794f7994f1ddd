"""The collaboration graph: weighted firm–firm and firm–university links that form and decay.

Links are kept as edge arrays (the hot path: one sparse product per quarter carries knowledge
and imitation along them). ``district_graph`` aggregates them into the networkx graph of the
few actors — 38 districts, universities and the leading firms — that the model exposes as
``model.graph``; ``firm_graph`` builds the full firm-level networkx graph on demand.
"""

from __future__ import annotations

import contextlib

import networkx as nx
import numpy as np
import scipy.sparse as sp

from .jit import kernel

LINK_KINDS = ("local", "industry", "consortium", "paired", "sichuan_chongqing")
MIN_WEIGHT = 0.15  # a link whose weight decays below this is dropped


def _grouped_twin(keys: np.ndarray, alive: np.ndarray, n_groups: int):
    rows = np.flatnonzero(alive)
    order = rows[np.argsort(keys[rows], kind="stable")]
    counts = np.bincount(keys[rows], minlength=n_groups)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    return order, starts, counts


@kernel(_grouped_twin)
def _grouped(keys, alive, n_groups):
    """The rows where ``alive`` holds, sorted by key (ascending rows within a key: a stable
    counting sort), with start offsets and counts per key, for O(1) random picks."""
    counts = np.zeros(n_groups, np.int64)
    for i in range(len(keys)):
        if alive[i]:
            counts[keys[i]] += 1
    starts = np.zeros(n_groups, np.int64)
    for g in range(1, n_groups):
        starts[g] = starts[g - 1] + counts[g - 1]
    order = np.empty(counts.sum(), np.int64)
    fill = starts.copy()
    for i in range(len(keys)):
        if alive[i]:
            order[fill[keys[i]]] = i
            fill[keys[i]] += 1
    return order, starts, counts


def _pick(group: np.ndarray, grouped, rng) -> np.ndarray:
    """One random row from each requested group (-1 where the group is empty)."""
    order, starts, counts = grouped
    c = counts[group]
    out = np.full(len(group), -1, dtype=np.int64)
    ok = c > 0
    out[ok] = order[starts[group[ok]] + (rng.random(ok.sum()) * c[ok]).astype(np.int64)]
    return out


def _decay_twin(src, dst, w, kind, m, factor, alive):
    w[:m] *= factor
    keep = np.flatnonzero((w[:m] >= MIN_WEIGHT) & alive[src[:m]] & alive[dst[:m]])
    for a in (src, dst, w, kind):
        a[: len(keep)] = a[keep]
    return len(keep)


@kernel(_decay_twin)
def _decay(src, dst, w, kind, m, factor, alive):
    """Weights decay in place; links too weak or with an exited end are squeezed out, the rest
    keep their order. Returns the number kept."""
    k = 0
    for e in range(m):
        we = w[e] * factor
        if we >= MIN_WEIGHT and alive[src[e]] and alive[dst[e]]:
            src[k], dst[k], w[k], kind[k] = src[e], dst[e], we, kind[e]
            k += 1
    return k


def _decay_univ_twin(firm, univ, w, m, factor, alive):
    w[:m] *= factor
    keep = np.flatnonzero((w[:m] >= MIN_WEIGHT) & alive[firm[:m]])
    for a in (firm, univ, w):
        a[: len(keep)] = a[keep]
    return len(keep)


@kernel(_decay_univ_twin)
def _decay_univ(firm, univ, w, m, factor, alive):
    k = 0
    for e in range(m):
        we = w[e] * factor
        if we >= MIN_WEIGHT and alive[firm[e]]:
            firm[k], univ[k], w[k] = firm[e], univ[e], we
            k += 1
    return k


def _room(arrays: list, used: int, need: int) -> list:
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


class CollaborationGraph:
    def __init__(self, n_districts: int, n_universities: int, partners: list[list[int]]):
        self.n_districts, self.n_universities = n_districts, n_universities
        self.partners = partners  # per district: indices of paired districts
        # The same partners as a table, for drawing them without a Python loop per link.
        self._n_partners = np.array([len(p) for p in partners], np.int64)
        self._partner_table = np.zeros((n_districts, max(1, self._n_partners.max(initial=0))), np.int64)
        for d, p in enumerate(partners):
            self._partner_table[d, : len(p)] = p
        # Links live in arrays with room to grow; src, dst, w, kind (and u_firm, u_univ, u_w for
        # university links) are views of the part in use.
        self._links = [np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float64), np.zeros(0, np.int8)]
        self._ulinks = [np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float64)]
        self.m = self.mu = 0
        self._views()
        self._groups = None
        self._A = None
        self._U = None

    def _views(self):
        self.src, self.dst, self.w, self.kind = (a[: self.m] for a in self._links)
        self.u_firm, self.u_univ, self.u_w = (a[: self.mu] for a in self._ulinks)

    # ---- formation and decay ----------------------------------------------------------------
    @contextlib.contextmanager
    def forming(self):
        """Links formed inside share one grouping of the live firms (no firm enters or exits
        while links form)."""
        self._groups = {}
        try:
            yield
        finally:
            self._groups = None

    def _grouping(self, pop, by: str, leaders: bool = True):
        key = (by, leaders)
        if self._groups is not None and key in self._groups:
            return self._groups[key]
        n_groups = self.n_districts if by == "district" else 10
        alive = pop.col("alive") if leaders else pop.col("alive") & ~pop.col("leader")
        g = _grouped(pop.col(by), alive, n_groups)
        if self._groups is not None:
            self._groups[key] = g
        return g

    def _append(self, src, dst, kind, weight=1.0):
        keep = (dst >= 0) & (src != dst)
        src, dst = src[keep], dst[keep]
        kind = kind[keep] if isinstance(kind, np.ndarray) else kind
        m, k = self.m, len(src)
        self._links = _room(self._links, m, m + k)
        s, d, w, kd = self._links
        s[m:m + k], d[m:m + k], w[m:m + k], kd[m:m + k] = src, dst, weight, kind
        self.m += k
        self._views()
        self._A = None
        return k

    def form_firm_links(self, pop, n_new: int, rng, local_share: float, paired_share: float,
                        sc_share: float, border: np.ndarray) -> int:
        """``n_new`` links from random live firms: to a firm of the same district (proximity),
        of a paired district (对口协同), of a Sichuan–Chongqing border district (川渝毗邻), or of
        the same industry direction anywhere in the city."""
        if n_new <= 0:
            return 0
        by_d = self._grouping(pop, "district")
        if len(by_d[0]) < 2:
            return 0
        alive = np.flatnonzero(pop.col("alive"))
        by_i = self._grouping(pop, "industry")
        district, industry = pop.col("district"), pop.col("industry")
        src = alive[rng.integers(0, len(alive), n_new)]
        d_src = district[src].astype(np.int64)
        u = rng.random(n_new)
        dst = np.full(n_new, -1, np.int64)
        kind = np.zeros(n_new, np.int8)

        local = u < local_share
        dst[local] = _pick(d_src[local], by_d, rng)

        paired = ~local & (self._n_partners[d_src] > 0) & (u < local_share + paired_share)
        if paired.any():
            d = d_src[paired]
            k = rng.integers(0, 1 << 30, len(d))
            dst[paired] = _pick(self._partner_table[d, k % self._n_partners[d]], by_d, rng)
            kind[paired] = LINK_KINDS.index("paired")

        border_ids = np.flatnonzero(border)
        sc = ~local & ~paired & border[d_src] & (u < local_share + paired_share + sc_share)
        if sc.any() and len(border_ids) > 1:
            dst[sc] = _pick(border_ids[rng.integers(0, len(border_ids), sc.sum())], by_d, rng)
            kind[sc] = LINK_KINDS.index("sichuan_chongqing")

        rest = ~local & ~paired & ~sc
        dst[rest] = _pick(industry[src[rest]].astype(np.int64), by_i, rng)
        kind[rest] = LINK_KINDS.index("industry")
        by_kind = np.argsort(kind, kind="stable")  # stored kind after kind
        return self._append(src[by_kind], dst[by_kind], kind[by_kind])

    def form_consortium_links(self, pop, leaders: np.ndarray, per_leader: int, rng) -> int:
        """Each leading firm links ``per_leader`` live firms of its industry direction."""
        if per_leader <= 0 or len(leaders) == 0:
            return 0
        by_i = self._grouping(pop, "industry", leaders=False)
        src = np.repeat(leaders, per_leader)
        dst = _pick(pop.col("industry").astype(np.int64)[src], by_i, rng)
        return self._append(src, dst, LINK_KINDS.index("consortium"), weight=2.0)

    def form_university_links(self, pop, univ_district: np.ndarray, per_university: int, rng,
                              local_share: float) -> int:
        """Universities link firms: mostly in their host district, otherwise anywhere."""
        if per_university <= 0 or len(univ_district) == 0:
            return 0
        by_d = self._grouping(pop, "district")
        if len(by_d[0]) == 0:
            return 0
        alive = np.flatnonzero(pop.col("alive"))
        univ = np.repeat(np.arange(len(univ_district)), per_university)
        local = rng.random(len(univ)) < local_share
        firm = np.where(local, _pick(univ_district[univ], by_d, rng), alive[rng.integers(0, len(alive), len(univ))])
        ok = firm >= 0
        m, k = self.mu, int(ok.sum())
        self._ulinks = _room(self._ulinks, m, m + k)
        f, un, w = self._ulinks
        f[m:m + k], un[m:m + k], w[m:m + k] = firm[ok], univ[ok], 1.0
        self.mu += k
        self._views()
        self._U = None
        return k

    def decay(self, pop, rate: float, dt: float) -> None:
        """Weights decay; links of exited firms and links too weak to matter are dropped."""
        alive = pop.col("alive")
        factor = np.exp(-rate * dt)
        self.m = _decay(*self._links, self.m, factor, alive)
        self.mu = _decay_univ(*self._ulinks, self.mu, factor, alive)
        self._views()
        self._A = self._U = None

    # ---- sparse operators -------------------------------------------------------------------
    def firm_matrix(self, n: int) -> sp.csr_matrix:
        """Symmetric firm×firm weight matrix (cached, with its row sums, until the links change)."""
        if self._A is None or self._A.shape[0] != n:
            rows = np.concatenate((self.src, self.dst))
            cols = np.concatenate((self.dst, self.src))
            vals = np.concatenate((self.w, self.w))
            self._A = sp.csr_matrix((vals, (rows, cols)), shape=(n, n))
            self._A_degree = np.bincount(rows, weights=vals, minlength=n)
        return self._A

    def university_matrix(self, n: int) -> sp.csr_matrix:
        if self._U is None or self._U.shape[0] != n:
            self._U = sp.csr_matrix((self.u_w, (self.u_firm, self.u_univ)), shape=(n, self.n_universities))
            self._U_degree = np.bincount(self.u_firm, weights=self.u_w, minlength=n)
        return self._U

    def neighbour_mean(self, n: int, firm_values: np.ndarray, univ_values: np.ndarray | None = None):
        """Weighted mean of the values at each firm's contacts, and each firm's total link weight."""
        total = self.firm_matrix(n) @ firm_values
        degree = self._A_degree
        if univ_values is not None and self.n_universities:
            total += self.university_matrix(n) @ univ_values
            degree = degree + self._U_degree
        return total / np.maximum(degree, 1e-12), degree

    # ---- views ------------------------------------------------------------------------------
    def district_links(self, pop) -> np.ndarray:
        """District×district matrix of summed link weights (firm links aggregated)."""
        d = pop.col("district").astype(np.int64)
        M = np.zeros((self.n_districts, self.n_districts))
        np.add.at(M, (d[self.src], d[self.dst]), self.w)
        return M + M.T - np.diag(np.diag(M))

    def district_strength(self, pop, univ_district: np.ndarray, scale: float) -> np.ndarray:
        """District × district collaboration strength in real-firm link equivalents: firm links
        between districts plus university links credited to the university's district (links
        within a district are left out). The one view of the network that the app's map, the
        report's map and the results' link table all show."""
        M = self.district_links(pop)
        d = pop.col("district").astype(np.int64)
        U = np.zeros_like(M)
        np.add.at(U, (univ_district[self.u_univ], d[self.u_firm]), self.u_w)
        M = M + U + U.T
        np.fill_diagonal(M, 0.0)
        return M / scale

    def kind_weights(self) -> dict:
        return {k: float(self.w[self.kind == i].sum()) for i, k in enumerate(LINK_KINDS)}

    def district_graph(self, pop, districts, universities, leaders, paired_pairs) -> nx.Graph:
        """networkx graph of districts, universities and leading firms with aggregated links."""
        G = nx.Graph()
        for i, row in enumerate(districts.itertuples(index=False)):
            G.add_node(("district", row.adcode), kind="district", index=i, adcode=row.adcode,
                       name_zh=row.name_zh, group=row.group, pos=(row.lon, row.lat))
        M = self.district_links(pop)
        codes = list(districts["adcode"])
        paired = {frozenset(p) for p in paired_pairs}
        for a in range(self.n_districts):
            G.nodes[("district", codes[a])]["internal_weight"] = float(M[a, a])
            for b in range(a + 1, self.n_districts):
                if M[a, b] > 0 or frozenset((a, b)) in paired:
                    G.add_edge(("district", codes[a]), ("district", codes[b]), weight=float(M[a, b]),
                               paired=frozenset((a, b)) in paired)
        d = pop.col("district").astype(np.int64)
        for j, u in enumerate(universities):
            node = ("university", u.name_zh)
            G.add_node(node, kind="university", name_zh=u.name_zh, district=u.district_index)
            w = np.bincount(d[self.u_firm[self.u_univ == j]], weights=self.u_w[self.u_univ == j],
                            minlength=self.n_districts)
            for k in np.flatnonzero(w):
                G.add_edge(node, ("district", codes[k]), weight=float(w[k]), paired=False)
        for i, lead in zip(leaders["row"], leaders["name_zh"]):
            node = ("leader", lead)
            G.add_node(node, kind="leader", name_zh=lead, district=int(d[i]))
            m = (self.src == i) | (self.dst == i)
            other = np.where(self.src[m] == i, self.dst[m], self.src[m])
            w = np.bincount(d[other], weights=self.w[m], minlength=self.n_districts)
            for k in np.flatnonzero(w):
                G.add_edge(node, ("district", codes[k]), weight=float(w[k]), paired=False)
        return G

    def firm_graph(self, pop) -> nx.Graph:
        """The full firm-level graph (live firms as nodes), built on demand."""
        G = nx.Graph()
        alive = np.flatnonzero(pop.col("alive"))
        G.add_nodes_from((int(i), {"district": int(pop.district[i]), "industry": int(pop.industry[i])}) for i in alive)
        G.add_weighted_edges_from(zip(self.src.tolist(), self.dst.tolist(), self.w.tolist()))
        return G
