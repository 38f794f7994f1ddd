"""Chinese text in matplotlib figures.

matplotlib only knows the fonts its font cache listed when it was built. On a machine where
matplotlib ran before a CJK font was installed (``apt-get install fonts-noto-cjk`` after a first
plot), the cache predates the font and every Chinese label is drawn as boxes, although the font
is there. So the installed CJK fonts are looked up the way the system does (fontconfig's
``fc-list``, then the Debian package paths) and registered with matplotlib for this process
whenever its cache does not list one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import warnings

# Preferred families, best first; any other font with Chinese coverage comes after them.
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Source Han Sans SC", "Source Han Sans CN",
                "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Droid Sans Fallback", "AR PL UMing CN")
# Where Debian's packages put them: fonts-noto-cjk, fonts-wqy-zenhei, fonts-wqy-microhei,
# fonts-droid-fallback, fonts-arphic-uming.
DEBIAN_FILES = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
                "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
                "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
                "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
                "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
                "/usr/share/fonts/truetype/arphic/uming.ttc")
FALLBACK = "DejaVu Sans"
MAX_FILES = 40          # fontconfig can list hundreds of CJK files; a few families are enough

_families: list[str] | None = None
_warned = False


def cjk_families() -> list[str]:
    """The CJK font families matplotlib can draw with, best first (empty when none is
    installed). Fonts its cache does not list are registered first."""
    global _families
    if _families is None:
        _families = _preferred(_known()) or _register_installed()
    return list(_families)


def font_family() -> list[str]:
    """A ``font.family`` list: the CJK families, then matplotlib's default for the rest."""
    return [*cjk_families()[:2], FALLBACK]


def use_cjk_font(warn: bool = True) -> list[str]:
    """Set matplotlib's ``font.family`` so Chinese labels draw; warn once when no CJK font is
    installed. Returns the family list set."""
    import matplotlib.pyplot as plt
    global _warned
    families = font_family()
    if warn and not cjk_families() and not _warned:
        _warned = True
        warnings.warn("no CJK font found: Chinese district names will show as boxes; "
                      "install one, e.g. `apt-get install fonts-noto-cjk`", stacklevel=2)
    plt.rcParams["font.family"] = families
    plt.rcParams["axes.unicode_minus"] = False
    return families


def _known() -> set[str]:
    from matplotlib import font_manager
    return {f.name for f in font_manager.fontManager.ttflist}


def _preferred(have: set[str]) -> list[str]:
    return [f for f in CJK_FAMILIES if f in have]


def _register_installed() -> list[str]:
    from matplotlib import font_manager
    manager = font_manager.fontManager
    files = list(dict.fromkeys([*_fontconfig_files(), *(p for p in DEBIAN_FILES if os.path.isfile(p))]))
    added = []
    for path in files[:MAX_FILES]:
        before = len(manager.ttflist)
        try:
            manager.addfont(path)
        except (OSError, RuntimeError, ValueError):   # unreadable or not a font matplotlib can parse
            continue
        added += [f.name for f in manager.ttflist[before:]]
    have = _known()
    others = [name for name in dict.fromkeys(added) if name not in CJK_FAMILIES and "Mono" not in name]
    return _preferred(have) + others


def _fontconfig_files() -> list[str]:
    """Files of the installed fonts that cover Chinese, as fontconfig lists them."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return []
    try:
        out = subprocess.run([fc_list, ":lang=zh", "file"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    files = sorted({line.strip().rstrip(":").strip() for line in out.splitlines() if line.strip()})
    # Sans faces first: they are the ones the figures ask for.
    return sorted((f for f in files if os.path.isfile(f)), key=lambda f: ("Sans" not in f, f))
