"""Ranking a batch of notes with a fitted suggester, and saying why.

Each candidate gets the ranker's calibrated probability; the codes at or
above the cut-off are suggested, best first. Evidence is the mention that
put the code there (a lexicon or terminology match: that code's own
sentence, not the note's best sentence for everything); the rationale says
in a line which signals did ("similar to 12 reviewed notes; 'type 2
diabetes' in sentence 3; classifier 0.81").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from coding_app.codes.hierarchy import Hierarchy
from worker.backends.embedding.signals.features import (
    FEATURES,
    CandidateRows,
    NoteSignals,
    candidate_rows,
)
from worker.backends.embedding.signals.fit import Fitted
from worker.backends.embedding.signals.mentions import NoteMentions
from worker.backends.embedding.signals.signals import notes_signals
from worker.backends.embedding.signals.terminology import Terminology

_COLUMN = {name: i for i, name in enumerate(FEATURES)}
EXPLAINED = 30


@dataclass(frozen=True)
class RankedCode:
    code: str
    probability: float
    evidence: tuple[tuple[int, int], ...]
    rationale: str


def rank_notes(
    fitted: Fitted,
    texts: Sequence[str],
    mentions: Sequence[NoteMentions],
    zero_shot: Sequence[Mapping[str, float]],
    *,
    hierarchy: Hierarchy,
    terminology: Terminology,
    billable: frozenset[str],
    explained: int = EXPLAINED,
) -> list[list[RankedCode]]:
    """Every candidate of every note, most probable first; the ``explained``
    first of each note carry their rationale (the rest are ranked for MAP
    and never shown)."""
    answers = notes_signals(fitted.signals, texts, mentions, zero_shot, hierarchy)
    if not answers:
        return []
    rows = [candidate_rows(a, fitted.signals.feedback, terminology, billable) for a in answers]
    # One ranker call for the whole batch: a call costs as much as a few
    # hundred rows, and a row's probability does not depend on the others.
    every, raw = fitted.ranker.scored(np.vstack([found.rows for found in rows]))
    cuts = np.cumsum([len(found.codes) for found in rows])[:-1]
    ranked = []
    for answer, found, probabilities, scores in zip(
        answers, rows, np.split(every, cuts), np.split(raw, cuts), strict=True
    ):
        order = sorted(
            range(len(found.codes)), key=lambda i: (-probabilities[i], -scores[i], found.codes[i])
        )
        ranked.append(
            [
                _ranked(answer, found, i, float(probabilities[i]), explain=rank < explained)
                for rank, i in enumerate(order)
            ]
        )
    return ranked


def _ranked(
    answer: NoteSignals, found: CandidateRows, i: int, probability: float, *, explain: bool
) -> RankedCode:
    code = found.codes[i]
    hit = answer.hits.get(code)
    spans = tuple(hit.spans) if hit is not None and hit.score > 0 else ()
    spans = spans or tuple(found.terminology.get(code, ())[:3])
    return RankedCode(code, probability, spans, rationale(answer, found, i) if explain else "")


def rationale(answer: NoteSignals, found: CandidateRows, i: int) -> str:
    row, code = found.rows[i], found.codes[i]
    said: list[str] = []
    count = int(row[_COLUMN["neighbour_count"]])
    if count:
        said.append(f"similar to {count} reviewed note{'s' if count != 1 else ''}")
    hit = answer.hits.get(code)
    if hit is not None and hit.score > 0:
        where = _sentence_number(answer.mentions, hit.spans[0][0]) if hit.spans else 0
        kind = "family history: " if hit.family else ""
        said.append(f"{kind}'{hit.phrase}' in sentence {where}")
    elif code in found.terminology:
        start = found.terminology[code][0][0]
        said.append(
            f"named as in the code set in sentence {_sentence_number(answer.mentions, start)}"
        )
    if row[_COLUMN["lexicon_negated"]] or row[_COLUMN["terminology_negated"]]:
        said.append("also mentioned as negated")
    classifier = float(row[_COLUMN["classifier"]])
    if classifier >= 0.1:
        said.append(f"classifier {classifier:.2f}")
    if row[_COLUMN["zero_shot_rank"]] < 3:
        said.append("close to the code's description")
    return "; ".join(said) or "ranked by the model's learned signals"


def _sentence_number(mentions: NoteMentions, start: int) -> int:
    for number, (begin, end) in enumerate(mentions.sentences, start=1):
        if begin <= start < end:
            return number
    return 0
