"""The programme base class and its hooks (see ``sim/programmes/__init__.py``).

Every hook is declared once here with the arguments the quarter's schedule passes it, so a
programme's hooks are checked when the programmes are built: a method whose name is close to a
hook's but is not one (a misspelt hook, which would never be called) and a hook that cannot take
its arguments both fail loudly, before any step.
"""

from __future__ import annotations

import difflib
import inspect

# Actions change state; their arguments follow the name.
ACTIONS = {"setup": (), "enter_year": (), "budget": (), "commit": (), "after_rd": (), "after_listing": ("rows",),
           "after_exit": ("rows",), "form_links": ("rng", "years", "levers"), "year_end": (), "year_review": ()}
# Terms thread exactly one value (the first argument) through the programmes and return it with
# their effect; the other arguments are context.
TERMS = {"rd_cost": ("cost", "tax", "reference", "firms"), "absorption": ("capacity", "firms"),
         "growth": ("growth", "firms"), "rd_push": ("push", "firms"), "registration_push": ("push",),
         "certification_odds": ("odds", "firms"), "listing_eligibility": ("eligible", "firms"),
         "listing_rate": ("rate", "firms"), "exit_hazard": ("rate", "firms"), "entry": ("per_year",),
         "entrant_zone_share": ("share", "district"), "link_mix": ("mix", "levers")}
# In the order the quarter calls them.
HOOKS = ("setup", "enter_year", "budget", "commit", "rd_cost", "after_rd", "absorption", "growth", "rd_push",
         "registration_push", "certification_odds", "listing_eligibility", "listing_rate", "after_listing",
         "exit_hazard", "after_exit", "entry", "entrant_zone_share", "link_mix", "form_links", "year_end", "year_review")
assert set(HOOKS) == set(ACTIONS) | set(TERMS) and not set(ACTIONS) & set(TERMS)
# A public method this close to a hook's name (or a hook's name cut short or extended by a word)
# is taken for a misspelt hook.
CLOSE = 0.8


class HookError(TypeError):
    """A programme's method that looks like a hook but is not one, or a hook of the wrong shape."""


class Programme:
    """One programme: a name, the parameter sections it reads, and the hooks it defines."""

    name = ""
    sections: tuple[str, ...] = ()

    def __init__(self, model):
        self.model = model

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(self.sections)})"


def check_hooks(cls: type) -> None:
    """Raise :class:`HookError` if a programme class has a method named like a hook that is not
    one, or a hook that cannot take the arguments its schedule passes."""
    own = {n: f for klass in cls.__mro__ if klass not in (Programme, object) for n, f in vars(klass).items()
           if callable(f) and not n.startswith("_")}
    for name, f in own.items():
        args = ACTIONS.get(name, TERMS.get(name))
        if args is None:
            near = (difflib.get_close_matches(name, HOOKS, n=1, cutoff=CLOSE)
                    or [h for h in HOOKS if h.startswith(name + "_") or name.startswith(h + "_")][:1])
            if near or name.startswith(("after_", "before_", "on_")):
                raise HookError(f"{cls.__name__}.{name} looks like a hook but is not one"
                                + (f" (did you mean {near[0]}?)" if near else "") + f"; the hooks are: {', '.join(HOOKS)}")
            continue
        try:
            inspect.signature(f).bind(None, *args)
        except TypeError:
            kind = "term" if name in TERMS else "action"
            raise HookError(f"{cls.__name__}.{name} cannot take the arguments of the {kind} hook {name}: "
                            f"({', '.join(('self',) + args)})") from None


def hooks_of(programmes) -> dict[str, list]:
    """Per hook, the bound methods of the programmes that define it, in programme order."""
    return {h: [getattr(p, h) for p in programmes if hasattr(p, h)] for h in HOOKS}
