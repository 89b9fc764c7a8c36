"""Excludes1 notes: which codes must never be reported together.

An Excludes1 note ("NOT CODED HERE") sits on a code, a category, a block or a
chapter and applies to everything below it. Its text ends with the codes it
excludes in parentheses: ``(E08.-)``, ``(E10-E13)``, ``(B38.0-B38.2)``,
``(N48.1, N48.2-)``. A reference covers the code it names and all codes below
it; a range covers every code between its ends, at the ends' own depth.
Parenthesised text that is not purely a list of codes ("(stuttering)",
"(I69. with final characters -23)") is skipped rather than guessed at.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from coding_app.codes.entry import CodeEntry
from coding_app.codes.forms import code_key
from coding_app.codes.hierarchy import Hierarchy

_PARENTHESES = re.compile(r"\(([^()]{1,200})\)")
# Only these characters may appear in a parenthesised list of codes.
_LIST_CHARACTERS = re.compile(r"[A-Z0-9.,\-\s]+")
# A dash followed by a letter separates the ends of a range ("E08-E13"); any
# other dash means "and below" ("E08.-", "N48.2-").
_RANGE_DASH = re.compile(r"-(?=\s*[A-Z])")


@dataclass(frozen=True, slots=True)
class CodeSpan:
    """The codes from ``low`` to ``high`` (keys) and everything below them."""

    low: str
    high: str

    def covers(self, code: str) -> bool:
        return code[: len(self.low)] >= self.low and code[: len(self.high)] <= self.high


@dataclass(frozen=True)
class Excludes1Conflict:
    """``code`` and ``excluded`` were reported together although the note on
    ``noted_at`` (``code`` itself or one of its ancestors) forbids it."""

    code: str
    excluded: str
    noted_at: str
    note: str

    @property
    def codes(self) -> tuple[str, str]:
        return (self.code, self.excluded)


@lru_cache(maxsize=8192)
def note_spans(note: str) -> tuple[CodeSpan, ...]:
    """The code spans a note's parenthesised code lists name."""
    spans: list[CodeSpan] = []
    for group in _PARENTHESES.findall(note):
        spans.extend(_group_spans(group))
    return tuple(spans)


def _group_spans(group: str) -> list[CodeSpan]:
    """All spans of one list, or none when any item is not a plain reference."""
    if not _LIST_CHARACTERS.fullmatch(group):
        return []
    spans: list[CodeSpan] = []
    for item in filter(None, (part.strip() for part in group.split(","))):
        ends = [_reference_key(end) for end in _RANGE_DASH.split(item)]
        if len(ends) > 2 or None in ends:
            return []
        keys = [end for end in ends if end]
        spans.append(CodeSpan(keys[0], keys[-1]))
    return spans


def _reference_key(reference: str) -> str | None:
    # "E08.-" and "N48.2-" mean "this code and below": the key is the stem.
    return code_key(reference.strip().rstrip("-").rstrip("."))


def excludes1_conflicts(codes: Iterable[str], hierarchy: Hierarchy) -> list[Excludes1Conflict]:
    """Each pair of codes in one set that an Excludes1 note forbids, once.

    Codes unknown to the release carry no notes and are skipped. A code and
    its own ancestor are never a conflict here: that is a redundant header,
    not an Excludes1 matter.
    """
    entries = {entry.code: entry for entry in map(hierarchy.entry, codes) if entry is not None}
    ordered = sorted(entries)
    conflicts: list[Excludes1Conflict] = []
    seen: set[frozenset[str]] = set()
    for code in ordered:
        lineage = hierarchy.lineage(code)
        lineage_codes = {entry.code for entry in lineage}
        for other in ordered:
            pair = frozenset((code, other))
            if other in lineage_codes or pair in seen:
                continue
            if code in {entry.code for entry in hierarchy.lineage(other)}:
                continue
            conflict = _forbidding_note(code, other, lineage)
            if conflict is not None:
                seen.add(pair)
                conflicts.append(conflict)
    return conflicts


def _forbidding_note(code: str, other: str, lineage: list[CodeEntry]) -> Excludes1Conflict | None:
    for holder in lineage:
        for note in holder.excludes1:
            if any(span.covers(other) for span in note_spans(note)):
                return Excludes1Conflict(code, other, holder.code, note)
    return None
