"""Universities and research institutes: research, collaboration with firms and the transfer
chain proof of concept → pilot → demonstration (概念验证 → 小试中试 → 示范推广) that produces
spin-off firms, some of them placed in the two clusters through branch centres."""

from __future__ import annotations

import mesa
import numpy as np


class University(mesa.Agent):
    def __init__(self, model, row, district_index: int):
        super().__init__(model)
        self.name_zh, self.kind, self.level = row.name_zh, row.kind, row.level
        self.district_index = district_index
        self.research = 0.0                 # R&D performed, 100m yuan/yr (set by the model)
        self.knowledge_intensity = 0.0      # knowledge per yuan of partner revenue it can pass on
        self.pipeline = np.zeros(3, dtype=np.int64)  # projects at each stage
        self.spinoffs = 0

    def advance_pipeline(self, rng, projects_per_100m: float, stage_success, scale: float) -> int:
        """One year of the transfer chain; returns the spin-offs completed this year (in rows)."""
        done = int(rng.binomial(self.pipeline[2], stage_success[2]))
        self.pipeline[2] = rng.binomial(self.pipeline[1], stage_success[1])
        self.pipeline[1] = rng.binomial(self.pipeline[0], stage_success[0])
        self.pipeline[0] = rng.poisson(projects_per_100m * self.research * scale)
        self.spinoffs += done
        return done

    def __repr__(self):
        return f"University({self.name_zh}, district #{self.district_index})"
