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
            Mention(phrase, start + span.start_char, start + span.end_char, number, context)
            for span, phrase, context in _judged(text[start:end])
        )
    return NoteMentions(tuple(sentences), tuple(mentions))


def analyse_many(texts: list[str]) -> list[NoteMentions]:
    return [analyse(text) for text in texts]


def sentence_spans(text: str, max_chars: int = MAX_SENTENCE_CHARS) -> list[tuple[int, int]]:
    """``(start, end)`` character spans of the note's sentences, stripped,
    none empty, none longer than ``max_chars`` (longer ones are cut after a
    ``;`` or ``,`` in their second half, else at a space): a 2,000-character
    "sentence" would be useless evidence, and the encoder truncates it."""
    if not text.strip():
        return []
    nlp = _pipeline()
    doc = nlp.get_pipe("sentencizer")(_line_starts(nlp.make_doc(text)))
    spans = [_stripped(text, s.start_char, s.end_char) for s in doc.sents]
    return [piece for s, e in spans if e > s for piece in _cut_long(text, s, e, max_chars)]


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


def _judged(sentence: str) -> list[tuple[Span, str, str]]:
    """The sentence's candidate mentions, each with its phrase and context."""
    nlp = _pipeline()
    doc = nlp.make_doc(sentence)
    for token in doc:
        token.is_sent_start = token.i == 0
    found = _candidates(doc)
    doc.spans[SPAN_KEY] = [span for span, _ in found]
    judged: set[str] = set()
    for name in _JUDGES:
        judge = cast("Negex", nlp.get_pipe(name))
        # A judge marks nothing in a sentence without one of its triggers
        # (most have none): skip its walk over every span, and reading its marks.
        preceding, following, _ = judge.process_negations(doc)
        if preceding or following:
            judge(doc)
            judged.add(name)
    return [(span, phrase, _context(span, judged)) for span, phrase in found]


def _candidates(doc: Doc) -> list[tuple[Span, str]]:
    """Every run of 1 to ``MAX_GRAM`` words that neither starts nor ends
    with a stop word, with its phrase (its words, lower-cased)."""
    words = [t for t in doc if _is_word(t.lower_)]
    found: list[tuple[Span, str]] = []
    for i, first in enumerate(words):
        if first.is_stop:
            continue
        # Grown a word at a time: the words of a span are a run of ``words``.
        phrase = ""
        for last in words[i : i + MAX_GRAM]:
            if last.i - first.i >= MAX_GRAM + 2:
                break
            phrase = f"{phrase} {last.lower_}" if phrase else last.lower_
            if not last.is_stop:
                found.append((doc[first.i : last.i + 1], phrase))
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
    return any(ch.isalnum() for ch in lower)


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
