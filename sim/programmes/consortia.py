"""Innovation consortia 创新联合体 led by the five leading firms (seed §(十三)).

Levers: ``consortia.*``. Each quarter every leading firm links firms of its industry direction.
"""

from __future__ import annotations

from ._base import Programme


class Consortia(Programme):
    name = "consortia"
    sections = ("consortia",)

    def form_links(self, rng, years: float, levers):
        m = self.model
        if levers.consortia.enabled:
            per = rng.poisson(levers.consortia.links_per_leader * years * m.resolution)
            m.network.form_consortium_links(m.firms, m.leaders["row"].to_numpy(), int(per), rng)
