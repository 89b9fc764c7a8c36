"""Sentences and mention context: what the lexicon may count as evidence."""

from __future__ import annotations

import pytest

from worker.backends.embedding.sentences import split_sentences
from worker.backends.embedding.signals.mentions import (
    AFFIRMED,
    FAMILY,
    HISTORICAL,
    NEGATED,
    analyse,
    normalise,
)


def contexts(text: str, phrase: str) -> set[str]:
    return {m.context for m in analyse(text).mentions if m.phrase == phrase}


def test_sentences_end_before_markup_and_at_line_breaks() -> None:
    text = (
        "NSTEMI confirmed by troponin. <b>History</b> of smoking.\nFever 40.2. Dr. Smith saw him."
    )
    pieces = [text[s:e] for s, e in split_sentences(text)]
    assert pieces == [
        "NSTEMI confirmed by troponin.",
        "<b>History</b> of smoking.",
        "Fever 40.2.",
        "Dr. Smith saw him.",
    ]


def test_a_long_sentence_is_cut_at_a_comma() -> None:
    text = "Pain, " * 80 + "end."
    spans = split_sentences(text, max_chars=100)
    assert len(spans) > 4
    assert all(e - s <= 100 and text[s:e] == text[s:e].strip() for s, e in spans)


@pytest.mark.parametrize(
    ("text", "phrase", "context"),
    [
        ("The patient has no diabetes.", "diabetes", NEGATED),
        ("Denies chest pain.", "chest pain", NEGATED),
        ("Her mother had breast cancer.", "breast cancer", FAMILY),
        ("Family history of colon cancer.", "colon cancer", FAMILY),
        ("History of stroke in 2019.", "stroke", HISTORICAL),
        ("He has type 2 diabetes.", "type 2 diabetes", AFFIRMED),
    ],
)
def test_each_mention_gets_its_context(text: str, phrase: str, context: str) -> None:
    assert contexts(text, phrase) == {context}


def test_context_stops_at_the_end_of_its_sentence() -> None:
    text = "No fever. Diabetes since 2001."
    assert contexts(text, "fever") == {NEGATED}
    assert contexts(text, "diabetes") == {AFFIRMED}


def test_mentions_point_at_the_note_text() -> None:
    text = "Fever.\n  Acute cholecystitis on ultrasound, no gallstones."
    found = analyse(text)
    for mention in found.mentions:
        assert normalise(text[mention.start : mention.end]) == mention.phrase
        start, end = found.sentences[mention.sentence]
        assert start <= mention.start < mention.end <= end
    assert "acute cholecystitis" in {m.phrase for m in found.mentions}
    assert all(not m.phrase.startswith("on ") for m in found.mentions)


def test_an_empty_note_has_nothing() -> None:
    assert analyse("   \n").mentions == ()
    assert split_sentences("") == []
