"""Checking the reference codes that a source sends with its notes.

A reference code must be a diagnosis code of the loaded release: a category,
subcategory or full code. Headers that are not billable (``E11``, ``R69``'s
parents) are accepted as written by the source, because real-world gold
standards such as CodiEsp contain them and category-level metrics still use
them; chapters, blocks and codes the release does not know are refused,
which rejects the row with the reason (the import's rule for bad rows).
"""

from __future__ import annotations

from coding_app.codes.hierarchy import Hierarchy
from coding_app.codes.normalize import Refusal, check_code


def reference_code_check(code: str, hierarchy: Hierarchy) -> tuple[str | None, str | None]:
    """``(key, None)`` for a usable code, ``(None, reason)`` for one that is not."""
    check = check_code(code, hierarchy)
    if check.ok and check.entry is not None:
        return check.entry.code, None
    entry = check.entry
    if check.refusal == Refusal.NOT_BILLABLE and entry is not None and entry.is_diagnosis:
        return entry.code, None
    release = hierarchy.release or "the loaded release"
    if check.refusal == Refusal.NOT_BILLABLE:
        return None, f"reference code {check.message} Only diagnosis codes can be reference codes."
    return None, f"unknown reference code in {release}: {check.message}"
