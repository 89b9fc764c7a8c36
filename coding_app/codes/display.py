"""Codes as a person reads them: dotted, with their description.

Stored codes are keys (``E1165``) and stay so; every page shows them through
these functions (the template tags of ``coding_app.templatetags.codes``), so
that no page prints ``I214`` where a coder expects ``I21.4 Non-ST elevation
(NSTEMI) myocardial infarction``. Text that a model wrote (its reasoning, a
rationale) is kept as written except for the codes in it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from coding_app.codes.forms import CATEGORY_PATTERN, code_key, dotted
from coding_app.codes.hierarchy import Hierarchy

# A code written in running text, dotted or not: ``R591``, ``I21.4``, ``E11``.
# Letters and digits on either side make it part of a longer word.
_CODE_IN_TEXT = re.compile(
    rf"(?<![0-9A-Za-z.]){CATEGORY_PATTERN}(?:\.?[0-9A-Z]{{1,4}})?(?![0-9A-Za-z])"
)


@dataclass(frozen=True)
class CodeLabel:
    """A code's two parts on a page: ``code`` dotted, and its description
    (empty for a code the active release does not have)."""

    code: str
    description: str

    def __str__(self) -> str:
        return f"{self.code} {self.description}" if self.description else self.code


def code_label(code: object, hierarchy: Hierarchy | None) -> CodeLabel:
    """The label of a stored code (a key, a dotted code, or any text).

    A code of the release gets its description; one shaped like a code but
    not in the release is only dotted; other text is shown as stored.
    """
    entry = hierarchy.entry(code) if hierarchy is not None else None
    if entry is not None:
        return CodeLabel(entry.dotted, entry.description)
    key = code_key(code)
    return CodeLabel(dotted(key) if key else str(code).strip(), "")


@dataclass(frozen=True)
class TextPiece:
    """A piece of free text: plain, or a code of the release (``label`` set)."""

    text: str
    label: CodeLabel | None = None


def codes_in_text(text: str, hierarchy: Hierarchy | None) -> list[TextPiece]:
    """``text`` cut into plain pieces and the release's codes written in it.

    Only codes the release has are picked out, so words that merely look
    like a code (``A1C``, ``Q12H``) stay as written.
    """
    pieces: list[TextPiece] = []
    done = 0
    for match in _CODE_IN_TEXT.finditer(text):
        entry = hierarchy.entry(match.group()) if hierarchy is not None else None
        if entry is None:
            continue
        if match.start() > done:
            pieces.append(TextPiece(text[done : match.start()]))
        pieces.append(TextPiece(match.group(), CodeLabel(entry.dotted, entry.description)))
        done = match.end()
    if done < len(text) or not pieces:
        pieces.append(TextPiece(text[done:]))
    return pieces
