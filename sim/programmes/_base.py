"""The programme base class and its hooks (see ``sim/programmes/__init__.py``)."""

from __future__ import annotations

HOOKS = ("setup", "enter_year", "budget", "commit", "rd_cost", "after_rd", "absorption", "growth", "rd_push",
         "registration_push", "certification_odds", "listing", "after_listing", "exit_hazard", "after_exit",
         "entry", "entrant_zone_share", "link_mix", "form_links", "year_end", "year_review")


class Programme:
    """One programme: a name, the parameter sections it reads, and the hooks it defines."""

    name = ""
    sections: tuple[str, ...] = ()

    def __init__(self, model):
        self.model = model

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(self.sections)})"


def hooks_of(programmes) -> dict[str, list]:
    """Per hook, the bound methods of the programmes that define it, in programme order."""
    return {h: [getattr(p, h) for p in programmes if hasattr(p, h)] for h in HOOKS}
