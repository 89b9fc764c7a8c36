"""Checking the reference codes that a source sends with its notes.

A reference code must be a diagnosis code of the loaded release: a category,
subcategory or full code. Headers that are not billable (``E11``, ``R69``'s
parents) are accepted as written by the source, because real-world gold
standards such as CodiEsp contain them and category-level metrics still use
them. Any other code (one the release does not know, such as CodiEsp's
``S37.29X`` without its 7th character or a code of an older release, a
chapter or block, or words) does not cost the note: the note is imported
with the code kept as written and flagged with the reason and the nearest
code of the release, and training and evaluation leave it out.
"""

from __future__ import annotations

from dataclasses import dataclass

from coding_app.codes.hierarchy import Hierarchy
from coding_app.codes.normalize import Refusal, check_code
from worker.models.notes import ReferenceCodeFlag


@dataclass(frozen=True)
class ReferenceCode:
    """One reference code as checked: its key when usable, else its flag."""

    key: str | None
    flag: ReferenceCodeFlag | None = None

    @property
    def stored(self) -> str:
        """What the note keeps: the release's key, or the code as written."""
        if self.key is not None:
            return self.key
        assert self.flag is not None
        return self.flag["code"]


def reference_code_check(code: str, hierarchy: Hierarchy) -> ReferenceCode:
    """The code's key when it is a diagnosis code of the release, else a flag."""
    check = check_code(code, hierarchy)
    if check.ok and check.entry is not None:
        return ReferenceCode(check.entry.code)
    entry = check.entry
    if check.refusal == Refusal.NOT_BILLABLE and entry is not None and entry.is_diagnosis:
        return ReferenceCode(entry.code)
    release = hierarchy.release or "the loaded release"
    if check.refusal == Refusal.NOT_BILLABLE:
        reason = f"reference code {check.message} Only diagnosis codes can be reference codes."
    else:
        reason = f"unknown reference code in {release}: {check.message}"
    nearest = check.nearest.code if check.nearest is not None else None
    # check.text is the code trimmed (and cut short if it is far too long to
    # be one), so the note keeps what the source wrote, never a huge string.
    return ReferenceCode(None, {"code": check.text, "reason": reason, "nearest": nearest})
