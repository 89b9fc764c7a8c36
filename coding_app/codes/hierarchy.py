"""The ICD-10-CM tree in memory, and how two codes relate in it.

A ``Hierarchy`` is built once from a release's entries (from the ``Code``
table, or straight from the release files) and then answers every question
without a query, so Celery workers and trl reward functions can compare
thousands of code sets cheaply. It is read-only after construction and safe
to share between threads.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.db import models

from coding_app.codes.entry import CodeEntry, CodeKind
from coding_app.codes.forms import code_key


class Relation(models.TextChoices):
    """How code ``a`` stands to code ``b``, closest first.

    ANCESTOR means ``a`` is the less specific one (E11 to E11.65); DESCENDANT
    the more specific one. Siblings share a parent below category level
    (E11.65 and E11.649); two categories of one block are SAME_BLOCK.
    """

    EXACT = "exact", "Exact"
    ANCESTOR = "ancestor", "Less specific (ancestor)"
    DESCENDANT = "descendant", "More specific (descendant)"
    SIBLING = "sibling", "Sibling (same parent)"
    SAME_CATEGORY = "same_category", "Same category"
    SAME_BLOCK = "same_block", "Same block"
    SAME_CHAPTER = "same_chapter", "Same chapter"
    UNRELATED = "unrelated", "Unrelated"

    @property
    def closeness(self) -> int:
        """6 for exact down to 0 for unrelated; ancestor and descendant tie,
        as they are one relation seen from either side."""
        return _CLOSENESS[self.value]


_CLOSENESS = {
    "exact": 6,
    "ancestor": 5,
    "descendant": 5,
    "sibling": 4,
    "same_category": 3,
    "same_block": 2,
    "same_chapter": 1,
    "unrelated": 0,
}


class Hierarchy:
    """Every entry of one release, keyed by code, with parent and child links."""

    def __init__(self, entries: Iterable[CodeEntry], release: str = "") -> None:
        self.release = release
        self._entries: dict[str, CodeEntry] = {}
        self._children: dict[str, list[str]] = {}
        for entry in entries:
            self._entries[entry.code] = entry
            if entry.parent:
                self._children.setdefault(entry.parent, []).append(entry.code)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, code: object) -> bool:
        return self.entry(code) is not None

    def __iter__(self) -> Iterator[CodeEntry]:
        return iter(self._entries.values())

    def __repr__(self) -> str:
        return f"<Hierarchy {self.release or 'unnamed'}: {len(self)} entries>"

    def entry(self, code: object) -> CodeEntry | None:
        """The entry for a code in any written form, or a chapter or block key."""
        if isinstance(code, str) and code in self._entries:
            return self._entries[code]
        key = code_key(code)
        return self._entries.get(key) if key else None

    def children(self, code: str) -> tuple[str, ...]:
        entry = self.entry(code)
        return tuple(self._children.get(entry.code, ())) if entry else ()

    def lineage(self, code: str) -> list[CodeEntry]:
        """The entry and its ancestors, nearest first, up to the chapter."""
        chain: list[CodeEntry] = []
        entry = self.entry(code)
        while entry is not None and len(chain) < 16:  # a release is 8 deep at most
            chain.append(entry)
            entry = self._entries.get(entry.parent) if entry.parent else None
        return chain

    def billable_under(self, code: str, limit: int = 5) -> list[CodeEntry]:
        """The first ``limit`` billable codes at or below ``code``, in release order."""
        start = self.entry(code)
        found: list[CodeEntry] = []
        stack = [start.code] if start else []
        while stack and len(found) < limit:
            entry = self._entries.get(stack.pop())
            if entry is None:
                continue
            if entry.billable:
                found.append(entry)
            stack.extend(reversed(self._children.get(entry.code, ())))
        return found

    def seventh_characters(self, code: str) -> dict[str, str]:
        """The 7th characters allowed below ``code`` (defined on it or above)."""
        for entry in self.lineage(code):
            if entry.seventh_characters:
                return entry.seventh_characters
        return {}

    def relation(self, a: object, b: object) -> Relation:
        """How ``a`` stands to ``b``. Codes unknown to the release relate
        only to themselves (EXACT) and are otherwise UNRELATED."""
        first, second = self.entry(a), self.entry(b)
        if first is None or second is None:
            same = code_key(a) is not None and code_key(a) == code_key(b)
            return Relation.EXACT if same else Relation.UNRELATED
        return _relation(first, second, self)

    @classmethod
    def from_rows(cls, rows: Iterable[dict[str, Any]], release: str = "") -> Hierarchy:
        """Build from ``Code`` rows given as dicts of CodeEntry fields."""
        return cls((_entry_from_row(row) for row in rows), release)


def _relation(a: CodeEntry, b: CodeEntry, hierarchy: Hierarchy) -> Relation:
    if a.code == b.code:
        return Relation.EXACT
    if any(entry.code == a.code for entry in hierarchy.lineage(b.code)[1:]):
        return Relation.ANCESTOR
    if any(entry.code == b.code for entry in hierarchy.lineage(a.code)[1:]):
        return Relation.DESCENDANT
    below_category = a.kind != CodeKind.CATEGORY and b.kind != CodeKind.CATEGORY
    if a.is_diagnosis and b.is_diagnosis:
        if below_category and a.parent == b.parent:
            return Relation.SIBLING
        if a.category == b.category:
            return Relation.SAME_CATEGORY
    if a.block and a.block == b.block:
        return Relation.SAME_BLOCK
    if a.chapter == b.chapter:
        return Relation.SAME_CHAPTER
    return Relation.UNRELATED


def _entry_from_row(row: dict[str, Any]) -> CodeEntry:
    return CodeEntry(
        code=row["code"],
        dotted=row["dotted"],
        description=row["description"],
        kind=CodeKind(row["kind"]),
        chapter=row["chapter"],
        block=row["block"],
        category=row["category"],
        parent=row["parent"],
        billable=row["billable"],
        inclusion_terms=tuple(row["inclusion_terms"]),
        excludes1=tuple(row["excludes1"]),
        excludes2=tuple(row["excludes2"]),
        seventh_characters=dict(row["seventh_characters"]),
    )
