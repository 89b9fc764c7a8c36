"""Cutting a note into the sentence spans that get embedded and quoted.

One splitter for the whole model: spaCy's sentencizer, with a line break
ending a sentence too (``signals.mentions.sentence_spans``), so the zero-shot
similarity, the mention lexicon and the evidence a coder sees highlighted
agree on what a sentence is. Spans keep their character offsets into the
note: they are the evidence, so they must point at the original text.
"""

from __future__ import annotations

from worker.backends.embedding.signals.mentions import MAX_SENTENCE_CHARS, sentence_spans

__all__ = ["MAX_SENTENCE_CHARS", "split_sentences"]


def split_sentences(text: str, max_chars: int = MAX_SENTENCE_CHARS) -> list[tuple[int, int]]:
    """``(start, end)`` offsets of the note's sentences, in order; every span
    is stripped, non-empty and at most ``max_chars`` long."""
    if not isinstance(text, str):
        raise TypeError(f"split_sentences needs a str, got {type(text).__name__}")
    if max_chars < 20:
        raise ValueError(f"max_chars must be at least 20, got {max_chars}")
    return sentence_spans(text, max_chars)
