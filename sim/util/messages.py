"""How error messages quote what the user gave: never more than a couple of hundred characters.

A scenario value can be a 100,000-character string, an integer of thousands of digits or a list
nested hundreds deep; quoting it whole buries the message (and ``repr`` of the deepest ones
raises). Messages quote values through :func:`short` instead.
"""

from __future__ import annotations

import reprlib

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
    """A key as a message names it: clipped, and an empty key (``"" = 1`` in TOML) spelled out."""
    return clip(key, limit) if key else '""'
