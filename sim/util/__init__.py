"""Shared utilities, the ground floor: messages that quote values short (``messages``), the one
root of every bad-input error and the command guard (``errors``), the compiled-loop machinery
with its numpy twins and shared loop helpers (``jit``), and the seeded random draws the loops
share (``draws``).

Imports nothing of ``sim``.
"""
