"""The review page's note in pieces: the model's evidence and the coder's.

Both kinds of span go through ``worker.predictions.evidence`` (which clamps,
orders and merges them), then the text is cut wherever either kind starts
or ends, so each piece says which evidence covers it. Carriage returns are
written as character references: an HTML parser turns a raw one into a line
feed, and the coder's selection offsets must count the note's characters.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from worker.predictions.evidence import TextPiece, evidence_pieces


@dataclass(frozen=True)
class NotePiece:
    text: str
    start: int
    model: bool
    coder: bool

    @property
    def marked(self) -> bool:
        return self.model or self.coder

    @property
    def markup(self) -> SafeString:
        """The piece's text, escaped, with its carriage returns kept."""
        return mark_safe(escape(self.text).replace("\r", "&#13;"))


def note_pieces(
    text: str, model_spans: Iterable[Sequence[int]], coder_spans: Iterable[Sequence[int]]
) -> list[NotePiece]:
    """The text in pieces that cover it once, in order, each flagged with
    the kinds of evidence over it."""
    model = _Marks(evidence_pieces(text, model_spans))
    coder = _Marks(evidence_pieces(text, coder_spans))
    cuts = sorted({*model.starts, *coder.starts, len(text)})
    return [
        NotePiece(text[start:end], start, model.covers(start), coder.covers(start))
        for start, end in pairwise(cuts)
    ] or [NotePiece(text, 0, False, False)]


class _Marks:
    """One kind of evidence as pieces, asked which positions it covers."""

    def __init__(self, pieces: list[TextPiece]) -> None:
        self.pieces = pieces
        self.starts = [piece.start for piece in pieces]

    def covers(self, at: int) -> bool:
        return self.pieces[bisect_right(self.starts, at) - 1].marked
