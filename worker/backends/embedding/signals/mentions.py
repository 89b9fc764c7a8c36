"""Sentences and candidate mentions of a note, with their clinical context.

spaCy's blank English tokenizer and rule-based sentencizer cut the note
(a line break also ends a sentence: notes arrive one sentence a line);
every run of 1 to ``MAX_GRAM`` word tokens inside a sentence that neither
starts nor ends with a stop word is a candidate mention. negspacy's NegEx
then marks each mention's context: ``negated`` ("no diabetes"), ``family``
("her mother had breast cancer") or ``historical`` ("history of stroke");
otherwise it is ``affirmed``. NegEx runs three times with three trigger sets
(its clinical negation set and our family and history triggers), over
``doc.spans`` so that overlapping mentions are all judged.

Why not medspaCy's ConText and PyRuSH: on Python 3.11 both pin spaCy < 3.8,
which needs numpy < 2 and so cannot be installed beside pyarrow, datasets and
trl. negspacy runs the same NegEx algorithm ConText descends from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from negspacy.negation import Negex
    from spacy.language import Language
    from spacy.tokens import Doc, Span

MAX_GRAM = 5
MAX_SENTENCE_CHARS = 300
SPAN_KEY = "mentions"
AFFIRMED, NEGATED, FAMILY, HISTORICAL = "affirmed", "negated", "family", "historical"

# Preceding triggers only: a relative named before the condition.
_FAMILY_TRIGGERS = (
    "mother", "father", "sister", "brother", "parents", "parent", "son", "daughter",
    "grandmother", "grandfather", "aunt", "uncle", "cousin", "sibling", "siblings",
    "family history", "family history of", "maternal", "paternal", "relatives",
)  # fmt: skip
_HISTORY_TRIGGERS = (
    "history of", "past history of", "past medical history", "personal history of",
    "previous", "previously", "prior", "h/o", "antecedents of", "antecedent of",
)  # fmt: skip
# Clinical abbreviations that end with a full stop without ending the
# sentence, beyond spaCy's English ones (e.g., Dr., initials).
_ABBREVIATIONS = (
    "pt.", "pts.", "dx.", "hx.", "tx.", "rx.", "sx.", "fx.", "approx.", "appr.", "resp.",
    "dept.", "fig.", "figs.", "ref.", "b.i.d.", "t.i.d.", "q.i.d.", "p.o.", "i.v.", "i.m.",
    "s.c.", "q.d.", "vs.",
)  # fmt: skip
_JUDGES = ("negex", FAMILY, HISTORICAL)
_TERMINATION = ("but", "however", "although", "patient", "who", "which", "except")
_WORD = re.compile(r"[^\W_]")  # str.isalnum(), as a regex: a word has a letter or digit


@dataclass(frozen=True, slots=True)
class Mention:
    """A candidate phrase: normalised words, character span, sentence, context."""

    phrase: str
    start: int
    end: int
    sentence: int
    context: str


@dataclass(frozen=True)
class NoteMentions:
    sentences: tuple[tuple[int, int], ...]
    mentions: tuple[Mention, ...]


def analyse(text: str) -> NoteMentions:
    """The note's sentences and mentions (empty for an empty note).

    Each sentence is judged as its own small doc: negspacy walks every span
    of a doc once per sub-sentence boundary, which is quadratic on a whole
    note and linear on its sentences.
    """
    sentences = sentence_spans(text)
    mentions: list[Mention] = []
    for number, (start, end) in enumerate(sentences):
        mentions.extend(
            Mention(phrase, start + first, start + last, number, context)
            for first, last, phrase, context in _judged(text[start:end])
        )
    return NoteMentions(tuple(sentences), tuple(mentions))


def analyse_many(texts: list[str]) -> list[NoteMentions]:
    return [analyse(text) for text in texts]


def sentence_spans(text: str, max_chars: int = MAX_SENTENCE_CHARS) -> list[tuple[int, int]]:
    """``(start, end)`` character spans of the note's sentences, stripped,
    none empty, none longer than ``max_chars`` (longer ones are cut after a
    ``;`` or ``,`` in their second half, else at a space): a 2,000-character
    "sentence" would be useless evidence, and the encoder truncates it."""
    return list(_sentence_spans(text, max_chars))


# A trained model splits each note twice (the zero-shot similarity, then the
# mentions) within one batch: the second split is a lookup.
@lru_cache(maxsize=256)
def _sentence_spans(text: str, max_chars: int) -> tuple[tuple[int, int], ...]:
    if not text.strip():
        return ()
    nlp = _pipeline()
    doc = nlp.get_pipe("sentencizer")(_line_starts(nlp.make_doc(text)))
    spans = [_stripped(text, s.start_char, s.end_char) for s in doc.sents]
    return tuple(piece for s, e in spans if e > s for piece in _cut_long(text, s, e, max_chars))


def normalise(words: str) -> str:
    """The phrase form mentions are keyed by: lower-case word tokens."""
    return " ".join(t.lower_ for t in _pipeline().make_doc(words) if _is_word(t.lower_))


@lru_cache(maxsize=1)
def _pipeline() -> Language:
    # Imported here: the web process imports this module (through the
    # sentence splitter) but never needs spaCy unless it splits a note.
    import spacy
    from negspacy.negation import Negex  # noqa: F401  (registers the "negex" factory)
    from negspacy.termsets import termset

    nlp = spacy.blank("en")
    for word in _ABBREVIATIONS:
        for form in (word, word.capitalize()):
            # spaCy types its tokenizer as any callable; blank("en") has a Tokenizer.
            nlp.tokenizer.add_special_case(form, [{"ORTH": form}])  # type: ignore[union-attr]
    nlp.add_pipe("sentencizer")
    # negspacy ships no type hints.
    negation = termset("en_clinical").get_patterns()  # type: ignore[no-untyped-call]
    nlp.add_pipe("negex", config={"neg_termset": negation, "span_keys": [SPAN_KEY]})
    for name, triggers in ((FAMILY, _FAMILY_TRIGGERS), (HISTORICAL, _HISTORY_TRIGGERS)):
        terms = {
            "pseudo_negations": [],
            "preceding_negations": list(triggers),
            "following_negations": [],
            "termination": list(_TERMINATION),
        }
        config = {"neg_termset": terms, "span_keys": [SPAN_KEY], "extension_name": name}
        nlp.add_pipe("negex", name=name, config=config)
    return nlp


def _line_starts(doc: Doc) -> Doc:
    for token in doc[1:]:
        if "\n" in doc[token.i - 1].text or "\n" in doc[token.i - 1].whitespace_:
            token.is_sent_start = True
    return doc


def _judged(sentence: str) -> list[tuple[int, int, str, str]]:
    """The sentence's candidate mentions: character span, phrase, context."""
    nlp = _pipeline()
    doc = nlp.make_doc(sentence)
    for token in doc:
        token.is_sent_start = token.i == 0
    found = _candidates(doc)
    # A judge marks nothing in a sentence without one of its triggers (most
    # have none): only then are spans made for it to walk.
    judges = [
        (name, judge)
        for name in _JUDGES
        if any((judge := cast("Negex", nlp.get_pipe(name))).process_negations(doc)[:2])
    ]
    if not judges:
        offsets = [(t.idx, t.idx + len(t.text)) for t in doc]
        return [(offsets[a][0], offsets[b - 1][1], phrase, AFFIRMED) for a, b, phrase in found]
    spans = [doc[a:b] for a, b, _ in found]
    doc.spans[SPAN_KEY] = spans
    for _, judge in judges:
        judge(doc)
    judged = {name for name, _ in judges}
    return [
        (span.start_char, span.end_char, phrase, _context(span, judged))
        for span, (_, _, phrase) in zip(spans, found, strict=True)
    ]


