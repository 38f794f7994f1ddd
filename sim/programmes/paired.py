"""Paired assistance 对口协同 (seed §(二十二)) and Sichuan–Chongqing border cooperation 川渝毗邻.

Levers: ``paired.*``. Each Q1 every metropolitan partner transfers support money to its cluster
county; a share of new firm links is drawn to the paired district (and, for border districts,
across the Sichuan border); a share of a county's new firms settles in its partner's enclave
parks (飞地园区), with the zone environment that brings.
"""

from __future__ import annotations

from ._base import Programme

# Cross-district draws stay a minority of new links, so that a strong pairing cannot crowd out
# the local and same-industry links that most collaboration is.
MAX_CROSS_LINK_SHARE = 0.3


class PairedAssistance(Programme):
    name = "paired"
    sections = ("paired",)

    def budget(self):
        m = self.model
        pa = m.params.paired
        if not (pa.enabled and pa.intensity > 0):
            return
        for a, b in m.paired_pairs:
            partner, county = (a, b) if not m.is_cluster[a] else (b, a)
            paid = m.district_list[partner].pay_out("paired_out", pa.support_per_pair * pa.intensity)
            m.district_list[county].receive("paired_in", paid)

    def link_mix(self, mix: dict, levers) -> dict:
        pa = levers.paired
        mix["paired"] = min(pa.cross_link_share * pa.intensity if pa.enabled else 0.0, MAX_CROSS_LINK_SHARE)
        mix["sichuan_chongqing"] = min(pa.sichuan_chongqing_link_share * pa.sichuan_chongqing, MAX_CROSS_LINK_SHARE)
        return mix

    def entrant_zone_share(self, share: float, district) -> float:
        pa = self.model.params.paired
        if district.is_county and pa.enabled:
            return max(share, pa.enclave_share * pa.intensity)
        return share
