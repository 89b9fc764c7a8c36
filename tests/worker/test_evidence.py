from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from worker.predictions.evidence import evidence_pieces


def test_spans_are_marked_and_the_rest_kept() -> None:
    pieces = evidence_pieces("abc def ghi", [[4, 7]])
    assert [(p.text, p.marked) for p in pieces] == [("abc ", False), ("def", True), (" ghi", False)]


def test_overlapping_reversed_and_out_of_range_spans_are_tidied() -> None:
    # Spans come from JSON stored by any backend: malformed ones must be skipped.
    spans: list[Any] = [[2, 5], [4, 6], [9, 2000], [8, 7], [3], ["a", 1]]
    pieces = evidence_pieces("0123456789", spans)
    assert [(p.text, p.marked) for p in pieces] == [
        ("01", False),
        ("2345", True),
        ("6", False),
        ("7", True),
        ("8", False),
        ("9", True),
    ]


def test_empty_text_gives_one_empty_piece() -> None:
    assert [(p.text, p.marked) for p in evidence_pieces("", [[0, 3]])] == [("", False)]


@given(
    st.text(max_size=60),
    st.lists(st.tuples(st.integers(-5, 80), st.integers(-5, 80)).map(list), max_size=6),
)
def test_pieces_always_cover_the_text_once_in_order(text: str, spans: list[list[int]]) -> None:
    pieces = evidence_pieces(text, spans)
    assert "".join(p.text for p in pieces) == text
    assert [p.start for p in pieces] == sorted(p.start for p in pieces)
