"""The learned signals of one fit, and every signal's answer for a batch of notes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from coding_app.codes.hierarchy import Hierarchy
from worker.backends.embedding.signals.features import NoteSignals
from worker.backends.embedding.signals.feedback import Feedback, ReviewedNote, feedback_fit
from worker.backends.embedding.signals.lexicon import (
    LabelledMentions,
    Lexicon,
    LexiconSettings,
    lexicon_fit,
    lexicon_match,
)
from worker.backends.embedding.signals.mentions import NoteMentions
from worker.backends.embedding.signals.text_model import (
    TextModel,
    TextModelSettings,
    text_model_fit,
    text_scores,
)

CLASSIFIER_KEPT = 200


@dataclass(frozen=True)
class SignalSettings:
    lexicon: LexiconSettings = field(default_factory=LexiconSettings)
    text: TextModelSettings = field(default_factory=TextModelSettings)


@dataclass
class Signals:
    lexicon: Lexicon
    text: TextModel
    feedback: Feedback


def signals_fit(
    notes: Sequence[ReviewedNote], mentions: Sequence[NoteMentions], settings: SignalSettings
) -> Signals:
    labelled = [
        LabelledMentions(m, note.codes, note.evidence)
        for note, m in zip(notes, mentions, strict=True)
    ]
    return Signals(
        lexicon=lexicon_fit(labelled, settings.lexicon),
        text=text_model_fit([n.text for n in notes], [n.codes for n in notes], settings.text),
        feedback=feedback_fit(notes),
    )


def notes_signals(
    signals: Signals,
    texts: Sequence[str],
    mentions: Sequence[NoteMentions],
    zero_shot: Sequence[Mapping[str, float]],
    hierarchy: Hierarchy,
) -> list[NoteSignals]:
    scores = text_scores(signals.text, texts)
    codes, categories = signals.text.codes, signals.text.categories
    by_category = scores.category_classifier
    answers = []
    for i, note in enumerate(mentions):
        count = scores.neighbour_count[i]
        kept = count.nonzero()[0]
        answers.append(
            NoteSignals(
                mentions=note,
                hits=lexicon_match(signals.lexicon, note, hierarchy),
                neighbour_share={codes[j]: float(scores.neighbour_share[i, j]) for j in kept},
                neighbour_count={codes[j]: float(count[j]) for j in kept},
                classifier=_best_classified(codes, scores.classifier[i]),
                category_classifier=dict(zip(categories, by_category[i].tolist(), strict=True)),
                zero_shot=zero_shot[i],
            )
        )
    return answers


def _best_classified(codes: tuple[str, ...], row: np.ndarray) -> dict[str, float]:
    """The ``CLASSIFIER_KEPT`` best classifier scores of a note: ranks below
    those never make a candidate, and the features read the best ones."""
    kept = np.flatnonzero(row)
    if len(kept) > CLASSIFIER_KEPT:
        kept = kept[np.argpartition(-row[kept], CLASSIFIER_KEPT - 1)[:CLASSIFIER_KEPT]]
    return {codes[j]: float(row[j]) for j in kept}
