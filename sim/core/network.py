"""The collaboration graph: weighted firm–firm and firm–university links that form and decay.

Links are kept as edge arrays in the order they formed (the hot path: one compiled pass over
them per quarter carries knowledge and imitation along them). ``district_graph`` aggregates them into the networkx graph of the
few actors — 38 districts, universities and the leading firms — that the model exposes as
``model.graph``; ``firm_graph`` builds the full firm-level networkx graph on demand.
"""

from __future__ import annotations

import contextlib

import networkx as nx
import numpy as np
import scipy.sparse as sp

from ..util.draws import stream
from ..util.jit import NUMBA, grouped_rows as _grouped
from .link_passes import (BORDER, INDUSTRY, LOCAL, NO_BORDER, PAIRED, contact_sums, decay, decay_univ, grouped_targets,
                          link_codes, link_totals, local_targets, pair_sums, pick, regrouped, renumbered, room,
                          university_sums)

LINK_KINDS = ("local", "industry", "consortium", "paired", "sichuan_chongqing")
MIN_WEIGHT = 0.15  # a link whose weight decays below this is dropped


class CollaborationGraph:
    def __init__(self, n_districts: int, n_universities: int, partners: list[list[int]], cluster: np.ndarray | None = None):
        self.n_districts, self.n_universities = n_districts, n_universities
        self.cluster = np.zeros(n_districts, bool) if cluster is None else np.asarray(cluster, bool)  # the two clusters' districts
        self.partners = partners  # per district: indices of paired districts
        # The same partners as a table, for drawing them without a Python loop per link.
        self._n_partners = np.array([len(p) for p in partners], np.int64)
        self._partner_table = np.zeros((n_districts, max(1, self._n_partners.max(initial=0))), np.int64)
        for d, p in enumerate(partners):
            self._partner_table[d, : len(p)] = p
        # Links live in arrays with room to grow; src, dst, w, kind (and u_firm, u_univ, u_w for
        # university links) are views of the part in use.
        # 32-bit rows: the passes over the links read half as much.
        self._links = [np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.float64), np.zeros(0, np.int8),
                       np.zeros(0, np.uint8)]
        self._ulinks = [np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.float64)]
        self.m = self.mu = 0
        self._views()
        self._groups = None
        self._last_groups = {}
        self._univ_contacts = np.zeros((0, 2))

    def _views(self):
        self.src, self.dst, self.w, self.kind, self._code = (a[: self.m] for a in self._links)
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
        """Live firms (leading firms too, or not) grouped by district or industry, updated from
        the last grouping of the same kind when the live count confirms that only exits and
        new rows happened since."""
        key = (by, leaders)
        if self._groups is not None and key in self._groups:
            return self._groups[key]
        n_groups = self.n_districts if by == "district" else 10
        alive = pop.col("alive") if leaders else pop.col("alive") & ~pop.col("leader")
        last = self._last_groups.get(key)
        g = None
        if last is not None and last[1] <= pop.n:
            g = regrouped(*last[0], pop.col(by), alive, last[1], n_groups)
            if len(g[0]) != np.count_nonzero(alive):
                g = None
        if g is None:
            g = _grouped(pop.col(by), alive, n_groups)
        self._last_groups[key] = (g, pop.n)
        if self._groups is not None:
            self._groups[key] = g
        return g

    def _append(self, pop, src, dst, kind, weight=1.0):
        keep = (dst >= 0) & (src != dst)
        src, dst = src[keep], dst[keep]
        kind = kind[keep] if isinstance(kind, np.ndarray) else kind
        m, k = self.m, len(src)
        self._links = room(self._links, m, m + k)
        s, d, w, kd, code = self._links
        s[m:m + k], d[m:m + k], w[m:m + k], kd[m:m + k] = src, dst, weight, kind
        code[m:m + k] = link_codes(src, dst, pop.col("district"), self.cluster, pop.col("leader"))
        self.m += k
        self._views()
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
        if NUMBA:
            kind = self._targets_compiled(rng, src, d_src, u, industry, local_share, paired_share, sc_share, border,
                                          by_d, by_i, dst)
            by_kind = np.argsort(kind, kind="stable")  # stored kind after kind
            return self._append(pop, src[by_kind], dst[by_kind], kind[by_kind])
        kind = np.zeros(n_new, np.int8)

        local = u < local_share
        dst[local] = pick(d_src[local], by_d, rng)

        paired = ~local & (self._n_partners[d_src] > 0) & (u < local_share + paired_share)
        if paired.any():
            d = d_src[paired]
            k = rng.integers(0, 1 << 30, len(d))
            dst[paired] = pick(self._partner_table[d, k % self._n_partners[d]], by_d, rng)
            kind[paired] = LINK_KINDS.index("paired")

        border_ids = np.flatnonzero(border)
        sc = ~local & ~paired & border[d_src] & (u < local_share + paired_share + sc_share)
        if sc.any() and len(border_ids) > 1:
            dst[sc] = pick(border_ids[rng.integers(0, len(border_ids), sc.sum())], by_d, rng)
            kind[sc] = LINK_KINDS.index("sichuan_chongqing")

        rest = ~local & ~paired & ~sc
        dst[rest] = pick(industry[src[rest]].astype(np.int64), by_i, rng)
        kind[rest] = LINK_KINDS.index("industry")
        by_kind = np.argsort(kind, kind="stable")  # stored kind after kind
        return self._append(pop, src[by_kind], dst[by_kind], kind[by_kind])

    def _targets_compiled(self, rng, src, d_src, u, industry, local_share, paired_share, sc_share, border, by_d, by_i,
                          dst) -> np.ndarray:
        """form_firm_links' targets by compiled loops, the same draws in the same order as its
        numpy form: local picks, the partner choices (numpy's bounded integers) and their picks,
        the border districts and their picks, then the same-industry picks."""
        category = np.empty(len(u), np.int8)
        with stream(rng) as s:
            n_paired, n_border = local_targets(s, u, d_src, self._n_partners, border, local_share, paired_share,
                                                sc_share, *by_d, category, dst)
        if n_paired:
            d = d_src[category == PAIRED]
            k = rng.integers(0, 1 << 30, n_paired)
            with stream(rng) as s:
                grouped_targets(s, PAIRED, self._partner_table[d, k % self._n_partners[d]], category, *by_d, dst)
        border_ids = np.flatnonzero(border)
        if n_border:
            if len(border_ids) > 1:
                groups = border_ids[rng.integers(0, len(border_ids), n_border)]
                with stream(rng) as s:
                    grouped_targets(s, BORDER, groups, category, *by_d, dst)
            else:
                category[category == BORDER] = NO_BORDER   # no other border district: these links are not formed
        rest = category == INDUSTRY
        with stream(rng) as s:
            grouped_targets(s, INDUSTRY, industry[src[rest]].astype(np.int64), category, *by_i, dst)
        category[category == NO_BORDER] = LOCAL
        return category

    def form_consortium_links(self, pop, leaders: np.ndarray, per_leader: int, rng) -> int:
        """Each leading firm links ``per_leader`` live firms of its industry direction."""
        if per_leader <= 0 or len(leaders) == 0:
            return 0
        by_i = self._grouping(pop, "industry", leaders=False)
        src = np.repeat(leaders, per_leader)
        dst = pick(pop.col("industry").astype(np.int64)[src], by_i, rng)
        return self._append(pop, src, dst, LINK_KINDS.index("consortium"), weight=2.0)

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
        firm = np.where(local, pick(univ_district[univ], by_d, rng), alive[rng.integers(0, len(alive), len(univ))])
        ok = firm >= 0
        m, k = self.mu, int(ok.sum())
        self._ulinks = room(self._ulinks, m, m + k)
        f, un, w = self._ulinks
        f[m:m + k], un[m:m + k], w[m:m + k] = firm[ok], univ[ok], 1.0
        self.mu += k
        self._views()
        return k

    def decay(self, pop, rate: float, dt: float) -> None:
        """Weights decay; links of exited firms and links too weak to matter are dropped."""
        alive = pop.col("alive")
        factor = np.exp(-rate * dt)
        self.m = decay(*self._links, self.m, factor, alive, MIN_WEIGHT)
        self.mu = decay_univ(*self._ulinks, self.mu, factor, alive, MIN_WEIGHT)
        self._views()

    def renumber(self, remap: np.ndarray) -> None:
        """Follow the firms' rows after ``FirmPopulation.compact`` (every link's firm is live:
        decay has dropped the links of exited firms)."""
        for a, m in ((self._links[0], self.m), (self._links[1], self.m), (self._ulinks[0], self.mu)):
            renumbered(remap, a[:m])
        self._last_groups = {}   # the next grouping is made afresh (it is what regrouping would give)
        self._views()

    # ---- what firms see through their links -----------------------------------------------------
    def contact_sums(self, table: np.ndarray, univ_values) -> np.ndarray:
        """``table`` holds two quantities per firm in its first two columns (an (n, 5) array)
        and zeros in its last three; adds into those their link-weighted sums over the firm's
        contacts and the firm's link weight. Returns the weighted sum of ``univ_values`` over each firm's
        university contacts and its university link weight, an (n, 2) table kept and reused
        (read it before the next call). Each firm's sums run over its links in the order they
        formed."""
        n = len(table)
        if len(self._univ_contacts) < n:
            self._univ_contacts = np.zeros((max(n, 2 * len(self._univ_contacts)), 2))
        univs = self._univ_contacts[:n]
        contact_sums(self.src, self.dst, self.w, table)
        university_sums(self.u_firm, self.u_univ, self.u_w, np.asarray(univ_values, np.float64), univs)
        return univs

    def neighbour_mean(self, n: int, firm_values: np.ndarray, univ_values: np.ndarray | None = None):
        """Weighted mean of the values at each firm's contacts, and each firm's total link weight."""
        table = np.zeros((n, 5))
        table[:, 0] = firm_values
        univs = self.contact_sums(table, np.zeros(self.n_universities) if univ_values is None else univ_values)
        total, degree = table[:, 2].copy(), table[:, 4].copy()
        if univ_values is not None and self.n_universities:
            total += univs[:, 0]
            degree += univs[:, 1]
        return total / np.maximum(degree, 1e-12), degree

    def firm_matrix(self, n: int) -> sp.csr_matrix:
        """The symmetric firm×firm weight matrix (built on demand; the model itself sums over
        the links directly)."""
        rows = np.concatenate((self.src, self.dst))
        cols = np.concatenate((self.dst, self.src))
        return sp.csr_matrix((np.concatenate((self.w, self.w)), (rows, cols)), shape=(n, n))

    # ---- views ------------------------------------------------------------------------------
    def district_links(self, pop) -> np.ndarray:
        """District×district matrix of summed link weights (firm links aggregated)."""
        d = pop.col("district")
        M = np.zeros((self.n_districts, self.n_districts))
        pair_sums(self.src, self.dst, self.w, d, d, M)
        return M + M.T - np.diag(np.diag(M))

    def district_strength(self, pop, univ_district: np.ndarray, scale: float) -> np.ndarray:
        """District × district collaboration strength in real-firm link equivalents: firm links
        between districts plus university links credited to the university's district (links
        within a district are left out). The one view of the network that the app's map, the
        report's map and the results' link table all show."""
        M = self.district_links(pop)
        U = np.zeros_like(M)
        pair_sums(self.u_univ, self.u_firm, self.u_w, np.asarray(univ_district, np.int64), pop.col("district"), U)
        M = M + U + U.T
        np.fill_diagonal(M, 0.0)
        return M / scale

    def kind_weights(self) -> dict:
        return {k: float(self.w[self.kind == i].sum()) for i, k in enumerate(LINK_KINDS)}

    def totals(self, pop) -> dict:
        """What the reporters read of the links, in one pass: the total weight of firm links,
        the weight between the two clusters and the rest, the weight of each kind and the real
        firms linked to a leading firm."""
        kinds = np.zeros(len(LINK_KINDS))
        total, cross, reach = link_totals(self.src, self.dst, self.w, self.kind, self._code, pop.col("weight"),
                                           pop.scratch("marks", bool), kinds)
        return dict(weight=total, cross_cluster_weight=cross, consortium_reach=reach,
                    **{f"{k}_weight": float(x) for k, x in zip(LINK_KINDS, kinds)})

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
