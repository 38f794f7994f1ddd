"""The report of a search for the cheapest mix: a self-contained ``report.html`` with the
cost–probability chart, the chosen mixes' levers beside the input scenario's, their P(met) in the
search and on fresh replicates (95 % Wilson intervals), the districts that still lag, and how
much noise the search's own estimates carry."""

from __future__ import annotations

import base64
import html
import io
import math

from ..experiments.outfolder import atomic_write
from ..params.parameters import levers
from ..report.html import CSS

LABELS = {"cheapest": "cheapest meeting the probability", "most_likely": "most likely (none met the probability)",
          "front": "on the front"}


def _png(fig) -> str:
    import matplotlib.pyplot as plt
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def front_chart(answer):
    import matplotlib.pyplot as plt
    t, setup = answer.trials, answer.setup
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    if len(t):
        ax.scatter(t["cost"], t["p_all"], s=14, color="#bbbbbb", label=f"trials ({len(t)}, {setup.replicates} replicates each)")
        f = answer.pareto
        ax.step(f["cost"], f["p_all"], where="post", color="#1c3f6e", lw=1.2, label="front (search estimates)")
        inp = t[t["input"]]
        if len(inp):
            ax.scatter(inp["cost"], inp["p_all"], marker="s", s=40, facecolor="none", edgecolor="k", label="input scenario's mix")
    for m in answer.mixes:
        c = m["check"]
        ax.errorbar([m["row"]["cost"]], [c["p_all"]], yerr=[[c["p_all"] - c["lo"]], [c["hi"] - c["p_all"]]], fmt="o",
                    color="#c0392b", capsize=3, ms=5)
        ax.annotate(f"trial {int(m['row']['trial'])}", (m["row"]["cost"], c["p_all"]), textcoords="offset points",
                    xytext=(5, 5), fontsize=8)
    if answer.mixes:
        ax.plot([], [], "o", color="#c0392b", label=f"chosen mixes re-run on {answer.check_replicates} fresh replicates (95 % interval)")
    ax.axhline(setup.prob, color="#888", ls="--", lw=0.8, label=f"required P = {setup.prob:g}")
    ax.set_xlabel("public money of the levers (100 million yuan per year)")
    ax.set_ylabel("P(every chosen target met)")
    ax.set_ylim(-0.03, 1.03)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def _fmt(v) -> str:
    if isinstance(v, float):
        return "—" if math.isnan(v) else f"{v:g}"
    return html.escape(str(v))


