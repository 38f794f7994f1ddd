"""How error messages quote what the user gave: never more than a couple of hundred characters.

A scenario value can be a 100,000-character string, an integer of thousands of digits or a list
nested hundreds deep; quoting it whole buries the message (and ``repr`` of the deepest ones
raises). Messages quote values through :func:`short` instead. A message is also one line: a
key or a path the user gave is quoted through :func:`key_name` or :func:`escaped`, and text that
must itself be one printable line (a description, a folder name) is checked with
:func:`unprintable`.
"""

from __future__ import annotations

import reprlib
import unicodedata

LIMIT = 200          # characters of a quoted value
MESSAGE_LIMIT = 2000  # characters of a whole message (lists of what is allowed included)

_repr = reprlib.Repr()
_repr.maxlevel = 3
_repr.maxlist = _repr.maxtuple = _repr.maxset = _repr.maxfrozenset = 8
_repr.maxdict = 6
_repr.maxstring = 120
_repr.maxlong = 40
_repr.maxother = 120


def short(value, limit: int = LIMIT) -> str:
    """``repr(value)``, shortened to at most ``limit`` characters."""
    try:
        text = _repr.repr(value)
    except (ValueError, RecursionError, MemoryError):
        # int → str refuses more than 4,300 digits; say what it is instead.
        text = f"<an integer of {value.bit_length()} bits>" if isinstance(value, int) else f"<a {type(value).__name__}>"
    except Exception:  # noqa: BLE001 — a user type's broken __repr__ must not hide the real error
        text = f"<a {type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def clip(message: str, limit: int = MESSAGE_LIMIT) -> str:
    """A whole message cut to ``limit`` characters (the last line of defence against echoes)."""
    return message if len(message) <= limit else message[: limit - 1] + "…"


def key_name(key: str, limit: int = 80) -> str:
    """A key as a message names it: clipped, an empty key (``"" = 1`` in TOML) spelled out, and a
    control character escaped (a quoted TOML key may hold a newline, which would split the message)."""
    return clip(escaped(clip(key, limit)), limit) if key else '""'


def unprintable(text: str) -> int | None:
    """Where ``text`` stops being one line of printable text: the index of its first control
    character (a newline, a tab, NUL…), invisible format character (zero-width, bidirectional
    override), line or paragraph separator, private-use, surrogate or unassigned code point; None
    if there is none. Spaces of any width (an ideographic space in Chinese text) are printable."""
    if text.isprintable():
        return None
    for i, c in enumerate(text):
        category = unicodedata.category(c)
        if category[0] == "C" or category in ("Zl", "Zp"):
            return i
    return None


_CONTROL_NAMES = {"\x00": "NUL", "\t": "TAB", "\n": "LINE FEED (a newline)", "\r": "CARRIAGE RETURN", "\x1b": "ESCAPE"}


def char_name(c: str) -> str:
    """A character as a message names it, whether or not it shows: ``U+0000 NUL`` or ``U+200B ZERO WIDTH SPACE``."""
    name = _CONTROL_NAMES.get(c) or unicodedata.name(c, "")
    return f"U+{ord(c):04X}" + (f" {name}" if name else "")


def escaped(text: str) -> str:
    """``text`` with each character :func:`unprintable` finds written as its escape (``\\n``,
    ``\\x00``, ``\\u200b``), so a message quoting it stays on one visible line."""
    if unprintable(text) is None:
        return text
    return "".join(repr(c)[1:-1] if unprintable(c) is not None else c for c in text)
