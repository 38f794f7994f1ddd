"""The report's "why might we miss": for each target the ensemble is unsure about, the conditions
under which it is mostly missed, found by scenario discovery over each replicate's posterior
draw (:mod:`sim.experiments.discovery`), in the words ``python run.py discover`` prints."""

from __future__ import annotations

import html

from ..experiments.discovery import discover
from ..experiments.discovery_boxes import DiscoveryError, ExtraMissing
from ..experiments.results import EnsembleResult


def why_we_might_miss_html(result: EnsembleResult) -> str:
    """One item per target that some runs meet and others miss; a note when nothing can be said
    (every run meets or misses each target, the extra is not installed, the runs are too few or
    all ran at the same parameters)."""
    items, notes = [], []
    for row in result.summary.itertuples():
        if not 0 < row.prob_met < 1:       # nothing to explain: every run meets it, or none does
            continue
        try:
            found = discover(result, row.target)
        except ExtraMissing as e:
            return f"<p class=note>{html.escape(str(e))}</p>"
        except DiscoveryError as e:
            if str(e) not in notes:
                notes.append(str(e))
            continue
        en, zh = found.sentences("en"), found.sentences("zh")
        items.append(f"<li><b>{html.escape(row.target)}</b>: " + " ".join(map(html.escape, en))
                     + "<br><span class=zh>" + " ".join(map(html.escape, zh)) + "</span></li>")
    parts = []
    if items:
        parts.append("<ul>" + "".join(items) + "</ul>")
        parts.append("<p class=note>Coverage: the share of all misses that fall inside the conditions; density: the "
                     "share of runs inside them that miss. The runs' parameters are drawn together from the calibration's "
                     "posterior, so a condition may stand for a parameter it moves with. <code>python run.py discover "
                     "SCENARIO --target ID</code> gives each condition's significance and writes them to a table.</p>")
    elif not notes:
        parts.append("<p class=note>Every run meets each target, or every run misses it: there is no miss to explain "
                     "by the conditions the runs differ in.</p>")
    parts += [f"<p class=note>{html.escape(n)}</p>" for n in notes]
    return "".join(parts)
