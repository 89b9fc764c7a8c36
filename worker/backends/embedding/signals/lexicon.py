"""The mention lexicon: phrases that evidence a code, learned from decisions.

Mining (``lexicon_fit``): a phrase evidences a code when the notes whose
final codes hold the code mention it (affirmed or as history) more often
than chance: its precision is ``notes with phrase and code / (notes with
phrase + 2)`` (the +2 keeps a phrase seen in two notes from scoring 1.0). A phrase
needs ``min_support`` such notes and ``min_precision``; each phrase keeps its
``per_phrase`` best codes. A coder's marked evidence is stronger: a marked
phrase holds its code with precision at least ``marked / (marked + 1)``
from the first mark. Phrases said of a relative are mined apart (they
evidence family-history codes); a family mention of a phrase that only the
affirmed lexicon knows maps through ``family_history``.

Matching (``lexicon_match``) reads the mentions of ``mentions.analyse``: an
affirmed or historical mention scores its codes, a negated one only counts
as "negated" (the ranker learns what that is worth: "no diabetes" is not E11).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from coding_app.codes.hierarchy import Hierarchy
from worker.backends.embedding.signals.family_history import family_history_code
from worker.backends.embedding.signals.mentions import (
    FAMILY,
    MAX_GRAM,
    NEGATED,
    Mention,
    NoteMentions,
    normalise,
)

# phrase -> ((code, precision, support), ...), best first
Entries = dict[str, tuple[tuple[str, float, int], ...]]


@dataclass(frozen=True)
class LexiconSettings:
    min_support: int = 2
    min_precision: float = 0.15
    per_phrase: int = 5


@dataclass(frozen=True)
class Lexicon:
    affirmed: Entries
    family: Entries


@dataclass
class Hit:
    """What the lexicon found for one code in one note."""

    score: float = 0.0
    support: int = 0
    phrase: str = ""
    mentions: int = 0
    negated: int = 0
    historical: int = 0
    family: bool = False
    spans: list[tuple[int, int]] = field(default_factory=list)


@dataclass(frozen=True)
class LabelledMentions:
    """A training note as the lexicon sees it."""

    mentions: NoteMentions
    codes: frozenset[str]
    # code -> evidence texts coders marked for it
    evidence: Mapping[str, Sequence[str]] = field(default_factory=dict)


def lexicon_fit(notes: Sequence[LabelledMentions], settings: LexiconSettings) -> Lexicon:
    affirmed = _mine(notes, settings, family=False)
    family = _mine(notes, settings, family=True)
    marked = _marked(notes)
    for phrase, codes in marked.items():
        known = dict((c, (p, n)) for c, p, n in affirmed.get(phrase, ()))
        for code, count in codes.items():
            precision, support = known.get(code, (0.0, 0))
            known[code] = (max(precision, count / (count + 1)), support + count)
        affirmed[phrase] = _best(known, settings.per_phrase)
    return Lexicon(affirmed=affirmed, family=family)


def lexicon_match(lexicon: Lexicon, note: NoteMentions, hierarchy: Hierarchy) -> dict[str, Hit]:
    hits: dict[str, Hit] = defaultdict(Hit)
    for mention in note.mentions:
        if mention.context == FAMILY:
            _family(lexicon, mention, hierarchy, hits)
            continue
        for code, precision, support in lexicon.affirmed.get(mention.phrase, ()):
            hit = hits[code]
            if mention.context == NEGATED:
                hit.negated += 1
                continue
            _score(hit, mention, precision, support)
    return {code: hit for code, hit in hits.items() if hit.score > 0 or hit.negated}


def _family(lexicon: Lexicon, mention: Mention, hierarchy: Hierarchy, hits: dict[str, Hit]) -> None:
    learned = lexicon.family.get(mention.phrase, ())
    mapped = (
        (family, precision, support)
        for code, precision, support in lexicon.affirmed.get(mention.phrase, ())
        if (family := family_history_code(code, hierarchy)) is not None
    )
    for code, precision, support in learned or tuple(mapped):
        hit = hits[code]
        hit.family = True
        _score(hit, mention, precision, support)


def _score(hit: Hit, mention: Mention, precision: float, support: int) -> None:
    """Count the mention; its span is evidence only if its phrase is the
    code's surest here (weaker matches of the code add no highlight)."""
    hit.mentions += 1
    hit.historical += mention.context == "historical"
    span = (mention.start, mention.end)
    # The surest phrase, then the most seen, then the longest ("type 2
    # diabetes" over "type", which can be as sure in a small lexicon).
    if (precision, support, len(mention.phrase)) > (hit.score, hit.support, len(hit.phrase)):
        hit.score, hit.support, hit.phrase = precision, support, mention.phrase
        hit.spans = [span]
    elif mention.phrase == hit.phrase and span not in hit.spans and len(hit.spans) < 3:
        hit.spans.append(span)


def _mine(notes: Sequence[LabelledMentions], settings: LexiconSettings, *, family: bool) -> Entries:
    frequency: Counter[str] = Counter()
    together: dict[str, Counter[str]] = defaultdict(Counter)
    for note in notes:
        phrases = {
            m.phrase
            for m in note.mentions.mentions
            if (m.context == FAMILY) == family and m.context != NEGATED
        }
        frequency.update(phrases)
        for phrase in phrases:
            together[phrase].update(note.codes)
    entries: Entries = {}
    for phrase, codes in together.items():
        kept = {
            code: (count / (frequency[phrase] + 2), count)
            for code, count in codes.items()
            if count >= settings.min_support
            and count / (frequency[phrase] + 2) >= settings.min_precision
        }
        if kept:
            entries[phrase] = _best(kept, settings.per_phrase)
    return entries


def _marked(notes: Sequence[LabelledMentions]) -> dict[str, Counter[str]]:
    marked: dict[str, Counter[str]] = defaultdict(Counter)
    for note in notes:
        for code, texts in note.evidence.items():
            for phrase in {normalise(text) for text in texts}:
                if phrase and len(phrase.split()) <= MAX_GRAM and code in note.codes:
                    marked[phrase][code] += 1
    return marked


def _best(kept: Mapping[str, tuple[float, int]], limit: int) -> tuple[tuple[str, float, int], ...]:
    ranked = sorted(kept.items(), key=lambda item: (-item[1][0], -item[1][1], item[0]))
    return tuple((code, round(p, 4), n) for code, (p, n) in ranked[:limit])
