"""The hindcast figure: published points over the model's band, one panel per series and per
yearly-additions series, and the districts' own figures against the model."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..experiments.calibration_file import CALIBRATION_FILE, LAST_YEAR, START_YEAR, flatten, load_calibration
from .file import posterior_samples
from .fit import ADDED, DISTRICT_FIGURES, SERIES, TIERS, fit_errors, hindcast_band, is_district
from .problem import FIGURE_FILE
from .runs import hindcast

LABELS = {"tech_enterprises": "科技型企业 tech-based SMEs", "high_tech_enterprises": "高新技术企业 high-tech enterprises",
          "rd_expenditure": "R&D 经费 (亿元)", "rd_intensity": "R&D 强度 (% of GDP)",
          "rd_metropolitan": "主城都市区 R&D (亿元)", "rd_northeast": "渝东北 R&D (亿元)",
          "rd_southeast": "渝东南 R&D (亿元)", "rd_share_central_urban": "中心城区 share of R&D (%)",
          "tech_enterprises_added": "科技型企业 added in the year", "high_tech_enterprises_added": "高新技术企业 added in the year",
          "rd_expenditure_added": "R&D 经费 added in the year (亿元)"}


def plot_hindcast(band: pd.DataFrame, path: Path | str = FIGURE_FILE, errors: pd.DataFrame | None = None,
                  title: str | None = None, posterior_band: pd.DataFrame | None = None) -> Path:
    """Published points over the model's 5–95 % band and mean, one panel per series.
    ``band``: the fitted point's replicates (chance alone); ``posterior_band`` (optional): runs
    over posterior draws, i.e. chance and parameter uncertainty together."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    if "Noto Sans CJK SC" in names:
        plt.rcParams["font.family"] = ["Noto Sans CJK SC", "DejaVu Sans"]
    errors = errors if errors is not None else fit_errors(band)
    fig, axes = plt.subplots(3, 4, figsize=(17, 11))
    for ax, s in zip(axes.ravel(), SERIES + ADDED):
        b = band[band.series == s].sort_values("year")
        if posterior_band is not None:
            pb = posterior_band[posterior_band.series == s].sort_values("year")
            ax.fill_between(pb.year, pb.p05, pb.p95, color="tab:orange", alpha=0.18, label="posterior draws 5–95 %")
        ax.fill_between(b.year, b.p05, b.p95, color="tab:blue", alpha=0.3, label="fitted point 5–95 %")
        ax.plot(b.year, b["mean"], color="tab:blue", lw=2, label="model mean")
        o = b[b.observed.notna()]
        for status, marker in (("verified", "o"), ("derived", "s")):
            oo = o[o.status == status]
            if len(oo):
                ax.plot(oo.year, oo.observed, marker, color="black", mfc="black" if status == "verified" else "white",
                        ms=7, ls="none", label=f"published ({status})")
        ax.set_title(f"{LABELS[s]}\nMAPE {errors.loc[s, 'mape']:.1f} %", fontsize=10)
        ax.set_xticks(range(START_YEAR, LAST_YEAR + 1))
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
    _districts(axes[2, 3], band, errors)
    axes[0, 0].legend(fontsize=8, loc="upper left")
    fig.suptitle(title or "Hindcast 2017→2022: published points over the model's band", fontsize=12)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _districts(ax, band: pd.DataFrame, errors: pd.DataFrame) -> None:
    """The districts' own published figures against the model's mean, each relative to the
    published value (1 = exact), with the share of districts in their published 2022 tier."""
    from ..data import identity
    short = identity.district_identity().set_index("adcode")["short_zh"].to_dict()
    b = band[band.series.map(is_district) & band.observed.notna()].sort_values(["series", "year"]).reset_index(drop=True)
    ratio = b["mean"] / b["observed"]
    ax.axhline(1.0, color="black", lw=1)
    ax.scatter(range(len(b)), ratio, color="tab:blue", zorder=3)
    ax.vlines(range(len(b)), b.p05 / b.observed, b.p95 / b.observed, color="tab:blue", alpha=0.4)
    ax.set_xticks(range(len(b)))
    ax.set_xticklabels([f"{short.get(int(x.split('@')[1]), x)} {x.split('@')[0].replace('_enterprises', '').replace('_', ' ')[:9]} {y}"
                        for x, y in zip(b.series, b.year)], rotation=75, fontsize=6)
    tiers = band[band.series == TIERS]
    tier_text = f"; {tiers['mean'].iloc[0]:.0f} % in their 2022 tier" if len(tiers) else ""
    mape = errors.loc[DISTRICT_FIGURES, "mape"] if DISTRICT_FIGURES in errors.index else float("nan")
    ax.set_title(f"districts' own figures: model / published\nMAPE {mape:.1f} %{tier_text}", fontsize=10)
    ax.tick_params(axis="y", labelsize=8)
    ax.grid(alpha=0.3)


def figure_from_file(path: Path | str = CALIBRATION_FILE, figure: Path | str = FIGURE_FILE, workers: int = 1,
                     progress: bool = False, band: pd.DataFrame | None = None) -> Path:
    """The hindcast figure of a calibration file: the fitted point's ensemble (re-run unless
    ``band`` is given) and one run per posterior draw at the file's evaluation scale."""
    cal = load_calibration(path, require=("meta",))
    meta = cal["meta"]
    seed, scale = int(meta["seed"]), float(meta["eval_scale"])
    if band is None:
        band = hindcast_band(hindcast(flatten(cal["parameters"]), int(meta["eval_replicates"]), seed, scale, workers,
                                      progress=progress))
    draws = posterior_samples(path)
    post = None
    if draws:
        post = hindcast_band(hindcast(flatten(cal["parameters"]), len(draws), seed + 1, scale, workers, samples=draws,
                                      progress=progress))
    return plot_hindcast(band, figure, fit_errors(band), posterior_band=post)
