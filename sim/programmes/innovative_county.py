"""National innovative counties 国家创新型县（市） (seed §一(三) T5, §(七)).

Levers: ``innovative_county.*``. The ministry's steps, as the first batch went (2017–2022):
the State Council asks for innovative counties (国办发〔2017〕43号); counties apply and the
province recommends them (地方推荐); the ministry reviews and publishes a construction list
(首批创新型县（市）建设名单, 2018-11: "经地方推荐,形式审查、咨询评议和实地考察等程序"); the
listed county builds for three years against the indicator system (创建周期为三年); after
that the ministry runs the acceptance (验收: "视频答辩、专家评审及综合评议") and publishes who
passed (奉节: listed 2018, passed 2022). Here:

1. application: in a list year (the next one drawn uniformly from ``batch_year`` to
   ``batch_year + batch_year_spread``, then every ``batch_interval`` years, when the ministry
   calls for a list) each county the city recommends applies — the counties the seed names
   (``candidates``) and, with the city's support, any county of the first two tiers whose R&D
   intensity reaches the listing level;
2. list: the ministry lists Chongqing applicants that reach ``list_rd_intensity_min`` (the
   named ones first, then by R&D intensity), as many as a Poisson draw of mean ``quota_mean``
   capped at ``quota``;
3. construction: ``construction_years`` from the year after listing;
4. acceptance: ``acceptance_lag`` years after construction ends; a county passes if its R&D
   intensity and R&D growth since listing reach ``rd_intensity_min`` and ``rd_growth_min``;
   one that fails ("failed"; it did enter the list) may apply again in a later batch.

The ministry's timing and the size of its list are not known at the end of 2022, so both are
drawn in every replicate (paired: replicate k draws the same in every scenario); T5's spread
is theirs. With ``batch_year_spread = 0`` and ``quota_mean = 0`` the list comes in
``batch_year`` and takes ``quota`` (the hindcast's verified first list).

T5 counts the counties newly listed (the seed's "新创建", the default reading) or, in the
``policy_2025_acceptance`` target set, those newly accepted (see sim/data/targets.toml).
"""

from __future__ import annotations

from ._base import Programme

STATES = ("none", "construction", "passed", "failed")   # a listed county is in construction until its acceptance


class InnovativeCounties(Programme):
    name = "innovative_county"
    sections = ("innovative_county",)

    def setup(self):
        m = self.model
        self.next_list = None   # the year of the next national list, drawn when first needed
        for d in m.district_list:
            if str(d.adcode) in m.params.innovative_county.already_passed:
                d.innovative_county = "passed"
        m.innovative_counties_start = sum(d.innovative_county == "passed" for d in m.district_list)

    def year_review(self):
        self.model.events["innovative_counties_listed"] = self.list_counties(self.model.year)
        self.model.events["innovative_counties_passed"] = self.check(self.model.year)

    def applicants(self) -> list:
        """Counties the city recommends this year, named candidates first, then by R&D intensity."""
        ic = self.model.params.innovative_county
        if not ic.support:
            return []
        free = [d for d in self.model.district_list if d.is_county and d.innovative_county in ("none", "failed")]
        named = [d for d in free if str(d.adcode) in ic.candidates]
        ready = sorted((d for d in free if d not in named and d.tier <= 2 and d.rd_intensity >= ic.list_rd_intensity_min),
                       key=lambda d: -d.rd_intensity)
        return named + ready

    def list_counties(self, year: int) -> int:
        """A batch year's national list: returns how many Chongqing counties it takes in."""
        ic = self.model.params.innovative_county
        if year < ic.batch_year:
            return 0
        # Drawn only when needed; a second stream() call in one step continues the first's draws.
        stream = self.model.stream
        if self.next_list is None:
            self.next_list = ic.batch_year + (int(stream("innovative_county").integers(0, ic.batch_year_spread + 1)) if ic.batch_year_spread else 0)
        if year != self.next_list:
            return 0
        self.next_list += ic.batch_interval
        quota = min(int(stream("innovative_county").poisson(ic.quota_mean)), ic.quota) if ic.quota_mean else ic.quota
        listed = [d for d in self.applicants() if d.rd_intensity >= ic.list_rd_intensity_min][:quota]
        for d in listed:
            d.innovative_county, d.listed_year = "construction", year
        return len(listed)

    def check(self, year: int) -> int:
        """Acceptance of the counties whose construction ended ``acceptance_lag`` years ago;
        returns how many passed."""
        m = self.model
        ic = m.params.innovative_county
        passed = 0
        for d in m.district_list:
            if d.innovative_county != "construction" or year - d.listed_year < ic.construction_years + ic.acceptance_lag:
                continue
            base = d.rd_history.get(d.listed_year, d.rd_history.get(min(d.rd_history)))
            years = max(year - d.listed_year, 1)
            cagr = (d.rd / base) ** (1.0 / years) - 1.0 if base > 0 else 0.0
            if d.rd_intensity >= ic.rd_intensity_min and cagr >= ic.rd_growth_min:
                d.innovative_county = "passed"
                d.accepted_year = year
                passed += 1
            else:
                d.innovative_county = "failed"
        return passed
