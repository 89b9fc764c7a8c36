"""The code set's own words as phrases: "fever" for R50.9, "anemia" for D64.9.

A code's description and inclusion terms, cut to the phrase a note writes:
parentheses dropped ("Essential (primary) hypertension" -> "essential
hypertension"), a trailing ", unspecified" or a leading "unspecified" dropped
("Fever, unspecified" -> "fever"). Only phrases of at most ``MAX_GRAM`` words
that name at most ``MAX_CODES`` codes are kept: longer ones are never written
as such, and "pain" naming forty codes says nothing. This is what lets the
model suggest a code no coder has given yet, by name.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

from coding_app.codes.entry import CodeEntry
from worker.backends.embedding.signals.mentions import MAX_GRAM, normalise

MAX_CODES = 3
_PARENTHESES = re.compile(r"\s*[(\[][^)\]]*[)\]]")
_UNSPECIFIED = re.compile(r",?\s*\bunspecified\b\s*,?", re.IGNORECASE)

Terminology = dict[str, tuple[str, ...]]


def terminology_build(entries: Iterable[CodeEntry]) -> Terminology:
    """Phrase -> the billable codes it names (at most ``MAX_CODES``)."""
    named: dict[str, set[str]] = defaultdict(set)
    for entry in entries:
        if not entry.billable:
            continue
        for text in (entry.description, *entry.inclusion_terms):
            for phrase in _variants(text):
                named[phrase].add(entry.code)
    return {p: tuple(sorted(codes)) for p, codes in named.items() if len(codes) <= MAX_CODES}


def _variants(text: str) -> set[str]:
    plain = _PARENTHESES.sub("", text)
    forms = {plain, _UNSPECIFIED.sub(" ", plain), plain.split(",")[0]}
    phrases = {normalise(form) for form in forms}
    return {p for p in phrases if p and len(p.split()) <= MAX_GRAM}
