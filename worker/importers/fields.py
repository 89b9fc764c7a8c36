"""Turning loosely typed source values into the fields of a note."""

from __future__ import annotations

import re

_CODE_SEPARATORS = re.compile(r"[;,|\s]+")


def identifier(value: object) -> str | None:
    """An id as text: numbers are accepted, blanks count as missing."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | str):
        text = str(value).strip()
        return text or None
    return None


def code_list(value: object) -> tuple[str, ...] | None:
    """Codes from a list of strings or one separated string; None if neither."""
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(part for part in _CODE_SEPARATORS.split(value) if part)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(item.strip() for item in value if item.strip())
    return None
