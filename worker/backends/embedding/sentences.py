"""Cutting a note into the sentence spans that get embedded and quoted.

Notes arrive one sentence a line, but pasted prose has several sentences a
line, so lines are cut again at ``. `` boundaries that are not abbreviations
or initials. Spans keep their character offsets into the note: they are the
evidence a coder sees highlighted, so they must point at the original text.
Very long spans are cut near ``max_chars``; the encoder truncates what it
cannot read, and a 2,000-character "sentence" would make useless evidence.
"""

from __future__ import annotations

import re

MAX_SENTENCE_CHARS = 300

# A full stop, question or exclamation mark (with any closing quote or
# bracket) then whitespace then what can start a sentence.
_BOUNDARY = re.compile(r"[.!?][\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")
_LINE = re.compile(r"[^\n\r]+")
_LAST_WORDS = re.compile(r"(\S*)\s*?(\S+)$")

# Lower-cased words that end with a full stop without ending the sentence.
# Units (mg, mm, min) are left out: notes write them without a stop, so a
# stop after one ends the sentence ("a lesion of 5 mm. The patient ...").
_ABBREVIATION_WORDS = """
    dr mr mrs ms prof st jr sr vs e.g i.e eg ie approx appr fig figs ref resp
    dept pt pts dx hx tx rx sx fx b.i.d t.i.d q.i.d p.o i.v i.m s.c q.d
"""
_ABBREVIATIONS = frozenset(_ABBREVIATION_WORDS.split())


def split_sentences(text: str, max_chars: int = MAX_SENTENCE_CHARS) -> list[tuple[int, int]]:
    """``(start, end)`` offsets of the note's sentences, in order.

    Every span is stripped of surrounding whitespace, non-empty and at most
    ``max_chars`` long; ``text[start:end]`` is the sentence.
    """
    if not isinstance(text, str):
        raise TypeError(f"split_sentences needs a str, got {type(text).__name__}")
    if max_chars < 20:
        raise ValueError(f"max_chars must be at least 20, got {max_chars}")
    spans: list[tuple[int, int]] = []
    for line in _LINE.finditer(text):
        for start, end in _line_sentences(text, line.start(), line.end()):
            spans.extend(_cut_long(text, start, end, max_chars))
    return spans


def _line_sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    begin = start
    for boundary in _BOUNDARY.finditer(text, start, end):
        if _is_abbreviation(text[begin : boundary.start()]):
            continue
        spans.append(_strip(text, begin, boundary.end()))
        begin = boundary.end()
    spans.append(_strip(text, begin, end))
    return [(s, e) for s, e in spans if e > s]


def _is_abbreviation(before: str) -> bool:
    """Whether the word before a full stop is an abbreviation or an initial.

    A lone letter is an initial (``J. Doe``) unless a number comes before it,
    where it is a unit ending the sentence (``40.2 C. Then``).
    """
    match = _LAST_WORDS.search(before)
    if match is None:
        return False
    previous, word = match.group(1), match.group(2).lstrip("\"'([").lower()
    if len(word) == 1 and word.isalpha():
        return not previous[-1:].isdigit()
    return word in _ABBREVIATIONS


def _cut_long(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """Cut a span into pieces of at most ``max_chars``, preferring to cut
    after a ``;`` or ``,`` in the second half of a piece, then at a space."""
    pieces: list[tuple[int, int]] = []
    while end - start > max_chars:
        window = text[start : start + max_chars]
        half = max_chars // 2
        cut = max(window.rfind("; ", half), window.rfind(", ", half))
        cut = cut + 1 if cut >= 0 else window.rfind(" ", half)
        cut = cut if cut > 0 else max_chars
        pieces.append(_strip(text, start, start + cut))
        start = _strip(text, start + cut, end)[0]
    pieces.append(_strip(text, start, end))
    return [(s, e) for s, e in pieces if e > s]


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
