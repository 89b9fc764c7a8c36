"""Checking the reference codes that a source sends with its notes.

For now this checks how a code is written only; refusing codes unknown in
the loaded release (``coding_app.codes.normalize.check_code``) is the open
part of issue 4, and ``reference_code_problem`` is the one place to add it.
"""

from __future__ import annotations

import re

# A letter, a digit, a digit or letter (the category), then up to four more
# characters, with the dot after the third or left out (MIMIC-IV writes
# E1165, most other sources E11.65).
_WRITTEN_SHAPE = re.compile(r"[A-Z][0-9][0-9A-Z](?:\.?[0-9A-Z]{1,4})?")
MAX_CODE_TEXT = 32


def reference_code_key(code: str) -> str:
    """The stored form of a code that passed the check: ``e11.65`` gives ``E1165``."""
    return code.strip().upper().replace(".", "")


def reference_code_problem(code: str) -> str | None:
    """Why ``code`` cannot be a reference code, or None when it can."""
    written = code.strip().upper()
    if not written:
        return "an empty code"
    as_given = code.strip()
    shown = as_given if len(as_given) <= MAX_CODE_TEXT else f"{as_given[:MAX_CODE_TEXT]}…"
    if not written.isascii() or not _WRITTEN_SHAPE.fullmatch(written):
        return (
            f"“{shown}” is not written like an ICD-10-CM code "
            "(a letter, a digit, a digit or letter, then up to four more, like E11.65)"
        )
    return None
