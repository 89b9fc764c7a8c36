"""Normalise what a coder or a model wrote into a billable code, or say why not.

``check_code`` never raises: whatever it is given (a string of any length, an
empty one, not a string at all) it answers with a ``CodeCheck`` that either
holds the billable code or names the refusal and explains it in the words a
coder uses, with codes to pick instead where the release offers some.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models

from coding_app.codes.entry import CodeEntry, CodeKind
from coding_app.codes.forms import MAX_CODE_TEXT, code_key, dotted
from coding_app.codes.hierarchy import Hierarchy

EXAMPLES = 5


class Refusal(models.TextChoices):
    MALFORMED = "malformed", "Not written like a code"
    UNKNOWN = "unknown", "Not in this release"
    NOT_BILLABLE = "not_billable", "Header, not billable"
    BAD_SEVENTH_CHARACTER = "bad_seventh_character", "7th character not allowed"


@dataclass(frozen=True)
class CodeCheck:
    """The verdict on one written code.

    ``entry`` is the code when it is accepted, and also the header when the
    refusal is NOT_BILLABLE. ``suggestions`` are billable codes to offer.
    ``nearest`` is the code of the release the message names as closest to
    a code it does not know (the padded form, or the longest known prefix).
    """

    text: str
    entry: CodeEntry | None
    refusal: Refusal | None
    message: str
    suggestions: tuple[CodeEntry, ...] = ()
    nearest: CodeEntry | None = None

    @property
    def ok(self) -> bool:
        return self.refusal is None

    @property
    def code(self) -> str | None:
        return self.entry.code if self.ok and self.entry else None


def check_code(text: object, hierarchy: Hierarchy) -> CodeCheck:
    """Accept ``e11.65``, `` E1165 `` and ``E11.65`` alike; refuse with a reason."""
    shown = _shown(text)
    key = code_key(text)
    if key is None:
        heading = _heading(text, hierarchy)
        if heading is not None:
            return _not_billable(shown, heading, hierarchy)
        return CodeCheck(shown, None, Refusal.MALFORMED, _malformed_message(text))
    entry = hierarchy.entry(key)
    if entry is not None and entry.billable:
        return CodeCheck(shown, entry, None, f"{entry.dotted} {entry.description}")
    if entry is not None:
        return _not_billable(shown, entry, hierarchy)
    return _unknown(shown, key, hierarchy)


def normalize_code(text: object, hierarchy: Hierarchy) -> str | None:
    """The billable code key for ``text``, or None; see ``check_code`` for why."""
    return check_code(text, hierarchy).code


def _shown(text: object) -> str:
    """The input as it may be echoed back: trimmed and never long."""
    if not isinstance(text, str):
        return ""
    text = text.strip()
    return text if len(text) <= MAX_CODE_TEXT else f"{text[:MAX_CODE_TEXT]}…"


def _heading(text: object, hierarchy: Hierarchy) -> CodeEntry | None:
    """A chapter number or block range typed where a code belongs."""
    if not isinstance(text, str) or len(text) > MAX_CODE_TEXT:
        return None
    entry = hierarchy.entry(text.strip().upper())
    return entry if entry is not None and not entry.is_diagnosis else None


def _malformed_message(text: object) -> str:
    form = "An ICD-10-CM code is a three-character category (a letter, then digits or "
    form += "letters with at least one digit), then up to four more characters after a dot, "
    form += "like E11.65 or S72.001A."
    if not isinstance(text, str) or not text.strip():
        return f"No code was given. {form}"
    written = text.strip()
    if len(written) > MAX_CODE_TEXT:
        return f"That is {len(written)} characters, far too long for a code. {form}"
    if not written.isascii():
        return f"“{_shown(text)}” has characters that never appear in a code. {form}"
    return f"“{_shown(text)}” is {_shape_problem(written.upper())} {form}"


def _shape_problem(written: str) -> str:
    """The first thing wrong with an ASCII string that is not a code."""
    bare = written.replace(".", "")
    if not bare.isalnum():
        return "not a code: it has spaces or punctuation inside."
    if not bare[0].isalpha():
        return "not a code: a code starts with a letter."
    if len(bare) < 3:
        return "too short: a code has at least three characters (the category)."
    if not (bare[1].isdigit() or bare[2].isdigit()):
        return "not a code: the category (the first three characters) has a digit, as in E11."
    if len(bare) > 7:
        return "too long: a code has at most seven characters."
    return "not a code: the dot belongs after the third character."


def _not_billable(shown: str, entry: CodeEntry, hierarchy: Hierarchy) -> CodeCheck:
    examples = tuple(hierarchy.billable_under(entry.code, EXAMPLES))
    children = hierarchy.children(entry.code)
    kind = {CodeKind.CHAPTER: "a chapter", CodeKind.BLOCK: "a block"}.get(entry.kind, "a header")
    if children and _is_extension(children[0], hierarchy):
        reason = "it needs a 7th character"
    else:
        reason = f"it is {kind} with more specific codes under it"
    name = f"Chapter {entry.dotted}" if entry.kind == CodeKind.CHAPTER else entry.dotted
    message = f"{name} ({entry.description}) is not billable: {reason}."
    if examples:
        message += f" Billable codes under it include {_listing(examples)}."
    return CodeCheck(shown, entry, Refusal.NOT_BILLABLE, message, examples)


def _is_extension(code: str, hierarchy: Hierarchy) -> bool:
    entry = hierarchy.entry(code)
    return entry is not None and entry.kind == CodeKind.EXTENDED


def _unknown(shown: str, key: str, hierarchy: Hierarchy) -> CodeCheck:
    seventh = _seventh_character_refusal(shown, key, hierarchy)
    if seventh is not None:
        return seventh
    placeholder = _missing_placeholder(key, hierarchy)
    release = hierarchy.release or "this release"
    if placeholder is not None:
        message = (
            f"{dotted(key)} is not a code in {release}: a 7th character needs X placeholders "
            f"to reach the 7th place. Did you mean {placeholder.dotted}?"
        )
        return CodeCheck(shown, None, Refusal.UNKNOWN, message, (placeholder,), placeholder)
    nearest = _nearest_known(key, hierarchy)
    message = f"{dotted(key)} is not a code in {release}."
    if nearest is None:
        return CodeCheck(shown, None, Refusal.UNKNOWN, message)
    examples = tuple(hierarchy.billable_under(nearest.code, EXAMPLES))
    message += f" The nearest code that exists is {nearest.dotted} ({nearest.description})"
    if examples and not nearest.billable:
        message += f"; billable codes under it include {_listing(examples)}"
    return CodeCheck(shown, None, Refusal.UNKNOWN, message + ".", examples, nearest)


def _seventh_character_refusal(shown: str, key: str, hierarchy: Hierarchy) -> CodeCheck | None:
    """A seven-character code whose last character its category does not define."""
    if len(key) != 7:
        return None
    base = _nearest_known(key[:6], hierarchy, include_self=True)
    allowed = hierarchy.seventh_characters(base.code) if base else {}
    if base is None or not allowed or key[6] in allowed:
        return None
    holder = next(e for e in hierarchy.lineage(base.code) if e.seventh_characters)
    choices = "; ".join(f"{char} {meaning}" for char, meaning in allowed.items())
    message = (
        f"{dotted(key)} is not a code: {key[6]} is not a 7th character of {holder.dotted} "
        f"({holder.description}). Its 7th characters are: {choices}."
    )
    return CodeCheck(shown, None, Refusal.BAD_SEVENTH_CHARACTER, message, (), base)


def _missing_placeholder(key: str, hierarchy: Hierarchy) -> CodeEntry | None:
    """``S00.00A`` written for ``S00.00XA``: the same code once padded with X."""
    if len(key) >= 7 or len(key) < 4:
        return None
    padded = key[:-1].ljust(6, "X") + key[-1]
    entry = hierarchy.entry(padded)
    return entry if entry is not None and entry.kind == CodeKind.EXTENDED else None


def _nearest_known(key: str, hierarchy: Hierarchy, include_self: bool = False) -> CodeEntry | None:
    """The longest prefix of ``key`` (ignoring X placeholders) that is a code."""
    stem = key.rstrip("X") if include_self else key[:-1].rstrip("X")
    for length in range(len(stem), 2, -1):
        entry = hierarchy.entry(stem[:length])
        if entry is not None:
            return entry
    return None


def _listing(entries: tuple[CodeEntry, ...]) -> str:
    return ", ".join(f"{entry.dotted} ({entry.description})" for entry in entries)
