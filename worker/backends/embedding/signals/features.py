"""Candidates of a note and the feature row of each (note, candidate code).

Candidates come from every signal: the lexicon's and the terminology's
matches, the classifiers' and the nearest notes' best codes, and the
zero-shot similarity's best codes. Each row holds every signal's view of the
code, what coders did with it before, and how many other candidates share
its category (codes that agree in the hierarchy back each other up), and
each signal's best view of the code's category: a note whose neighbours all
carry some I21 code makes every I21 candidate likelier, and the ranker
learns which of them by the code's own scores beside its category's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from worker.backends.embedding.signals.feedback import Feedback
from worker.backends.embedding.signals.lexicon import Hit
from worker.backends.embedding.signals.mentions import AFFIRMED, NEGATED, NoteMentions
from worker.backends.embedding.signals.terminology import Terminology

FEATURES = (
    "lexicon", "lexicon_support", "lexicon_mentions", "lexicon_negated", "lexicon_history",
    "lexicon_family", "terminology", "terminology_negated", "neighbours", "neighbour_count",
    "classifier", "classifier_rank", "zero_shot", "zero_shot_rank", "prior", "category_prior",
    "reject_rate", "same_category", "category_neighbours", "category_classifier",
    "category_lexicon", "category_zero_shot", "category_model",
)  # fmt: skip
FROM_CLASSIFIER = 50
FROM_NEIGHBOURS = 50
# A fifth of CodiEsp's dev codes were never given to a train report: only the
# zero-shot similarity (and the code set's words) can bring those, so it
# brings more than the learned signals' best few (10 -> 25 raised dev MAP
# by 0.005; 50 added rows and nothing else).
FROM_ZERO_SHOT = 25


@dataclass(frozen=True)
class NoteSignals:
    """Every signal's answer for one note, before ranking."""

    mentions: NoteMentions
    hits: Mapping[str, Hit]
    neighbour_share: Mapping[str, float]
    neighbour_count: Mapping[str, float]
    classifier: Mapping[str, float]
    zero_shot: Mapping[str, float]  # the best codes' calibrated similarity
    category_classifier: Mapping[str, float]  # category -> its classifier's score


@dataclass(frozen=True)
class CandidateRows:
    codes: list[str]
    rows: np.ndarray  # candidates x FEATURES
    terminology: dict[str, list[tuple[int, int]]]  # code -> mention spans


def candidate_rows(
    note: NoteSignals, feedback: Feedback, terminology: Terminology, billable: frozenset[str]
) -> CandidateRows:
    named, named_negated = _terminology(note.mentions, terminology)
    classifier_rank = _ranks(note.classifier)
    zero_rank = _ranks(note.zero_shot)
    candidates = {c for c, hit in note.hits.items() if hit.score > 0} | set(named)
    candidates |= {c for c, r in classifier_rank.items() if r < FROM_CLASSIFIER}
    candidates |= set(_best(note.neighbour_share, FROM_NEIGHBOURS))
    candidates |= {c for c, r in zero_rank.items() if r < FROM_ZERO_SHOT}
    codes = sorted(c for c in candidates if c in billable)
    categories = Counter(code[:3] for code in codes)
    neighbours = _category_sum(note.neighbour_share)
    classifier = _category_max(note.classifier)
    lexicon = _category_max({c: hit.score for c, hit in note.hits.items()})
    zero_shot = _category_max(note.zero_shot)
    rows = np.zeros((len(codes), len(FEATURES)), dtype=np.float32)
    for i, code in enumerate(codes):
        hit = note.hits.get(code) or Hit()
        category = code[:3]
        rows[i] = (
            hit.score, np.log1p(hit.support), hit.mentions, hit.negated, hit.historical,
            hit.family, len(named.get(code, ())), named_negated.get(code, 0),
            note.neighbour_share.get(code, 0.0), note.neighbour_count.get(code, 0.0),
            note.classifier.get(code, 0.0), classifier_rank.get(code, 999),
            note.zero_shot.get(code, 0.0), zero_rank.get(code, 999), feedback.prior(code),
            feedback.category_prior(code), feedback.reject_rate(code), categories[category] - 1,
            neighbours.get(category, 0.0), classifier.get(category, 0.0),
            lexicon.get(category, 0.0), zero_shot.get(category, 0.0),
            note.category_classifier.get(category, 0.0),
        )  # fmt: skip
    return CandidateRows(codes, rows, named)


def _terminology(
    mentions: NoteMentions, terminology: Terminology
) -> tuple[dict[str, list[tuple[int, int]]], Counter[str]]:
    named: dict[str, list[tuple[int, int]]] = {}
    negated: Counter[str] = Counter()
    for mention in mentions.mentions:
        for code in terminology.get(mention.phrase, ()):
            if mention.context == NEGATED:
                negated[code] += 1
            elif mention.context in (AFFIRMED, "historical"):
                named.setdefault(code, []).append((mention.start, mention.end))
    return named, negated


def _category_sum(scores: Mapping[str, float]) -> dict[str, float]:
    summed: dict[str, float] = {}
    for code, score in scores.items():
        summed[code[:3]] = summed.get(code[:3], 0.0) + score
    return summed


def _category_max(scores: Mapping[str, float]) -> dict[str, float]:
    best: dict[str, float] = {}
    for code, score in scores.items():
        if score > best.get(code[:3], float("-inf")):
            best[code[:3]] = score
    return best


def _ranks(scores: Mapping[str, float]) -> dict[str, int]:
    ordered = sorted(scores, key=lambda code: (-scores[code], code))
    return {code: rank for rank, code in enumerate(ordered)}


def _best(scores: Mapping[str, float], limit: int) -> list[str]:
    return [c for c in sorted(scores, key=lambda c: -scores[c])[:limit] if scores[c] > 0]
