"""The one root of every bad-input error, and the guard that turns them into one line.

Every named input error of the project (a parameter, a data file, a scenario, a target set, an
output folder, a calibration or sensitivity setting) derives from :class:`InputError`, so a
command catches one type. :class:`KeyedError` is the common shape "file: key 'k': what is
allowed"; :class:`OptionError` is that shape for a command-line option.
"""

from __future__ import annotations

import sys

from .messages import clip, escaped


class InputError(ValueError):
    """Bad input; the message names the file (or option), the key or row and what is allowed."""


class KeyedError(InputError):
    """A value that cannot be used, named by its file and key."""

    def __init__(self, file, key: str, message: str):
        self.file, self.key, self.detail = str(file), key, message
        # a newline in a path or key must not split the one line the message is
        super().__init__(clip(f"{clip(escaped(str(file)), 200)}: key '{escaped(str(key))}': {message}"))


class OptionError(KeyedError):
    """A command-line option that cannot be used."""

    def __init__(self, option: str, message: str):
        super().__init__("(command line)", option, message)


def guarded(work, finished: str, again: str) -> int:
    """Run a command's ``work``: bad input is one line and exit 2; a write that fails halfway (a
    full disk, a folder made read-only) or Ctrl-C keeps what is on disk, with its marker, and says
    so (``finished``: what that is) and to run the same command to ``again``."""
    try:
        return work()
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        if e.filename is None:
            raise
        print(f"error: cannot write {clip(str(e.filename), 200)}: {e.strerror or e}; {finished} are kept: fix this and "
              f"run the same command to {again}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\ninterrupted: {finished} are kept; run the same command to {again}", file=sys.stderr)
        return 130