def write_report(answer, path, run_id: str) -> None:
    setup, s = answer.setup, answer.setup.scenario
    lv = levers()
    e = html.escape
    se = 0.5 / math.sqrt(setup.replicates)
    head = (f"<h1>Cheapest policy mix — {e(s.name)}</h1>"
            f"<p>{e(s.description)}</p>"
            f"<p>Targets: {e(', '.join(f'{t.id} ({t.description})' for t in setup.targets))}. Required: P(every one met) ≥ "
            f"{setup.prob:g}. Horizon: end of {s.until}.</p>"
            f"<p class='note'>{len(answer.trials)} trials evaluated, each on the same {setup.replicates} replicates "
            f"(root seed {s.seed}, scale {s.params.scale:g}; common random numbers); sampler {setup.sampler} (seeded). "
            f"A trial's P(met) is a share of {setup.replicates} replicates: its standard error is up to {se:.2f}, so the "
            f"best trials' own estimates are biased upwards (they were selected for being high). The chosen mixes are "
            f"therefore re-run on {answer.check_replicates} fresh replicates of an independent seed stream; only those "
            f"figures are the answer. Cost: the public money the levers move (each lever's declared money), 亿元 per "
            f"year on average over {s.params.start_year + 1}–{s.until}.</p>")
    parts = [head, "<h2>Cost against probability</h2>", f"<img src='data:image/png;base64,{_png(front_chart(answer))}'>"]

    from .search import reach
    r = reach(answer.trials, setup.targets)
    body = "".join(f"<tr><td class='l'>{e(x.target)}</td><td>{_fmt(x.threshold)}</td><td>{x.best_p:.0%}</td>"
                   f"<td>{_fmt(x.best_mean)}</td><td>{'—' if x.trial is None or x.trial != x.trial else int(x.trial)}</td><td>{_fmt(round(x.cost, 2))}</td></tr>"
                   for x in r.itertuples())
    parts += ["<h2>How far each target is within reach</h2><p class='note'>Per target on its own: the highest P(met) "
              "any trial reached (search estimates), the highest mean value of its indicator, and the cheapest trial "
              "reaching that P. A target no trial meets keeps every mix from meeting them all.</p>",
              f"<table><tr><th class='l'>target</th><th>threshold</th><th>best P(met)</th><th>best mean value</th>"
              f"<th>cheapest trial</th><th>its cost, 亿元/yr</th></tr>{body}</table>"]
    if not answer.mixes:
        parts.append("<p>No trial finished, so no mix was chosen.</p>")
    else:
        cols = "".join(f"<th>{e(LABELS[m['label']])}<br>trial {int(m['row']['trial'])}<br>"
                       f"<span class='note'>{e(m['path'].name)}</span></th>" for m in answer.mixes)
        rows = []
        for key in setup.space:
            base = _value(s.params, key)
            cells = "".join(f"<td>{_fmt(m['row'][key])}</td>" for m in answer.mixes)
            rows.append(f"<tr><td class='l'>{e(lv[key].zh)} {e(lv[key].en)}<br><span class='note'>{e(key)}</span></td>"
                        f"<td>{_fmt(base)}</td>{cells}</tr>")
        rows.append("<tr><td class='l'><b>public money, 亿元/yr</b></td><td>"
                    f"{_input_cost(answer):.2f}</td>" + "".join(f"<td><b>{m['row']['cost']:.2f}</b></td>" for m in answer.mixes) + "</tr>")
        if setup.inequality:
            from .problem import INEQUALITY
            inp = answer.trials[answer.trials["input"]]
            base = _fmt(float(inp[INEQUALITY].iloc[0])) if len(inp) else "—"
            rows.append(f"<tr><td class='l'>R&amp;D-intensity Gini across districts at the horizon (search mean)</td>"
                        f"<td>{base}</td>" + "".join(f"<td>{m['row'][INEQUALITY]:.3f}</td>" for m in answer.mixes) + "</tr>")
        parts += ["<h2>The chosen mixes' levers beside the input's</h2>",
                  f"<table><tr><th class='l'>lever</th><th>input ({e(s.name)})</th>{cols}</tr>{''.join(rows)}</table>"]

        prow = []
        for label, key in [("every chosen target", "all")] + [(f"{t.id}: {t.description}", t.id) for t in setup.targets]:
            cells = []
            for m in answer.mixes:
                c, r = m["check"], m["row"]
                lo, hi = (c["lo"], c["hi"]) if key == "all" else (c[f"lo_{key}"], c[f"hi_{key}"])
                cells.append(f"<td>{r['p_all' if key == 'all' else f'p_{key}']:.0%}</td>"
                             f"<td><b>{c['p_all' if key == 'all' else f'p_{key}']:.0%}</b> [{lo:.0%}, {hi:.0%}]</td>")
            prow.append(f"<tr><td class='l'>{e(label)}</td>{''.join(cells)}</tr>")
        sub = "".join(f"<th>search ({setup.replicates})</th><th>check ({m['check']['n']} fresh)</th>" for m in answer.mixes)
        heads = "".join(f"<th colspan=2>trial {int(m['row']['trial'])}</th>" for m in answer.mixes)
        parts += ["<h2>P(met): search estimate and check on fresh replicates (95 % Wilson interval)</h2>",
                  f"<table><tr><th></th>{heads}</tr><tr><th class='l'>target</th>{sub}</tr>{''.join(prow)}</table>"]

        parts.append("<h2>Districts that still lag</h2><p class='note'>Districts missing a district-level goal of the "
                     "policy at the horizon in more than half of the check replicates: R&amp;D growth of at least "
                     "10 %/yr on average since the start (T3), a characteristic platform (T6).</p>")
        for m in answer.mixes:
            lag = m["lagging"]
            parts.append(f"<h3>trial {int(m['row']['trial'])}: {len(lag)} of 38</h3>")
            if len(lag):
                body = "".join(f"<tr><td class='l'>{e(str(r.name_zh))}</td><td>{r.adcode}</td><td>{r.rd_growth_missed:.0%}</td>"
                               f"<td>{r.no_platform:.0%}</td></tr>" for r in lag.itertuples())
                parts.append("<table><tr><th class='l'>district</th><th>adcode</th><th>R&amp;D growth &lt; 10 %/yr</th>"
                             f"<th>no platform</th></tr>{body}</table>")
    parts.append("<p class='note'>Files: trials.csv (every trial), pareto.csv (the front), mixes/ (each chosen mix as "
                 "a scenario file: <code>python run.py run mixes/&lt;name&gt;.toml</code>), checks/ (their check "
                 "ensembles), optuna.db (the study; run the same command with a larger --trials to continue).</p>")
    page = (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Cheapest mix — {e(s.name)}</title>"
            f"<style>{CSS}</style></head><body>{''.join(parts)}</body></html>")
    atomic_write(path, page.encode("utf-8"), run_id)


def _value(params, key):
    obj = params
    for part in key.split("."):
        obj = getattr(obj, part)
    return obj


def _input_cost(answer) -> float:
    from .problem import cost
    s = answer.setup.scenario
    return cost(s.params, s.until)
