"""The transfer chain 概念验证 → 小试中试 → 示范推广 (seed §(十六)).

Levers: ``transfer.*``. At each year end every university advances its projects one stage;
completed projects become spin-off firms, registered from birth, placed in the university's
district or, through branch centres, in a cluster district (its host's paired county first).
"""

from __future__ import annotations

import numpy as np

from ..core import firm_processes
from ._base import Programme


class TransferChain(Programme):
    name = "transfer"
    sections = ("transfer",)

    def year_end(self):
        m = self.model
        p = m.params
        t = p.transfer
        spin = np.zeros(m.n_districts, np.int64)
        rng = m.stream("transfer")
        clusters = np.flatnonzero(m.is_cluster)
        for u in m.universities:
            done = u.advance_pipeline(rng, t.projects_per_100m_research, t.stage_success, m.resolution)
            for _ in range(done):
                host = m.district_list[u.district_index]
                if len(clusters) and rng.random() < t.branch_share:
                    partners = [j for j in host.partners if m.is_cluster[j]]
                    spin[partners[0] if partners else rng.choice(clusters)] += 1
                else:
                    spin[u.district_index] += 1
        firm_processes.add_entrants(m, spin, registered=True, rd_ratio=t.spinoff_rd_ratio,
                                    knowledge_ratio=t.spinoff_knowledge_ratio, stream="spinoffs")
        m.events["spinoffs"] = spin.sum() / m.resolution
