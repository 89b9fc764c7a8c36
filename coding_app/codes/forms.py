"""The written forms of a code: what a coder types and what the tables key on.

Pure string work with no release behind it; ``normalize`` adds the release.
"""

from __future__ import annotations

import re

# The category is a letter and two characters, at least one a digit (E11,
# C7A, and since 2026 QA0), then up to four more characters: ICD-10-CM never
# uses more than seven. The digit keeps words such as "and" from passing.
CATEGORY_PATTERN = r"[A-Z](?:[0-9][0-9A-Z]|[A-Z][0-9])"
_KEY_SHAPE = re.compile(rf"{CATEGORY_PATTERN}[0-9A-Z]{{0,4}}")
_WRITTEN_SHAPE = re.compile(rf"{CATEGORY_PATTERN}(?:\.?[0-9A-Z]{{1,4}})?")

# Longer text is never a code; refusing it early keeps every caller cheap on
# whatever a model or a form sends.
MAX_CODE_TEXT = 32


def code_key(text: object) -> str | None:
    """``e11.65``, `` E1165 `` and ``E11.65`` all give ``E1165``.

    Returns None for anything that is not written like a diagnosis code: not a
    string, not ASCII, a dot anywhere but after the third character, too long.
    """
    if not isinstance(text, str) or len(text) > MAX_CODE_TEXT:
        return None
    written = text.strip().upper()
    if not written.isascii() or not _WRITTEN_SHAPE.fullmatch(written):
        return None
    return written.replace(".", "")


def is_code_key(text: str) -> bool:
    """True for text already in key form (upper case, no dot)."""
    return bool(_KEY_SHAPE.fullmatch(text))


def dotted(code: str) -> str:
    """``E1165`` gives ``E11.65``; a category keeps no dot."""
    return code if len(code) <= 3 else f"{code[:3]}.{code[3:]}"
