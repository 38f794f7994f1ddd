"""National innovative counties 国家创新型县 (seed §(七)).

Levers: ``innovative_county.*``. Counties named by the seed (and, with the city's support, any
county in the first two tiers with enough R&D intensity) start construction; after the
construction years a county passes acceptance if its R&D intensity and its R&D growth over the
construction meet the thresholds.
"""

from __future__ import annotations

from ._base import Programme


class InnovativeCounties(Programme):
    name = "innovative_county"
    sections = ("innovative_county",)

    def setup(self):
        m = self.model
        for d in m.district_list:
            if str(d.adcode) in m.params.innovative_county.already_passed:
                d.innovative_county = "passed"
        m.innovative_counties_start = sum(d.innovative_county == "passed" for d in m.district_list)

    def year_review(self):
        self.model.events["innovative_counties_passed"] = self.check(self.model.year)

    def check(self, year: int) -> int:
        """Starts and acceptance checks of the year; returns how many counties passed."""
        m = self.model
        ic = m.params.innovative_county
        passed = 0
        for d in m.district_list:
            if not d.is_county or d.innovative_county == "passed":
                continue
            if d.innovative_county == "none":
                if ic.support and (str(d.adcode) in ic.in_construction or (d.tier <= 2 and d.rd_intensity >= ic.rd_intensity_min)):
                    d.innovative_county, d.construction_start = "construction", year
                continue
            if year - d.construction_start < ic.construction_years:
                continue
            base_year = d.construction_start - 1
            base = d.rd_history.get(base_year, d.rd_history.get(min(d.rd_history)))
            years = year - base_year
            cagr = (d.rd / base) ** (1.0 / years) - 1.0 if base > 0 else 0.0
            if d.rd_intensity >= ic.rd_intensity_min and cagr >= ic.rd_growth_min:
                d.innovative_county = "passed"
                passed += 1
        return passed
