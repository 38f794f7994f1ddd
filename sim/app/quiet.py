"""The app's imports of third-party code that warns at start-up or on each page load, with each
warning silenced at its source and the reason why: the server's output shows only what matters."""

from __future__ import annotations

import warnings

# Mesa's step counter (``update_counter``) lives in mesa.visualization.utils, and importing it
# imports Mesa's SolaraViz, whose ComponentsView calls ``use_state`` after an early return: Solara's
# hook check warns about it at import, on every start of the server. That is Mesa 3.3.1's code, in
# a component this app never draws, so that one warning is ignored, for this import only.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", category=UserWarning,
                            message=r".*mesa[/\\]visualization[/\\]solara_viz\.py:\d+: ComponentsView: `use_state` "
                                    r"found despite early return")
    from mesa.visualization.utils import force_update, update_counter
# Solara warns on every page load served over plain http at any address but the name "localhost"
# (so at 127.0.0.1, the app's default) that its session cookie falls back to SameSite=Lax, which
# matters only to a page embedded in another site's iframe; this app is opened directly, where Lax
# is right. Raised while serving a page, not at an import: a filter for that message only.
warnings.filterwarnings("ignore", category=UserWarning, module=r"solara\.server\.starlette",
                        message="Cookies with samesite=none require https")

__all__ = ["force_update", "update_counter"]
