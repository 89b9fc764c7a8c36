"""Which "family history of" code stands for a condition said of a relative.

"Her mother had breast cancer" documents Z80.3 (family history of malignant
neoplasm of breast), never C50. The table follows the Z80-Z84 categories of
ICD-10-CM: the first row whose code prefix the condition's code starts with
wins; a condition with no row gets no code from a family mention.
"""

from __future__ import annotations

from coding_app.codes.hierarchy import Hierarchy

# (prefixes of the condition's code, the family-history code), first match wins.
_TABLE: tuple[tuple[tuple[str, ...], str], ...] = (
    (("C15", "C16", "C17", "C18", "C19", "C20", "C21", "C22", "C23", "C24", "C25", "C26"), "Z800"),
    (("C33", "C34"), "Z801"),
    (("C30", "C31", "C32", "C37", "C38", "C39"), "Z802"),
    (("C50",), "Z803"),
    (("C56",), "Z8041"),
    (("C61",), "Z8042"),
    (("C62",), "Z8043"),
    (("C51", "C52", "C53", "C54", "C55", "C57", "C58", "C60", "C63"), "Z8049"),
    (("C64",), "Z8051"),
    (("C67",), "Z8052"),
    (("C65", "C66", "C68"), "Z8059"),
    (("C91", "C92", "C93", "C94", "C95"), "Z806"),
    (("C81", "C82", "C83", "C84", "C85", "C86", "C88", "C90", "C96"), "Z807"),
    (("C",), "Z808"),
    (("E10", "E11", "E13"), "Z833"),
    (("I20", "I21", "I22", "I23", "I24", "I25"), "Z8249"),
    (("I60", "I61", "I62", "I63", "I64"), "Z823"),
    (("I10", "I11", "I12", "I13", "I15", "I16"), "Z8249"),
    (("J45",), "Z825"),
    (("G40",), "Z820"),
    (("F10",), "Z811"),
    (("F",), "Z818"),
    (("N18",), "Z841"),
    (("Q",), "Z8279"),
)  # fmt: skip


def family_history_code(code: str, hierarchy: Hierarchy) -> str | None:
    """The billable family-history code for ``code``, or None."""
    for prefixes, family in _TABLE:
        if code.startswith(prefixes):
            entry = hierarchy.entry(family)
            return family if entry is not None and entry.billable else None
    return None
