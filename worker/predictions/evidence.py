"""Cutting a note's text around evidence spans, for pages that highlight them.

Spans come from a model, so they may overlap, run past the text or be
reversed; the pieces always cover the text exactly once, in order, and the
template escapes each piece (a note or a model can hold markup).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class TextPiece:
    text: str
    marked: bool
    start: int


def evidence_pieces(text: str, spans: Iterable[Sequence[int]]) -> list[TextPiece]:
    """The text in pieces, ``marked`` where a span covers it."""
    pieces: list[TextPiece] = []
    position = 0
    for start, end in _merged(text, spans):
        if start > position:
            pieces.append(TextPiece(text[position:start], False, position))
        pieces.append(TextPiece(text[start:end], True, start))
        position = end
    if position < len(text) or not pieces:
        pieces.append(TextPiece(text[position:], False, position))
    return pieces


def _merged(text: str, spans: Iterable[Sequence[int]]) -> list[tuple[int, int]]:
    clean = []
    for span in spans:
        if len(span) != 2 or not all(isinstance(bound, int) for bound in span):
            continue
        start, end = sorted((max(0, min(span[0], len(text))), max(0, min(span[1], len(text)))))
        if start < end:
            clean.append((start, end))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(clean):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