def _candidates(doc: Doc) -> list[tuple[int, int, str]]:
    """Every run of 1 to ``MAX_GRAM`` words that neither starts nor ends
    with a stop word: its token range and its phrase (its words, lower-cased)."""
    words = [(t.i, t.lower_, t.is_stop) for t in doc if _is_word(t.lower_)]
    found: list[tuple[int, int, str]] = []
    for i, (first, _, stop) in enumerate(words):
        if stop:
            continue
        # Grown a word at a time: the words of a span are a run of ``words``.
        phrase = ""
        for last, word, last_stop in words[i : i + MAX_GRAM]:
            if last - first >= MAX_GRAM + 2:
                break
            phrase = f"{phrase} {word}" if phrase else word
            if not last_stop:
                found.append((first, last + 1, phrase))
    return found


def _context(span: Span, judged: set[str]) -> str:
    """The context the ``judged`` judges (the others left no mark) gave ``span``."""
    if not judged:
        return AFFIRMED
    marks = span._
    if "negex" in judged and marks.negex:
        return NEGATED
    if FAMILY in judged and marks.get(FAMILY):
        return FAMILY
    if HISTORICAL in judged and marks.get(HISTORICAL):
        return HISTORICAL
    return AFFIRMED


def _is_word(lower: str) -> bool:
    return _WORD.search(lower) is not None


def _cut_long(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    pieces: list[tuple[int, int]] = []
    while end - start > max_chars:
        window = text[start : start + max_chars]
        half = max_chars // 2
        cut = max(window.rfind("; ", half), window.rfind(", ", half))
        cut = cut + 1 if cut >= 0 else window.rfind(" ", half)
        cut = cut if cut > 0 else max_chars
        pieces.append(_stripped(text, start, start + cut))
        start = _stripped(text, start + cut, end)[0]
    pieces.append(_stripped(text, start, end))
    return [(s, e) for s, e in pieces if e > s]


def _stripped(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
